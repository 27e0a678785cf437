// "/bookings": the signed-in user's bookings, newest first, with their events; cancel a place from here, or
// pay for a seat held for payment (a paid event's booking, or a waiting place that got a freed seat).
// Cancelling a paid seat asks first, saying what the refund policy does with the money now; an ended booking
// says why it ended (its owner, the organizer, staff, the event's cancellation, the payment page left) and
// where its money stands.

import * as api from "../api.js";
import {
  badge,
  bookingBadge,
  busy,
  confirmDialog,
  endedText,
  eventWhen,
  holdNotice,
  pager,
  refundKind,
  refundPromise,
  refundText,
  settlingText,
} from "../components.js";
import { append, fill, h, messageArea, show, uid } from "../dom.js";
import { moment } from "../format.js";
import { signInPath } from "../navigation.js";

const CANCEL_LABELS = {
  confirmed: ["Cancel booking", "Cancelling…"],
  pending_payment: ["Release my seat", "Releasing…"],
  waitlisted: ["Leave the waitlist", "Leaving…"],
};

function bookingItem(booking, area) {
  const id = uid("booking");
  const event = booking.event_summary;
  const status = h("span", {}, bookingBadge(booking));
  const state = h("div");
  const actions = h("div", { class: "card-actions" });
  const detail = h("p", { class: "meta" }, `Booked ${moment(booking.created_at)}`);

  // Still active at a cancelled event: the settlement cancels it (and refunds it), so nothing is offered to pay
  // for or to cancel.
  const settling = () => Boolean(event && event.status === "cancelled" && settlingText(booking));

  function drawState() {
    if (settling()) {
      fill(state, h("p", {}, `The event was cancelled by its organizer. ${settlingText(booking)}`));
      return;
    }
    const ended = endedText(booking);
    const refund = refundText(booking);
    fill(
      state,
      booking.status === "pending_payment" ? holdNotice(booking, { describedBy: id }) : null,
      ended ? h("p", {}, ended) : null,
      refund ? h("p", {}, refund) : null,
    );
  }

  /** Before cancelling a paid seat: what happens to the money now, and a way back. Other places go at once. */
  async function confirmCancel() {
    if (!booking.refund_if_cancelled) return true;
    const promise = refundPromise(booking, event);
    return confirmDialog({
      title: `Cancel your booking for “${event ? event.title : "a deleted event"}”?`,
      message: promise.text,
      confirmLabel: promise.full ? "Yes, cancel it" : "Cancel without a refund",
      cancelLabel: "Keep my booking",
    });
  }

  function drawActions() {
    if (!api.ACTIVE.includes(booking.status) || settling()) {
      fill(actions);
      return;
    }
    const [label, busyLabel] = CANCEL_LABELS[booking.status];
    const button = h("button", { type: "button", class: "button button-secondary", "aria-describedby": id }, label);
    let asking = false; // a second click while the price is read must not open a second dialog
    button.addEventListener("click", async () => {
      if (button.dataset.busy || asking) return;
      asking = true;
      const sure = await confirmCancel().finally(() => {
        asking = false;
      });
      if (!sure) return;
      busy(button, async () => {
        booking = await api.cancelBooking(booking.id);
        fill(status, bookingBadge(booking));
        const cancelledAt = booking.cancelled_at ? ` · cancelled ${moment(booking.cancelled_at)}` : "";
        detail.textContent = `Booked ${moment(booking.created_at)}${cancelledAt}`;
        drawState();
        drawActions();
        const refund = refundText(booking);
        const done = `Your booking for “${event ? event.title : "a deleted event"}” is cancelled.`;
        show(area, refundKind(booking), refund ? `${done} ${refund}` : done);
        heading.focus();
      }, busyLabel).catch((error) =>
        show(area, "error", error.message, error.sessionEnded ? h("a", { href: signInPath() }, " Sign in") : ""),
      );
    });
    fill(actions, button);
  }

  if (booking.cancelled_at) {
    const ended = {
      expired: booking.cancel_reason === "checkout_cancelled" ? "payment cancelled" : "expired",
    }[booking.status] || "cancelled";
    detail.append(` · ${ended} ${moment(booking.cancelled_at)}`);
  }
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
