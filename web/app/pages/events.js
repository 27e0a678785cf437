// "/": upcoming events, soonest first; "/events": every published event, newest first. A page at a time.

import * as api from "../api.js";
import { eventFacts, pager } from "../components.js";
import { append, h, uid } from "../dom.js";

/** An event as a card of a list: `heading` is the title's level under the page's own headings, `host` whether
 * its host is named (not on its organizer's own page). */
export function eventCard(event, { heading = "h2", host = true } = {}) {
  const id = uid("event");
  // The image is decoration here (empty alt): the title beside it names the event, and reading "image of"
  // before every card would only repeat it. The event's page describes it.
  const image = event.image ? h("img", { src: event.image, alt: "", class: "card-image", loading: "lazy" }) : null;
  return h(
    "li",
    { class: "card" },
    h(
      "article",
      { "aria-labelledby": id },
      image,
      h(heading, { id }, h("a", { href: `/events/${encodeURIComponent(event.id)}` }, event.title)),
      eventFacts(event, { host }),
    ),
  );
}

export async function render(root, ctx) {
  const upcoming = location.pathname === "/";
  const cursor = ctx.query.get("cursor");
  const page = await api.listEvents({ upcoming, cursor }, ctx.signal);
  const title = upcoming ? "Upcoming events" : "All events";
  ctx.setTitle(title);
  append(
    root,
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
      ? h("ul", { class: "cards" }, page.results.map((event) => eventCard(event)))
      : h("p", { class: "empty" }, upcoming ? "No upcoming events right now." : "No events yet."),
    pager(upcoming ? "/" : "/events", { cursor, next: page.next }, "Event pages"),
  );
}
