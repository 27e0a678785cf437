// Pieces several pages share: an event's facts, status badges, the pager, and buttons that show progress.

import { cursorOf } from "./api.js";
import { fill, h, uid } from "./dom.js";
import * as format from "./format.js";

/** An instant `iso` written as format.eventTimes gives it: in the event's zone, then the visitor's if it differs. */
function whenView(iso, times) {
  return h(
    "span",
    { class: "when" },
    h("time", { datetime: iso }, times.event),
    times.visitor ? h("span", { class: "when-visitor" }, times.visitor) : null,
  );
}

/** An event's time in its own zone, and in the visitor's when that differs. */
export function eventWhen(event) {
  const times = format.eventTimes(event);
  if (!times) return h("span", {}, "Date to be announced");
  return whenView(event.starts_at, times);
}

/** When an event with an on-sale queue opens its sales, written as its start is; null without one. */
export function salesOpenWhen(event) {
  if (!event.sales_open_at) return null;
  return whenView(event.sales_open_at, format.instantTimes(event.sales_open_at, event.timezone));
}

export function eventWhere(event) {
  const online = event.online || (event.online === undefined && Boolean(event.online_url));
  if (event.location) return online ? `${event.location}, and online` : event.location;
  return online ? "Online" : null;
}

/** An event's tags as links to the list of events with that tag. */
export function tagLinks(tags) {
  if (!tags || !tags.length) return null;
  return h(
    "ul",
    { class: "tags" },
    tags.map((tag) => h("li", {}, h("a", { href: `/?tag=${encodeURIComponent(tag)}` }, tag))),
  );
}

/**
 * The facts about an event as a description list: when, where, price, seats, host; with `categories` (the
 * API's list, for the names) also its category, tags and city, each a way to find events like it.
 */
export function eventFacts(event, { host = true, categories = null } = {}) {
  const category = categories && event.category ? (categories.find((c) => c.slug === event.category) || {}).name : null;
  const rows = [
    ["When", eventWhen(event)],
    // "Sales open" until the opening passes: bookings then go through the event's queue (pages/event.js).
    [Date.parse(event.sales_open_at) > Date.now() ? "Sales open" : "Sales opened", salesOpenWhen(event)],
    ["Where", eventWhere(event)],
    categories && event.city ? ["City", event.city] : null,
    ["Price", format.price(event)],
    ["Seats", format.seatsText(event)],
    host ? ["Host", event.creator_username] : null,
    categories && event.category
      ? ["Category", h("a", { href: `/?category=${encodeURIComponent(event.category)}` }, category || event.category)]
      : null,
    categories ? ["Tags", tagLinks(event.tags)] : null,
  ];
  return factList(rows);
}

/** A description list of [term, value] rows; rows that are null, or whose value is empty, are left out. */
export function factList(rows) {
  const shown = rows.filter((row) => row && row[1]);
  return h("dl", { class: "facts" }, shown.map(([term, value]) => h("div", {}, h("dt", {}, term), h("dd", {}, value))));
}

/** How many seats are taken: "3 of 10 seats booked", "1 of 1 seat booked", or "1 seat booked (no limit)". */
export function seatsBooked(event) {
  return event.capacity === null || event.capacity === undefined
    ? `${format.count(event.seats_booked, "seat")} booked (no limit)`
    : `${event.seats_booked} of ${format.count(event.capacity, "seat")} booked`;
}

/**
 * A data table: a caption, column headings, and rows (each a <tr> whose cells stay, their content redrawn).
 * On a narrow screen the style sheet shows each row as a card, each cell after its column's name (the
 * data-label set here, drawn for the eye only: screen readers have the table's own headers).
 */
export function table(caption, columns, rows, attributes = {}) {
  for (const row of rows) {
    [...row.children].forEach((cell, index) => {
      if (columns[index]) cell.dataset.label = columns[index];
    });
  }
  const head = h("tr", {}, columns.map((name) => h("th", { scope: "col" }, name)));
  return h(
    "div",
    { class: "table-wrap" },
    h("table", attributes, h("caption", {}, caption), h("thead", {}, head), h("tbody", {}, rows)),
  );
}

const STATUS_LABELS = {
  draft: "Draft",
  published: "Published",
  cancelled: "Cancelled",
  confirmed: "Confirmed",
  pending_payment: "Awaiting payment",
  waitlisted: "On the waitlist",
  expired: "Expired",
};

/** A status as a badge (its text is the status: colour is never the only sign). */
export function badge(status, label = STATUS_LABELS[status] || status) {
  return h("span", { class: `badge badge-${status}` }, label);
}

