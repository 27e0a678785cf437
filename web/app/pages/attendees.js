// "/dashboard/events/<id>/attendees": who booked an event (its creator and staff only), newest first.

import * as api from "../api.js";
import { badge, pager } from "../components.js";
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
  const seats = event.capacity === null ? `${event.seats_booked} seats booked (no limit)` : `${event.seats_booked} of ${event.capacity} seats booked`;
  append(root, 
    h("h1", {}, `Attendees of “${event.title}”`),
    h("p", {}, seats, ". ", h("a", { href: `/events/${encodeURIComponent(event.id)}` }, "See the event page"), " · ", h("a", { href: "/dashboard" }, "Back to your events")),
    page.results.length
      ? h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            {},
            h("caption", {}, cursor ? "Bookings (a later page), newest first" : "Bookings, newest first"),
            h("thead", {}, h("tr", {}, ["Username", "Status", "Booked", "Cancelled"].map((name) => h("th", { scope: "col" }, name)))),
            h(
              "tbody",
              {},
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
            ),
          ),
        )
      : h("p", { class: "empty" }, "Nobody has booked yet."),
    pager(path, { cursor, next: page.next }, "Attendee pages"),
  );
}
