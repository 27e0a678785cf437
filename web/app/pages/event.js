// "/events/<id>": one event, and the visitor's place in it: book a seat, join the waitlist when it is full,
// cancel. Each booking or cancelling attempt carries its own Idempotency-Key (api.js), kept while the same
// attempt is retried, so that a second click after a lost answer cannot book twice.
//
// A paid event's booking holds the seat (`pending_payment`) and answers a `checkout_url`: the browser goes
// there to pay, and the payment provider sends it back to "/events/<id>?booking=<id>&checkout=success" (or
// `cancelled`), where this page tells how it went.
//
// Cancelling a paid seat asks first, saying what the refund policy does with the money at that moment. When
// the event itself is cancelled, its bookings are cancelled and paid ones refunded by a background settlement:
// the page then tells the visitor where their booking and their money stand, and offers nothing to book.
//
// An event with a sales opening (`sales_open_at`) is booked through its on-sale queue (../queue.js): the visitor
// joins it, the page follows their place, and books as soon as their turn comes, with the admission it gives.

import * as api from "../api.js";
import { calendarLinks } from "../calendar.js";
import {
  badge,
  busy,
  confirmDialog,
  endedText,
  eventFacts,
  holdNotice,
  refundKind,
  refundPromise,
  refundText,
  safeLink,
  section,
  settlementText,
  settlingText,
} from "../components.js";
import { append, fill, h, messageArea, show } from "../dom.js";
import { clock, eventPhase, price, seatsLeft } from "../format.js";
import { wait } from "../http.js";
import { here, signInPath } from "../navigation.js";
import { PlaceInLine, placeText } from "../queue.js";
import * as session from "../session.js";
import { organizerPath } from "./organizer.js";

// After a successful checkout the provider's webhook confirms the booking, normally before the visitor is
// back, sometimes a moment after: the booking is read again after each of these pauses until it is settled.
const CONFIRMATION_CHECKS_MS = [1000, 2000, 3000, 4000, 5000];

const REFUSALS = {
  event_full: "This event has just filled up. You can join the waitlist instead.",
  already_booked: "You already have a place for this event.",
  event_not_bookable: "This event can no longer be booked.",
  payment_refused: "The payment service refused this event's price, so it cannot be booked for now.",
};

const isPaid = (event) => Number(event.price) > 0;

// A published event that is no longer upcoming: its badge, and why it cannot be booked. "Started" only while it
// runs (starts_at <= now < ends_at); once its end (or its start, when it has no end) has passed, "Ended".
const PHASE_BADGES = { running: "Started", ended: "Ended" };
const CLOSED = {
  running: "This event has started: booking is closed.",
  ended: "This event has ended.",
};

/** What to tell someone whose booking request succeeded (a held seat goes to the payment page instead), and
 * that the e-mail the notifier sends is on its way, when the account has an address to send it to. */
function bookingOutcome(booking, email) {
  const mailed = email ? ` We are sending a confirmation to ${email}.` : "";
  if (booking.status === "waitlisted") {
    return `You are on the waitlist. If a seat is freed, it goes to the first person waiting.${mailed}`;
  }
  if (booking.status === "pending_payment") {
    // Only when the API gave no usable payment link: the hold is shown below, with what it says.
    return "Your seat is held for payment.";
  }
  return `Booked: you have a seat.${mailed}`;
}

/** The outcome of a cancellation, {kind, message}: the seat, and for a paid booking the money. */
function cancelOutcome(before, after) {
  const what = {
    pending_payment: "Your held seat is released.",
    waitlisted: "You have left the waitlist.",
  }[before.status];
  const refund = refundText(after);
  return { kind: refundKind(after), message: [what || "Your booking is cancelled.", refund].filter(Boolean).join(" ") };
}

/** Where a visitor's booking stands once its event is cancelled: being settled, or settled (and the money). */
function afterEventCancelled(booking) {
  const settling = settlingText(booking);
  if (settling) return settling;
  const ended =
    booking.status === "expired"
      ? endedText(booking)
      : {
          owner: "You had cancelled your booking.",
          organizer: "The organizer had cancelled your booking.",
          staff: "Our staff had cancelled your booking.",
        }[booking.cancel_reason] || "Your booking was cancelled.";
  return [ended, refundText(booking)].filter(Boolean).join(" ");
}

/**
 * The event for this visitor. Its public answer, asked without a token, is the same for everyone and is served
 * by the edge for a few seconds (seats left may lag that much); only those it may show more ask again with
 * their token: its creator and staff (a draft, the settlement, a paid event's link). A seat holder's link comes
 * with their booking instead (withSeatLink).
 */
