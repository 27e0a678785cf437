// "/@<username>": an organizer's page: their picture, name and bio, and their published events, upcoming
// (soonest first) and past (most recent first), each list a page at a time with a button for more. The bio is
// the organizer's own text: shown as text (h() never reads markup), its line breaks kept by the style sheet.

import * as api from "../api.js";
import { cursorOf } from "../api.js";
import { busy, section } from "../components.js";
import { append, h, messageArea, show } from "../dom.js";
import { eventCard } from "./events.js";

const LISTS = [
  { when: "upcoming", title: "Upcoming events", empty: "No upcoming events.", more: "Show more upcoming events" },
  { when: "past", title: "Past events", empty: "No past events yet.", more: "Show more past events" },
];

/** The organizer's name as people see it: the display name they chose, else their username. */
export const organizerName = (organizer) => organizer.display_name || organizer.username;

/** The path of an organizer's page. */
export const organizerPath = (username) => `/@${encodeURIComponent(username)}`;

const card = (event) => eventCard(event, { heading: "h3", host: false });

function eventList(username, list, page) {
  const area = messageArea();
  const items = h("ul", { class: "cards" }, page.results.map(card));
  let cursor = cursorOf(page.next);
  const more = h("button", { type: "button", class: "button button-secondary" }, list.more);
  more.hidden = !cursor;
  more.addEventListener("click", () => {
    busy(more, async () => {
      const next = await api.creatorEvents(username, { when: list.when, cursor });
      const added = next.results.map(card);
      append(items, added);
      cursor = cursorOf(next.next);
      more.hidden = !cursor;
      // The button may be gone: the reader goes on from the first event it brought.
      if (added.length) added[0].querySelector("a").focus();
    }, "Loading…").catch((error) => show(area, "error", error.message || "Something went wrong. Try again."));
  });
  return section(
    list.title,
    page.results.length ? items : h("p", { class: "empty" }, list.empty),
    area,
    h("p", {}, more),
  );
}

function notFound(ctx, username) {
  ctx.setTitle("Organizer not found");
  return h(
    "section",
    { class: "error-page" },
    h("h1", {}, "Organizer not found"),
    h("p", {}, username ? `Nobody organizes events as “${username}”.` : "This address names no organizer."),
    h("p", {}, h("a", { href: "/" }, "See upcoming events")),
  );
}

export async function render(root, ctx) {
  let username = "";
  try {
    username = decodeURIComponent(ctx.params.username);
  } catch {
    append(root, notFound(ctx, ""));
    return;
  }
  let organizer;
  try {
    organizer = await api.getCreator(username, ctx.signal);
  } catch (error) {
    if (error.status !== 404) throw error;
    append(root, notFound(ctx, username));
    return;
  }
  const name = organizerName(organizer);
  ctx.setTitle(name);
  append(
    root,
    h(
      "header",
      { class: "organizer" },
      organizer.avatar ? h("img", { class: "avatar avatar-large", src: organizer.avatar, alt: `${name}’s picture` }) : null,
      h("h1", {}, name),
      organizer.display_name ? h("p", { class: "meta" }, `@${organizer.username}`) : null,
      organizer.bio ? h("p", { class: "bio" }, organizer.bio) : null,
    ),
    LISTS.map((list) => eventList(organizer.username, list, organizer[list.when])),
  );
}