/**
 * A booking's status as a badge. A hold that ended because its owner left the payment page says so: "Expired"
 * would read as if they had been too slow.
 */
export function bookingBadge(booking) {
  return booking.status === "expired" && booking.cancel_reason === "checkout_cancelled"
    ? badge("expired", "Payment cancelled")
    : badge(booking.status);
}

const REFUNDS = {
  pending: "Refund in progress: your payment is being returned.",
  succeeded: "Refunded: your payment has been returned.",
  not_refundable: "Not refunded: under the refund policy, a seat cancelled this close to the start is not refunded.",
  failed: "The refund could not be made automatically: our staff will settle it with you.",
};

/** Where the money of a paid booking that no longer holds its seat stands, in a sentence (null: nothing to say). */
export function refundText(booking) {
  return REFUNDS[booking.refund_status] || null;
}

/**
 * How an outcome about a booking's money is shown: a warning when the money stays kept (the policy, or a refund
 * the provider refused), else neutral. Never a green "success": losing a booking is not good news.
 */
export function refundKind(booking) {
  return ["not_refundable", "failed"].includes(booking.refund_status) ? "warning" : "info";
}

/** Why a booking ended, in a sentence, when the status alone does not say it (null: nothing to add). */
export function endedText(booking) {
  if (booking.status === "expired") {
    return booking.cancel_reason === "checkout_cancelled"
      ? "The payment was cancelled: the seat held for you was released."
      : "The hold ended before payment: the seat was released.";
  }
  if (booking.status !== "cancelled") return null;
  return {
    organizer: "The event's organizer cancelled this booking.",
    staff: "Our staff cancelled this booking.",
    event_cancelled: "The event was cancelled by its organizer.",
  }[booking.cancel_reason] || null;
}

/**
 * What becomes of a booking still active at an event that was cancelled: the settlement cancels it (and refunds
 * a paid seat in full) within a minute or so. Null for a booking that has already ended.
 */
export function settlingText(booking) {
  return {
    confirmed: booking.refund_if_cancelled
      ? "Your booking is being cancelled and your payment refunded in full."
      : "Your booking is being cancelled.",
    pending_payment: "The seat held for you is being released.",
    waitlisted: "Your place on the waitlist is being cancelled.",
  }[booking.status] || null;
}

/** "24 hours", "90 minutes": how long before the start a cut-off falls (null when it cannot be told). */
function cutoffLength(startsAt, until) {
  const minutes = Math.round((Date.parse(startsAt) - Date.parse(until)) / 60000);
  if (!(minutes > 0)) return null;
  if (minutes % 60 === 0) return format.count(minutes / 60, "hour");
  return format.count(minutes, "minute");
}

/** What a refund gives back, from a booking's refund preview ("$25.00"; null when the API did not say). */
export function refundAmount(preview) {
  if (!preview || !preview.amount) return null;
  return format.price({ price: preview.amount, currency: preview.currency });
}

/**
 * What cancelling a paid seat now does with the money, for the confirmation: {full, text} (null: no money at
 * stake). The amount is the API's (what was paid, whatever the event's price is now); `event` gives the start
 * (an event, or a booking's summary). The preview was read when the page loaded: a full refund that has run
 * out since is told as none.
 */
export function refundPromise(booking, event, now = Date.now()) {
  const preview = booking.refund_if_cancelled;
  if (!preview) return null;
  const until = preview.full_refund_until;
  const lapsed = preview.reason === "before_cutoff" && until && Date.parse(until) <= now;
  if (preview.refund === "full" && !lapsed) {
    const paid = refundAmount(preview);
    const refunded = paid ? `You will be refunded ${paid} in full.` : "Your payment will be refunded in full.";
    const text = until ? `${refunded} Cancellations are refunded in full until ${format.moment(until)}.` : refunded;
    return { full: true, text };
  }
  if (!until) return { full: false, text: "No refund: under the refund policy, cancelling now is not refunded." };
  const length = event && event.starts_at ? cutoffLength(event.starts_at, until) : null;
  const ended = `refunds ended at ${format.moment(until)}.`;
  const text = length ? `No refund: the event starts in less than ${length}; ${ended}` : `No refund: ${ended}`;
  return { full: false, text };
}

/**
 * How far the settling of a cancelled event's bookings has got (each cancelled, each payment refunded in
 * full), in sentences; null when there is nothing to tell (a live event, or one cancelled before settling).
 */
