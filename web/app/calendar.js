// "Add to calendar" on an event's page: the API's .ics file, and a link that opens Google Calendar's new-event
// form filled in. Both say what the API's file says: the event's time (an hour when it has no end), its page,
// and its online link only for a reader holding a confirmed seat or managing the event.
//
// The .ics link is the API's public URL, which anyone can follow (the file then has no online link). For a
// signed-in reader the click fetches the same file with their token instead, so that a holder's copy carries the
// online link, and saves it from memory; should that fail, the public file is downloaded as a visitor's would be.

import { h } from "./dom.js";
import { apiUrl } from "./http.js";
import * as session from "./session.js";

const HOUR_MS = 60 * 60 * 1000;
// Google refuses very long addresses: the description in its link is cut there (the .ics file has it whole).
const GOOGLE_DETAILS_MAX = 1000;
// How long a saved file's in-memory address is kept: long enough for the browser to have read it.
const BLOB_URL_LIFETIME_MS = 60 * 1000;

/** The file's name, as the API names it: the title in lower-case ASCII words joined by hyphens. */
export function calendarFileName(event) {
  const slug = event.title
    .normalize("NFKD")
    .replace(/[^\x00-\x7f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60)
    .replace(/-+$/, "");
  return `${slug || "event"}.ics`;
}

/** The API's .ics address of an event. */
export const icsUrl = (event) => apiUrl(`/api/events/${encodeURIComponent(event.id)}/calendar.ics`).href;

/** "20300601T163000Z": an instant as Google's `dates` parameter (and iCalendar's UTC form) writes it. */
export function compactUtc(date) {
  return date.toISOString().replace(/\.\d+Z$/, "Z").replace(/[-:]/g, "");
}

/**
 * Google Calendar's form for the event (`render?action=TEMPLATE`). `onlineUrl` is given only to those the API
 * would give it to; `pageUrl` is the event's page on this site.
 */
export function googleCalendarUrl(event, { pageUrl, onlineUrl = null }) {
  const start = new Date(event.starts_at);
  const end = event.ends_at ? new Date(event.ends_at) : new Date(start.getTime() + HOUR_MS);
  let description = event.description || "";
  if (description.length > GOOGLE_DETAILS_MAX) description = `${description.slice(0, GOOGLE_DETAILS_MAX - 1)}…`;
  const details = [description, `Event page: ${pageUrl}`, onlineUrl ? `Join online: ${onlineUrl}` : ""]
    .filter(Boolean)
    .join("\n\n");
  const query = new URLSearchParams({
    action: "TEMPLATE",
    text: event.title,
    dates: `${compactUtc(start)}/${compactUtc(end)}`,
    details,
  });
  const location = event.location || onlineUrl;
  if (location) query.set("location", location);
  query.set("ctz", event.timezone || "UTC");
  return `https://calendar.google.com/calendar/render?${query}`;
}

async function fetchFile(url, token) {
  return fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {}, credentials: "omit" });
}

/** The .ics file as the signed-in reader may have it (the token renewed once if it has expired). */
async function signedInFile(url) {
  const token = session.accessToken();
  let response = await fetchFile(url, token);
  if (response.status === 401 && token) response = await fetchFile(url, await session.refreshAfter(token));
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.blob();
}

function save(blob, fileName) {
  const href = URL.createObjectURL(blob);
  const link = h("a", { href, download: fileName, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), BLOB_URL_LIFETIME_MS);
}

/**
 * The "Add to calendar" links of `event` for this reader, or null when there is nothing to add (no start time
 * yet, or cancelled). `holder`: the reader holds a confirmed seat or manages the event.
 */
export function calendarLinks(event, { holder = false } = {}) {
  if (!event.starts_at || event.status === "cancelled") return null;
  const fileName = calendarFileName(event);
  const file = h("a", { href: icsUrl(event), download: fileName, class: "calendar-file" }, "Download the .ics file");
  file.addEventListener("click", async (click) => {
    if (!session.accessToken()) return; // a visitor's file is the public one: the link itself
    click.preventDefault();
    try {
      save(await signedInFile(file.href), fileName);
    } catch {
      location.assign(file.href); // the public file (an attachment: the page stays)
    }
  });
  const pageUrl = new URL(`/events/${encodeURIComponent(event.id)}`, location.origin).href;
  const google = h(
    "a",
    {
      href: googleCalendarUrl(event, { pageUrl, onlineUrl: holder ? event.online_url : null }),
      target: "_blank",
      rel: "noopener noreferrer",
      class: "calendar-google",
    },
    "Add to Google Calendar",
    h("span", { class: "visually-hidden" }, " (opens in a new tab)"),
  );
  return [
    h("p", {}, file, " for Apple Calendar, Outlook and other calendar apps, or ", google, "."),
    holder && event.online_url ? h("p", { class: "meta" }, "Your copy includes the link to join online.") : null,
  ];
}
