// "/dashboard/events/<id>/attendees": who booked an event (its creator and staff only), newest first.

import * as api from "../api.js";
import { badge, pager, seatsBooked, table } from "../components.js";
import { append, h } from "../dom.js";
import { moment } from "../format.js";

export async function render(root, ctx) {
  const cursor = ctx.query.get("cursor");
  const [event, page] = await Promise.all([
    api.getEvent(ctx.params.id, ctx.signal),
    api.eventBookings(ctx.params.id, { cursor }, ctx.signal),
  ]);
  ctx.setTitle(`Attendees of ${event.title}`);
  const path = `/dashboard/events/${encodeURIComponent(event.id)}/attendees`;
  const eventPath = `/events/${encodeURIComponent(event.id)}`;
  append(
    root,
    h("h1", {}, `Attendees of “${event.title}”`),
    h(
      "p",
      {},
      `${seatsBooked(event)}. `,
      h("a", { href: eventPath }, "See the event page"),
      " · ",
      h("a", { href: "/dashboard" }, "Back to your events"),
    ),
    page.results.length
      ? table(
          cursor ? "Bookings (a later page), newest first" : "Bookings, newest first",
          ["Username", "Status", "Booked", "Cancelled"],
          page.results.map((booking) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, booking.username),
              h("td", {}, badge(booking.status)),
              h("td", {}, moment(booking.created_at)),
              h("td", {}, booking.cancelled_at ? moment(booking.cancelled_at) : "—"),
            ),
          ),
        )
      : h("p", { class: "empty" }, "Nobody has booked yet."),
    pager(path, { cursor, next: page.next }, "Attendee pages"),
  );
}