export function settlementText(settlement) {
  if (!settlement) return null;
  const { bookings, settled } = settlement;
  let progress;
  if (!settlement.completed_at) progress = `Settling: ${settled} of ${format.count(bookings, "booking")}.`;
  else if (bookings === 0) progress = "No bookings to settle.";
  else progress = bookings === 1 ? "Its 1 booking is settled." : `All ${bookings} bookings settled.`;
  const refunds = [
    settlement.refunds_pending ? `${settlement.refunds_pending} pending` : null,
    settlement.refunds_succeeded ? `${settlement.refunds_succeeded} refunded` : null,
    settlement.refunds_failed ? `${settlement.refunds_failed} failed (our staff settle those)` : null,
  ].filter(Boolean);
  return refunds.length ? `${progress} Refunds: ${refunds.join(", ")}.` : progress;
}

/**
 * A seat held for payment: until when, how long is left, and the link to pay while the hold lasts (the API
 * gives the link to the booking's owner only). The time left is kept up to date, but not in a live region,
 * which would interrupt every minute; it is read where it is. `describedBy` names the booking for the link.
 */
export function holdNotice(booking, { describedBy } = {}) {
  const text = h("p", {});
  const checkout = safeLink(booking.checkout_url);
  const pay = checkout
    ? h("p", {}, h("a", { href: checkout, class: "button", "aria-describedby": describedBy }, "Complete payment"))
    : null;
  const notice = h("div", { class: "hold" }, text, pay);
  const update = () => {
    const left = format.timeLeft(booking.hold_expires_at);
    text.textContent = left
      ? `Your seat is held until ${format.clock(booking.hold_expires_at)} (${left}): pay before then to keep it.`
      : "The hold on your seat has ended: unless you have just paid, the seat is released.";
    if (!left && pay) pay.remove();
    return left;
  };
  if (update()) {
    const timer = setInterval(() => {
      if (!notice.isConnected || !update()) clearInterval(timer); // gone from the page, or over
    }, HOLD_TICK_MS);
  }
  return notice;
}

// How often a hold's time left is written again (it is shown in minutes).
const HOLD_TICK_MS = 15000;

/** `url` when it is a web address (the API's checkout link), else null: never a javascript: link. */
export function safeLink(url) {
  try {
    return ["https:", "http:"].includes(new URL(url).protocol) ? url : null;
  } catch {
    return null;
  }
}

/** Links to the first and the next page of a list whose page is chosen by `?cursor=`. */
export function pager(path, { cursor, next }, label = "Pages") {
  const nextCursor = cursorOf(next);
  if (!cursor && !nextCursor) return null;
  return h(
    "nav",
    { class: "pager", "aria-label": label },
    cursor ? h("a", { href: path }, "First page") : null,
    nextCursor ? h("a", { href: `${path}?cursor=${encodeURIComponent(nextCursor)}`, rel: "next" }, "Next page") : null,
  );
}

/**
 * Run `work` for `button`: while it runs the button says so and ignores clicks (a second click cannot send a
 * second request); afterwards it works again, or only after the Retry-After the API gave. The button keeps
 * the keyboard focus throughout (it is marked aria-disabled, not disabled). Errors reach the caller.
 */
export async function busy(button, work, busyLabel = "Working…") {
  if (button.dataset.busy) return undefined;
  const label = button.textContent;
  button.dataset.busy = "true";
  button.setAttribute("aria-disabled", "true");
  button.textContent = busyLabel;
  let wait = 0;
  try {
    return await work();
  } catch (error) {
    wait = Number.isFinite(error.retryAfter) ? error.retryAfter : 0;
    throw error;
  } finally {
    button.textContent = label;
    const release = () => {
      delete button.dataset.busy;
      button.removeAttribute("aria-disabled");
    };
    if (wait > 0) setTimeout(release, wait * 1000);
    else release();
  }
}

/** A heading-labelled section. */
export function section(title, ...content) {
  const id = uid("section");
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...content);
}

/**
 * Ask before something that cannot be undone: a modal <dialog> (focus moves into it and returns to where it
 * was; Escape answers no). Resolves to true when confirmed.
 */
export function confirmDialog({ title, message, confirmLabel, cancelLabel = "Keep it" }) {
  const titleId = uid("dialog-title");
  const messageId = uid("dialog-message");
  const returnTo = document.activeElement;
  return new Promise((resolve) => {
    // The message is the dialog's description: it is read out with the title when the dialog opens.
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": titleId, "aria-describedby": messageId },
      h("h2", { id: titleId }, title),
      h("p", { id: messageId }, message),
      h(
        "form",
        { method: "dialog", class: "actions" },
        h("button", { type: "submit", class: "button button-danger", value: "yes" }, confirmLabel),
        h("button", { type: "submit", class: "button button-secondary", value: "no", autofocus: true }, cancelLabel),
      ),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (returnTo && returnTo.isConnected) returnTo.focus();
      resolve(dialog.returnValue === "yes");
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
