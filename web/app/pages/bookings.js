// "/bookings": the signed-in user's bookings, newest first, with their events; cancel a place from here, or
// pay for a seat held for payment (a paid event's booking, or a waiting place that got a freed seat).

import * as api from "../api.js";
import { badge, busy, eventWhen, holdNotice, pager, refundText } from "../components.js";
import { append, h, messageArea, show, uid } from "../dom.js";
import { moment } from "../format.js";
import { signInPath } from "../router.js";

const CANCEL_LABELS = {
  confirmed: ["Cancel booking", "Cancelling…"],
  pending_payment: ["Release my seat", "Releasing…"],
  waitlisted: ["Leave the waitlist", "Leaving…"],
};

function bookingItem(booking, area) {
  const id = uid("booking");
  const event = booking.event_summary;
  const status = h("span", {}, badge(booking.status));
  const state = h("div");
  const actions = h("div", { class: "card-actions" });
  const detail = h("p", { class: "meta" }, `Booked ${moment(booking.created_at)}`);

  function drawState() {
    const refund = refundText(booking);
    state.replaceChildren(
      booking.status === "pending_payment" ? holdNotice(booking, { describedBy: id }) : "",
      booking.status === "expired" ? h("p", {}, "The hold ended before payment: the seat was released.") : "",
      refund ? h("p", {}, refund) : "",
    );
  }

  function drawActions() {
    if (!api.ACTIVE.includes(booking.status)) {
      actions.replaceChildren();
      return;
    }
    const [label, busyLabel] = CANCEL_LABELS[booking.status];
    const button = h("button", { type: "button", class: "button button-secondary", "aria-describedby": id }, label);
    button.addEventListener("click", () =>
      busy(button, async () => {
        booking = await api.cancelBooking(booking.id);
        status.replaceChildren(badge(booking.status));
        detail.textContent = `Booked ${moment(booking.created_at)} · cancelled ${moment(booking.cancelled_at)}`;
        drawState();
        drawActions();
        const refund = refundText(booking);
        const done = `Your booking for “${event ? event.title : "a deleted event"}” is cancelled.`;
        show(area, "success", refund ? `${done} ${refund}` : done);
        heading.focus();
      }, busyLabel).catch((error) =>
        show(area, "error", error.message, error.sessionEnded ? h("a", { href: signInPath() }, " Sign in") : ""),
      ),
    );
    actions.replaceChildren(button);
  }

  if (booking.cancelled_at) detail.append(` · ${booking.status === "expired" ? "expired" : "cancelled"} ${moment(booking.cancelled_at)}`);
  const heading = h(
    "h2",
    { id, tabindex: "-1" },
    event ? h("a", { href: `/events/${encodeURIComponent(event.id)}` }, event.title) : "A deleted event",
  );
  drawState();
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
      state,
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
  append(
    root,
    h("h1", {}, "My bookings"),
    area,
    page.results.length
      ? h("ul", { class: "cards" }, page.results.map((booking) => bookingItem(booking, area)))
      : h("p", { class: "empty" }, "You have no bookings yet. ", h("a", { href: "/" }, "Find an event")),
    pager("/bookings", { cursor, next: page.next }, "Booking pages"),
  );
}
