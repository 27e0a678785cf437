// "/bookings": the signed-in user's bookings, newest first, with their events; cancel a place from here.

import * as api from "../api.js";
import { badge, busy, eventWhen, pager } from "../components.js";
import { append, h, messageArea, show, uid } from "../dom.js";
import { moment } from "../format.js";
import { signInPath } from "../router.js";

const ACTIVE = ["confirmed", "waitlisted"];

function bookingItem(booking, area) {
  const id = uid("booking");
  const event = booking.event_summary;
  const status = h("span", {}, badge(booking.status));
  const actions = h("div", { class: "card-actions" });
  const detail = h("p", { class: "meta" }, `Booked ${moment(booking.created_at)}`);

  function drawActions() {
    if (!ACTIVE.includes(booking.status)) {
      actions.replaceChildren();
      return;
    }
    const label = booking.status === "waitlisted" ? "Leave the waitlist" : "Cancel booking";
    const button = h("button", { type: "button", class: "button button-secondary", "aria-describedby": id }, label);
    button.addEventListener("click", () =>
      busy(button, async () => {
        booking = await api.cancelBooking(booking.id);
        status.replaceChildren(badge(booking.status));
        detail.textContent = `Booked ${moment(booking.created_at)} · cancelled ${moment(booking.cancelled_at)}`;
        drawActions();
        show(area, "success", `Your booking for “${event ? event.title : "a deleted event"}” is cancelled.`);
        heading.focus();
      }, "Cancelling…").catch((error) =>
        show(area, "error", error.message, error.sessionEnded ? h("a", { href: signInPath() }, " Sign in") : ""),
      ),
    );
    actions.replaceChildren(button);
  }

  if (booking.cancelled_at) detail.append(` · cancelled ${moment(booking.cancelled_at)}`);
  const heading = h(
    "h2",
    { id, tabindex: "-1" },
    event ? h("a", { href: `/events/${encodeURIComponent(event.id)}` }, event.title) : "A deleted event",
  );
  drawActions();
  return h(
    "li",
    { class: "card" },
    h(
      "article",
      { "aria-labelledby": id },
      heading,
      h("p", {}, status, event && event.status === "cancelled" ? h("span", {}, " ", badge("cancelled"), " event") : ""),
      event ? h("p", {}, eventWhen(event)) : "",
      event && event.location ? h("p", {}, event.location) : "",
      detail,
      actions,
    ),
  );
}

export async function render(root, ctx) {
  const cursor = ctx.query.get("cursor");
  const page = await api.myBookings({ cursor }, ctx.signal);
  ctx.setTitle("My bookings");
  const area = messageArea();
  append(root, 
    h("h1", {}, "My bookings"),
    area,
    page.results.length
      ? h("ul", { class: "cards" }, page.results.map((booking) => bookingItem(booking, area)))
      : h("p", { class: "empty" }, "You have no bookings yet. ", h("a", { href: "/" }, "Find an event")),
    pager("/bookings", { cursor, next: page.next }, "Booking pages"),
  );
}
