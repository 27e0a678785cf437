// "/events/<id>": one event, and the visitor's place in it: book a seat, join the waitlist when it is full,
// cancel. Each booking or cancelling attempt carries its own Idempotency-Key (api.js), kept while the same
// attempt is retried, so that a second click after a lost answer cannot book twice.

import * as api from "../api.js";
import { badge, busy, eventFacts, section } from "../components.js";
import { append, h, messageArea, show } from "../dom.js";
import { hasStarted, seatsLeft } from "../format.js";
import { here, signInPath } from "../router.js";
import * as session from "../session.js";

/**
 * What to tell someone whose booking request succeeded. Phase 2 (payments) adds the `pending_payment` status
 * here: the booking then carries a `checkout_url` to send the visitor to.
 */
function bookingOutcome(booking) {
  if (booking.status === "waitlisted") {
    return "You are on the waitlist. If a seat is freed, it goes to the first person waiting.";
  }
  return "Booked: you have a seat.";
}

const REFUSALS = {
  event_full: "This event has just filled up. You can join the waitlist instead.",
  already_booked: "You already have a place for this event.",
  event_not_bookable: "This event can no longer be booked.",
};

export async function render(root, ctx) {
  let event = await api.getEvent(ctx.params.id, ctx.signal);
  const user = session.currentUser(); // after the first request, which may have ended a dead session
  let booking = user && user.id !== event.creator ? await api.activeBookingFor(event.id, ctx.signal) : null;
  ctx.setTitle(event.title);

  const badges = h("p", { class: "badges" });
  const facts = h("div");
  const area = messageArea();
  const panel = h("div", { class: "panel-body" });

  function drawEvent() {
    badges.replaceChildren(
      event.status !== "published" ? badge(event.status) : "",
      event.status === "published" && hasStarted(event) ? h("span", { class: "badge" }, "Started") : "",
    );
    facts.replaceChildren(
      eventFacts(event),
      event.online_url
        ? h("p", {}, "Online at ", h("a", { href: event.online_url, rel: "noopener noreferrer" }, event.online_url))
        : "",
    );
  }

  async function refresh() {
    try {
      event = await api.getEvent(event.id);
    } catch {
      // the figures shown are a little stale; the outcome itself is already known
    }
    drawEvent();
  }

  function actionButton(label, action, busyLabel) {
    const button = h("button", { type: "button", class: "button" }, label);
    button.addEventListener("click", () =>
      busy(button, action, busyLabel).catch((error) => refused(error)),
    );
    return button;
  }

  async function refused(error) {
    if (error.sessionEnded) {
      show(area, "error", `${error.message} `, h("a", { href: signInPath() }, "Sign in"));
      return;
    }
    if (error.code === "already_booked") booking = await api.activeBookingFor(event.id).catch(() => booking);
    if (error.status === 409 || error.status === 404) {
      await refresh();
      drawPanel(); // what can be done has changed (full, booked elsewhere, closed)
    }
    show(area, "error", REFUSALS[error.code] || error.message);
  }

  function book(waitlist) {
    return async () => {
      const result = await api.book(event.id, { waitlist });
      booking = result.booking;
      await refresh();
      drawPanel();
      show(area, "success", bookingOutcome(booking));
      focusPanel();
    };
  }

  async function cancel() {
    await api.cancelBooking(booking.id);
    booking = null;
    await refresh();
    drawPanel();
    show(area, "success", "Your booking is cancelled.");
    focusPanel();
  }

  function focusPanel() {
    (panel.querySelector("button") || heading).focus();
  }

  function drawPanel() {
    panel.replaceChildren(...panelContent());
  }

  function panelContent() {
    if (!user) {
      return [
        h(
          "p",
          {},
          h("a", { href: signInPath(here()) }, "Sign in"),
          " or ",
          h("a", { href: `/signup?next=${encodeURIComponent(here())}` }, "create an account"),
          " to book a seat.",
        ),
      ];
    }
    if (user.id === event.creator) {
      return [
        h("p", {}, "This is your event."),
        h(
          "p",
          {},
          h("a", { href: "/dashboard" }, "Manage it in your dashboard"),
          " · ",
          h("a", { href: `/dashboard/events/${encodeURIComponent(event.id)}/attendees` }, "See who is coming"),
        ),
      ];
    }
    if (booking && booking.status === "confirmed") {
      return [h("p", {}, "You have a seat."), actionButton("Cancel my booking", cancel, "Cancelling…")];
    }
    if (booking && booking.status === "waitlisted") {
      return [
        h("p", {}, "You are on the waitlist: if a seat is freed, it goes to the first person waiting."),
        actionButton("Leave the waitlist", cancel, "Leaving…"),
      ];
    }
    if (event.status === "cancelled") return [h("p", {}, "This event is cancelled.")];
    if (event.status !== "published") return [h("p", {}, "This event is not published, so it cannot be booked yet.")];
    if (hasStarted(event)) return [h("p", {}, "This event has started: booking is closed.")];
    if (seatsLeft(event) === 0) {
      return [
        h("p", {}, "This event is full. Join the waitlist to get a seat if one is freed."),
        actionButton("Join the waitlist", book(true), "Joining…"),
      ];
    }
    return [actionButton("Book a seat", book(false), "Booking…")];
  }

  drawEvent();
  drawPanel();
  const yourPlace = section("Your place", area, panel);
  const heading = yourPlace.querySelector("h2");
  heading.setAttribute("tabindex", "-1");
  append(root, 
    h("h1", {}, event.title),
    badges,
    facts,
    section("About this event", h("p", { class: "description" }, event.description)),
    yourPlace,
  );
}
