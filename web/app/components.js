// Pieces several pages share: an event's facts, status badges, the pager, and buttons that show progress.

import { cursorOf } from "./api.js";
import { h, uid } from "./dom.js";
import * as format from "./format.js";

/** An event's time in its own zone, and in the visitor's when that differs. */
export function eventWhen(event) {
  const times = format.eventTimes(event);
  if (!times) return h("span", {}, "Date to be announced");
  return h(
    "span",
    { class: "when" },
    h("time", { datetime: event.starts_at }, times.event),
    times.visitor ? h("span", { class: "when-visitor" }, times.visitor) : null,
  );
}

export function eventWhere(event) {
  if (event.location) return event.location;
  if (event.online_url) return "Online";
  return null;
}

/** The facts about an event as a description list: when, where, price, seats, host. */
export function eventFacts(event, { host = true } = {}) {
  const rows = [
    ["When", eventWhen(event)],
    ["Where", eventWhere(event)],
    ["Price", format.price(event)],
    ["Seats", format.seatsText(event)],
    host ? ["Host", event.creator_username] : null,
  ];
  return factList(rows);
}

/** A description list of [term, value] rows; rows that are null, or whose value is empty, are left out. */
export function factList(rows) {
  const shown = rows.filter((row) => row && row[1]);
  return h("dl", { class: "facts" }, shown.map(([term, value]) => h("div", {}, h("dt", {}, term), h("dd", {}, value))));
}

/** How many seats are taken: "3 of 10 seats booked", or "3 seats booked (no limit)". */
export function seatsBooked(event) {
  return event.capacity === null
    ? `${event.seats_booked} seats booked (no limit)`
    : `${event.seats_booked} of ${event.capacity} seats booked`;
}

/** A data table: a caption, column headings, and rows (each a <tr>), scrolling sideways on narrow screens. */
export function table(caption, columns, rows, attributes = {}) {
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
  waitlisted: "On the waitlist",
};

/** A status as a badge (its text is the status: colour is never the only sign). */
export function badge(status) {
  return h("span", { class: `badge badge-${status}` }, STATUS_LABELS[status] || status);
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
  const returnTo = document.activeElement;
  return new Promise((resolve) => {
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": titleId },
      h("h2", { id: titleId }, title),
      h("p", {}, message),
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