async function readEvent(id, signal) {
  const user = session.currentUser();
  try {
    const shown = await api.getPublicEvent(id, signal);
    if (!user || !(user.is_staff || user.id === shown.creator)) return shown;
  } catch (error) {
    // A draft is not found by the public: only a creator or staff may see it, as its creator or as staff.
    if (!(error.status === 404 && session.isCreator(user))) throw error;
  }
  return api.getEvent(id, signal);
}

/** A paid event's online link as the visitor's confirmed booking shows it (the public answer has none). */
function withSeatLink(event, booking) {
  const link = booking && booking.status === "confirmed" && booking.event_summary && booking.event_summary.online_url;
  return link && !event.online_url ? { ...event, online_url: link } : event;
}

export async function render(root, ctx) {
  const categoriesRead = api.categories().catch(() => []); // for the category's name; read once per visit
  let event = await readEvent(ctx.params.id, ctx.signal);
  const categories = await categoriesRead;
  let user = session.currentUser(); // after the first request, which may have ended a dead session
  // The visitor's place: at a live event their active booking; at a cancelled one their newest, whatever its
  // status, to tell them what became of it and of their money.
  const placeOf = (signal) =>
    event.status === "cancelled" ? api.latestBookingFor(event.id, signal) : api.activeBookingFor(event.id, signal);
  let booking = null;
  if (user && user.id !== event.creator) {
    // A session that ends on this request (its refresh refused: the public answer came before the start-up's
    // own check ended it) leaves the page readable, as by any visitor.
    booking = await placeOf(ctx.signal).catch((error) => {
      if (!error.sessionEnded) throw error;
      user = session.currentUser();
      return null;
    });
  }
  event = withSeatLink(event, booking);
  ctx.setTitle(event.title);

  const badges = h("p", { class: "badges" });
  const facts = h("div");
  const area = messageArea();
  const panel = h("div", { class: "panel-body" });
  const calendar = h("div");
  const calendarSection = section("Add to calendar", calendar);
  // The visitor's place in the event's queue, and what they joined it for ("seat" or "waitlist"): done as soon
  // as their turn comes, only when they asked in this visit or were waiting for it (a place admitted earlier,
  // perhaps of a seat since cancelled, books only on a click).
  const place = new PlaceInLine(event.id, ctx.signal, { onPlace: placeChanged, onFailure: (error) => refused(error) });
  let wanted = null;
  let taking = null; // what the turn that has come is being used for, while it is: "seat" or "waitlist"
  let drawnPhase = null;

  /** The calendar links, for this reader: the online link only for a confirmed seat and those who manage it. */
  function drawCalendar() {
    const manages = Boolean(user && (user.id === event.creator || user.is_staff));
    const links = calendarLinks(event, { holder: manages || Boolean(booking && booking.status === "confirmed") });
    fill(calendar, links);
    calendarSection.hidden = !links;
  }

  function drawEvent() {
    const phase = PHASE_BADGES[eventPhase(event)];
    fill(
      badges,
      event.status !== "published" ? badge(event.status) : null,
      event.status === "published" && phase ? h("span", { class: "badge" }, phase) : null,
    );
    fill(
      facts,
      eventFacts(event, { host: false, categories }),
      event.online_url
        ? h("p", {}, "Online at ", h("a", { href: event.online_url, rel: "noopener noreferrer" }, event.online_url))
        : null,
    );
  }

  async function refresh() {
    try {
      // With the token: after their own booking or cancelling, the visitor sees its effect, not the edge's copy.
      event = await api.getEvent(event.id);
    } catch {
      // the figures shown are a little stale; the outcome itself is already known
    }
    drawEvent();
  }

  /** A button running `action`; `ask`, if given, is asked first (a confirmation) and may say no. */
  function actionButton(label, action, busyLabel, { secondary = false, ask = null } = {}) {
    const button = h("button", { type: "button", class: secondary ? "button button-secondary" : "button" }, label);
    button.addEventListener("click", async () => {
      if (button.dataset.busy || (ask && !(await ask()))) return;
      busy(button, action, busyLabel).catch((error) => refused(error));
    });
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
      if (event.status === "cancelled") booking = await placeOf().catch(() => booking);
      drawPanel(); // what can be done has changed (full, booked elsewhere, closed, cancelled)
    }
    show(area, "error", REFUSALS[error.code] || error.message);
  }

  /** Whether this visitor books through the event's queue now: signed in, neither its creator nor staff, with
   * no place yet, at a published event with a sales opening that has not started. */
  function throughQueue() {
    const open = event.status === "published" && !CLOSED[eventPhase(event)];
    return Boolean(event.sales_open_at && open && user && user.id !== event.creator && !user.is_staff && !booking);
  }

  /** Every seat taken, as the event or, fresher, the queue says. */
  const soldOut = () => seatsLeft(event) === 0 || Boolean(place.place && place.place.sold_out);

  /** What the panel shows of the queue: not in it, waiting (with seats left, or sold out), taking the turn
   * that has come, or admitted (booked on a click); null when the visitor does not book through it. */
  function queuePhase() {
    if (!throughQueue()) return null;
    if (!place.place) return "out";
    if (taking) return "taking";
    return place.place.admitted ? "admitted" : soldOut() ? "sold-out" : "waiting";
  }

  /** What the live region says: the place, or what the turn is being used for. */
  function queueWords() {
    if (!drawnPhase || !place.place) return "";
    if (drawnPhase === "taking") {
      const doing = taking === "waitlist" ? "joining the waitlist" : "booking your seat";
      return `Your turn has come: ${doing}…`;
    }
    return placeText(place.place, soldOut());
  }

  function placeChanged(now) {
    if (now.admitted && wanted && !taking) {
      const waitlist = wanted === "waitlist";
      wanted = null;
      // A seat wanted at a sold-out event: the waitlist is offered instead (joined only if asked for).
      if (waitlist || !soldOut()) {
        takeTurn(waitlist, now.admission);
        return;
      }
    }
    if (queuePhase() !== drawnPhase) drawPanel(); // which says the place too
    else place.say(queueWords()); // read out only when its words change
  }

  /** Book (or join the waitlist) at once with the admission the queue has just given. */
  async function takeTurn(waitlist, admission) {
    taking = waitlist ? "waitlist" : "seat";
    drawPanel(); // nothing to click meanwhile: a second booking attempt would race this one
    try {
      await book(waitlist, admission)();
    } catch (error) {
      taking = null;
      drawPanel();
      await refused(error);
    } finally {
      taking = null;
    }
  }

  function joinQueue(want) {
    return async () => {
      wanted = want;
      try {
        await place.join();
      } catch (error) {
        wanted = null;
        throw error;
      }
      if (!place.place.admitted) focusPanel(); // the button is gone; its place is said in the live region
    };
  }

  /** Book; at an event with a queue with the admission given, else a fresh one, and again with a fresh one should
   * the one given have expired on its way. */
  async function bookWith(waitlist, admission) {
    if (!event.sales_open_at) return api.book(event.id, { waitlist });
    try {
      return await api.book(event.id, { waitlist, admission: admission || (await place.admission()) });
    } catch (error) {
      if (!(admission && error.code === "admission_required")) throw error;
      return api.book(event.id, { waitlist, admission: await place.admission() });
    }
  }

  function book(waitlist, admission = null) {
    return async () => {
      const result = await bookWith(waitlist, admission);
      booking = result.booking;
      const checkout = booking.status === "pending_payment" ? safeLink(booking.checkout_url) : null;
      if (checkout) {
        show(area, "info", "Your seat is held. Taking you to the payment page…");
        location.assign(checkout);
        return;
      }
      await refresh();
      drawPanel();
      show(area, "success", bookingOutcome(booking, user && user.email));
      focusPanel();
    };
  }

  /** Before cancelling a paid seat: what happens to the money now, and a way back. Other places go at once. */
  function confirmCancel() {
    const promise = refundPromise(booking, event);
    if (!promise) return Promise.resolve(true);
    return confirmDialog({
      title: `Cancel your booking for “${event.title}”?`,
      message: promise.text,
      confirmLabel: promise.full ? "Yes, cancel it" : "Cancel without a refund",
      cancelLabel: "Keep my booking",
    });
  }

  async function cancel() {
    const before = booking;
    const after = await api.cancelBooking(booking.id);
    await refresh();
    booking = event.status === "cancelled" ? after : null;
    drawPanel();
    const { kind, message } = cancelOutcome(before, after);
    show(area, kind, message);
    focusPanel();
  }

  function focusPanel() {
    (panel.querySelector("button") || heading).focus();
  }

  function drawPanel() {
    fill(panel, panelContent()); // fill() leaves out the nulls, which replaceChildren() would write out as "null"
    drawnPhase = queuePhase();
    place.say(queueWords());
    drawCalendar(); // after every change of the event or of the visitor's place
  }

  function panelContent() {
    if (event.status === "cancelled" && !(user && user.id === event.creator)) {
      // Nothing to book or cancel: the settlement does it. Never "You have a seat." here.
      return [
        h("p", {}, "This event was cancelled by its organizer."),
        booking ? h("p", {}, afterEventCancelled(booking)) : null,
        user
          ? null
          : h(
              "p",
              {},
              h("a", { href: signInPath(here()) }, "Sign in"),
              " to see what becomes of your booking, if you had one.",
            ),
      ];
    }
    const closed = event.status === "published" ? CLOSED[eventPhase(event)] : null;
    if (!user) {
      if (closed) return [h("p", {}, closed)];
      if (event.sales_open_at) {
        // Back from signing in (or up), the page joins the queue at once (render).
        const back = `${location.pathname}?queue=join`;
        return [
          h("p", {}, "Seats for this event are sold through a queue."),
          h("p", {}, h("a", { href: signInPath(back), class: "button" }, "Join the queue")),
          h(
            "p",
            {},
            "You sign in first. New here? ",
            h("a", { href: `/signup?next=${encodeURIComponent(back)}` }, "Create an account"),
            " and you come back in the queue.",
          ),
        ];
      }
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
      const settling = settlementText(event.settlement);
      return [
        h("p", {}, "This is your event."),
        settling ? h("p", {}, settling) : null,
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
      return [
        h("p", {}, "You have a seat."),
        actionButton("Cancel my booking", cancel, "Cancelling…", { ask: confirmCancel }),
      ];
    }
    if (booking && booking.status === "pending_payment") {
      return [holdNotice(booking), actionButton("Release my seat", cancel, "Releasing…", { secondary: true })];
    }
    if (booking && booking.status === "waitlisted") {
      return [
        h("p", {}, "You are on the waitlist: if a seat is freed, it goes to the first person waiting."),
        isPaid(event)
          ? h("p", {}, "At this paid event, a freed seat is held for you to pay for: it appears in My bookings.")
          : null,
        actionButton("Leave the waitlist", cancel, "Leaving…"),
      ];
    }
    if (event.status !== "published") return [h("p", {}, "This event is not published, so it cannot be booked yet.")];
    if (closed) return [h("p", {}, closed)];
    if (event.sales_open_at && user.is_staff) {
      return [h("p", {}, "Visitors book this event through its on-sale queue, which staff do not join.")];
    }
    const inLine = queuePhase() === "admitted" ? null : queueContent();
    if (inLine) return inLine;
    if (soldOut()) {
      return [
        h("p", {}, "This event is full. Join the waitlist to get a seat if one is freed."),
        actionButton("Join the waitlist", book(true), "Joining…"),
      ];
    }
    if (isPaid(event)) {
      return [
        h(
          "p",
          {},
          `A seat costs ${price(event)}. Booking holds one for you for a few minutes while you pay on the payment page.`,
        ),
        actionButton("Book and pay", book(false), "Booking…"),
      ];
    }
    return [actionButton("Book a seat", book(false), "Booking…")];
  }

  /** The panel while the visitor is not yet admitted by the queue (null otherwise): join it, or wait. */
  function queueContent() {
    const phase = queuePhase();
    if (phase === "out" && soldOut()) {
      return [
        h(
          "p",
          {},
          "This event is sold out. Join the waitlist to get a seat if one is freed: you take a place in its queue, " +
            "and are put on the waitlist when your turn comes.",
        ),
        actionButton("Join the waitlist", joinQueue("waitlist"), "Joining…"),
      ];
    }
    if (phase === "out") {
      const early = Date.parse(event.sales_open_at) > Date.now();
      return [
        h(
          "p",
          {},
          early
            ? "Seats are sold through a queue from the opening of sales. Everyone who joins before then is served " +
                "in a random order, so there is no need to hurry."
            : "Seats are sold through a queue: join it to get your place in line.",
        ),
        actionButton("Join the queue", joinQueue("seat"), "Joining…"),
      ];
    }
    if (phase === "taking") return [h("p", {}, "One moment…")]; // the live region above says what is happening
    if (phase !== "waiting" && phase !== "sold-out") return null;
    let then = isPaid(event) ? "it holds your seat and takes you to the payment page." : "it books your seat.";
    if (wanted === "waitlist") then = "it puts you on the waitlist.";
    else if (phase === "sold-out") then = "you can join the waitlist.";
    return [h("p", {}, `Keep this page open: when your turn comes, ${then}`)];
  }

  /** Back from the payment page: read the booking (again, until the payment is confirmed) and say how it went. */
  async function followCheckout(bookingId, outcome) {
    if (!user) {
      show(area, "info", "Sign in to see how your payment went. ", h("a", { href: signInPath(here()) }, "Sign in"));
      return;
    }
    show(area, "info", outcome === "success" ? "Checking your payment…" : "Checking your booking…");
    let found;
    try {
      found = await api.myBooking(bookingId, ctx.signal);
      const checks = outcome === "success" ? [...CONFIRMATION_CHECKS_MS] : [];
      while (found && found.status === "pending_payment" && checks.length) {
        await wait(checks.shift(), ctx.signal);
        found = await api.myBooking(bookingId, ctx.signal);
      }
    } catch (error) {
      if (ctx.signal.aborted) return;
      show(area, "error", error.message);
      return;
    }
    if (!found) {
      show(area, "error", "That booking is not one of yours, or no longer exists.");
      return;
    }
    if (found.event === event.id) {
      await refresh(); // seats, and the online link a paid seat shows
      if (event.status === "cancelled" || api.ACTIVE.includes(found.status)) booking = found;
      else if (booking && booking.id === found.id) booking = null;
      if (ctx.signal.aborted) return;
      drawPanel();
    }
    if (ctx.signal.aborted) return; // the visitor has gone to another page: its address is not this one's
    history.replaceState(history.state, "", location.pathname); // a reload shows the event, not this again
    const { kind, message } = checkoutMessage(found, outcome);
    if (kind === "pending") {
      show(
        area,
        "info",
        `${message} `,
        h("button", { type: "button", class: "link-button", onclick: () => followCheckout(bookingId, outcome) }, "Check again"),
      );
    } else {
      show(area, kind, message);
    }
  }

  if (throughQueue()) {
    // Not knowing the place (no answer) only costs a click: joining again answers the same place.
    await place.read().catch(() => null);
    if (place.place && !place.place.admitted) wanted = "seat";
  }
  drawEvent();
  drawPanel();
  const yourPlace = section("Your place", area, place.region, panel);
  const heading = yourPlace.querySelector("h2");
  heading.setAttribute("tabindex", "-1");
  append(
    root,
    h("h1", {}, event.title),
    // By username, from the event itself: the organizer's page (with the name they chose) is one click away, and
    // an event page of a busy event costs no second request for it.
    h("p", { class: "byline" }, "By ", h("a", { href: organizerPath(event.creator_username) }, event.creator_username)),
    badges,
    event.image ? h("img", { src: event.image, alt: `Image for “${event.title}”`, class: "event-image" }) : null,
    facts,
    section("About this event", h("p", { class: "description" }, event.description)),
    yourPlace,
    calendarSection,
  );
  const returned = ctx.query.get("booking");
  const outcome = ctx.query.get("checkout");
  if (returned && ["success", "cancelled"].includes(outcome)) followCheckout(returned, outcome);
  if (ctx.query.get("queue") === "join") {
    // Back from signing in to join the queue (the link for signed-out visitors): join as if they had clicked.
    history.replaceState(history.state, "", location.pathname);
    if (queuePhase() === "out") joinQueue("seat")().catch((error) => refused(error));
  }
}

/** What the visitor is told on their way back from the payment page. */
function checkoutMessage(booking, outcome) {
  const refund = refundText(booking);
  switch (booking.status) {
    case "confirmed":
      return { kind: "success", message: "Payment received: you have a seat." };
    case "pending_payment":
      if (outcome === "success") {
        return {
          kind: "pending",
          message: "Your payment is being confirmed: this can take a minute. Your seat stays held meanwhile.",
        };
      }
      return {
        kind: "info",
        message:
          "Payment cancelled: you left the payment page without paying, but your seat stays held until " +
          `${booking.hold_expires_at ? clock(booking.hold_expires_at) : "the hold ends (below)"}. ` +
          "Complete the payment before then, or it is released; or release it now.",
      };
    case "expired":
      return outcome === "success"
        ? { kind: "error", message: ["The hold on your seat ended before the payment arrived.", refund].filter(Boolean).join(" ") }
        : { kind: "info", message: "Payment cancelled: the seat held for you is released." };
    default:
      return {
        kind: refundKind(booking),
        message: ["This booking is cancelled.", endedText(booking), refund].filter(Boolean).join(" "),
      };
  }
}
