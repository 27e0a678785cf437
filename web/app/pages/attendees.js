// "/dashboard/events/<id>/attendees": who booked an event (its creator and staff only), newest first, with
// where each booking's money stands. A paid seat can be cancelled and refunded in full from here, and a
// payment its owner could not get back (cancelled too late for the policy) refunded after all.

import * as api from "../api.js";
import {
  bookingBadge,
  busy,
  confirmDialog,
  pager,
  refundAmount,
  seatsBooked,
  settlementText,
  table,
} from "../components.js";
import { append, fill, h, messageArea, show, uid } from "../dom.js";
import { moment } from "../format.js";
import { signInPath } from "../navigation.js";

// Where a booking's money stands, in a table cell (the sentences the owner reads are longer).
const MONEY = {
  pending: "Refund in progress",
  succeeded: "Refunded in full",
  not_refundable: "Not refunded (cancelled after the refund cut-off)",
  failed: "Refund failed: our staff will settle it",
};

const CANCELLED_BY = {
  owner: "by the attendee",
  organizer: "by the organizer",
  staff: "by staff",
  event_cancelled: "with the event",
  checkout_cancelled: "payment page left",
  hold_expired: "hold ran out",
};

function money(booking) {
  if (MONEY[booking.refund_status]) return MONEY[booking.refund_status];
  return booking.refund_if_cancelled ? "Paid" : "—";
}

/** What a refund did, for the live region: {kind, message}. A refund the provider refused is a warning. */
function refundOutcome(before, after) {
  const who = after.username;
  const cancelled = before.status !== after.status;
  const said = {
    succeeded: cancelled
      ? `${who}'s booking is cancelled and their payment refunded in full.`
      : `${who}'s payment is refunded in full.`,
    pending: cancelled
      ? `${who}'s booking is cancelled; the refund of their payment is in progress.`
      : `The refund of ${who}'s payment is in progress.`,
    failed: cancelled
      ? `${who}'s booking is cancelled, but the refund of their payment failed: our staff will settle it.`
      : `The refund of ${who}'s payment failed: our staff will settle it.`,
  }[after.refund_status];
  return {
    kind: after.refund_status === "failed" ? "warning" : "info",
    message: said || `${who}'s booking is refunded.`,
  };
}

export async function render(root, ctx) {
  const cursor = ctx.query.get("cursor");
  const [loaded, page] = await Promise.all([
    api.getEvent(ctx.params.id, ctx.signal),
    api.eventBookings(ctx.params.id, { cursor }, ctx.signal),
  ]);
  let event = loaded;
  ctx.setTitle(`Attendees of ${event.title}`);
  const path = `/dashboard/events/${encodeURIComponent(event.id)}/attendees`;
  const eventPath = `/events/${encodeURIComponent(event.id)}`;
  const area = messageArea();
  const seats = h("span", {});
  const settling = h("p", {});

  function drawEvent() {
    seats.textContent = `${seatsBooked(event)}. `;
    const progress = settlementText(event.settlement);
    settling.textContent = progress || "";
    settling.hidden = !progress;
  }

  function confirmRefund(booking) {
    // What was paid, as the API says (the event's price may have changed since); a booking already cancelled
    // carries no preview, so its amount is not named.
    const paid = refundAmount(booking.refund_if_cancelled) || "their payment";
    const confirmed = booking.status === "confirmed";
    return confirmDialog({
      title: confirmed ? `Cancel ${booking.username}'s booking and refund it?` : `Refund ${booking.username}?`,
      message: confirmed
        ? `Their seat is freed and they are refunded ${paid} in full. This cannot be undone.`
        : `They cancelled too late for a refund under the policy. Their payment is refunded in full now.`,
      confirmLabel: confirmed ? "Cancel and refund" : "Refund",
      cancelLabel: "Keep it",
    });
  }

  /** Say how a refund went, and show the event's figures as they now are (a seat freed, refund counts). */
  async function refunded(before, after) {
    const { kind, message } = refundOutcome(before, after);
    show(area, kind, message);
    try {
      event = await api.getEvent(event.id);
      drawEvent();
    } catch {
      // the figures above are a little stale; the outcome itself is already known
    }
  }

  function row(initial) {
    let booking = initial;
    const id = uid("attendee");
    // The cells stay (table() labels them for narrow screens); what they say is redrawn.
    const header = h("th", { scope: "row", id, tabindex: "-1" }, booking.username);
    const [status, booked, ended, paid, refund] = [1, 2, 3, 4, 5].map(() => h("td", {}));
    const cells = h("tr", {}, header, status, booked, ended, paid, refund);

    function draw() {
      const reason = booking.cancel_reason ? ` (${CANCELLED_BY[booking.cancel_reason] || booking.cancel_reason})` : "";
      fill(status, bookingBadge(booking));
      fill(booked, moment(booking.created_at));
      fill(ended, booking.cancelled_at ? `${moment(booking.cancelled_at)}${reason}` : "—");
      fill(paid, money(booking));
      fill(refund, action());
    }

    function action() {
      let label;
      // At a cancelled event the settlement cancels and refunds every active booking: nothing to do by hand.
      if (booking.refund_if_cancelled && event.status !== "cancelled") label = "Cancel and refund";
      else if (booking.status === "cancelled" && booking.refund_status === "not_refundable") label = "Refund";
      else return "—";
      // Named with its attendee for screen readers ("Refund visitor_1"), as the row header says.
      const button = h("button", { type: "button", class: "button button-secondary", "aria-describedby": id }, label);
      button.addEventListener("click", async () => {
        if (button.dataset.busy || !(await confirmRefund(booking))) return;
        busy(button, async () => {
          const before = booking;
          booking = await api.refundBooking(booking.id);
          draw();
          header.focus(); // the button pressed is gone; its row's header is where the reader was
          await refunded(before, booking);
        }, "Refunding…").catch((error) =>
          show(area, "error", error.message, error.sessionEnded ? h("a", { href: signInPath() }, " Sign in") : ""),
        );
      });
      return button;
    }

    draw();
    return cells;
  }

  drawEvent();
  append(
    root,
    h("h1", {}, `Attendees of “${event.title}”`),
    h(
      "p",
      {},
      seats,
      h("a", { href: eventPath }, "See the event page"),
      " · ",
      h("a", { href: "/dashboard" }, "Back to your events"),
    ),
    settling,
    area,
    page.results.length
      ? table(
          cursor ? "Bookings (a later page), newest first" : "Bookings, newest first",
          ["Username", "Status", "Booked", "Cancelled", "Payment", "Refund"],
          page.results.map(row),
        )
      : h("p", { class: "empty" }, "Nobody has booked yet."),
    pager(path, { cursor, next: page.next }, "Attendee pages"),
  );
}
