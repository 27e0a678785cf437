// "/": upcoming events, soonest first; "/events": every published event, newest first. A page at a time.

import * as api from "../api.js";
import { eventFacts, pager } from "../components.js";
import { append, h, uid } from "../dom.js";

export function eventCard(event) {
  const id = uid("event");
  return h(
    "li",
    { class: "card" },
    h(
      "article",
      { "aria-labelledby": id },
      h("h2", { id }, h("a", { href: `/events/${encodeURIComponent(event.id)}` }, event.title)),
      eventFacts(event),
    ),
  );
}

export async function render(root, ctx) {
  const upcoming = location.pathname === "/";
  const cursor = ctx.query.get("cursor");
  const page = await api.listEvents({ upcoming, cursor }, ctx.signal);
  const title = upcoming ? "Upcoming events" : "All events";
  ctx.setTitle(title);
  append(root, 
    h("h1", {}, title),
    h(
      "p",
      { class: "lede" },
      upcoming
        ? "Sessions that have not started yet, soonest first. "
        : "Every published event, newest first. ",
      upcoming ? h("a", { href: "/events" }, "See all events") : h("a", { href: "/" }, "See upcoming events only"),
    ),
    page.results.length
      ? h("ul", { class: "cards" }, page.results.map(eventCard))
      : h("p", { class: "empty" }, upcoming ? "No upcoming events right now." : "No events yet."),
    pager(upcoming ? "/" : "/events", { cursor, next: page.next }, "Event pages"),
  );
}
