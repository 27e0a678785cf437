// "/": upcoming events, soonest first; "/events": every published event, newest first. Both search and filter
// (search.js reads the URL): category chips, a filters form, the header's search box. Every change of filters
// is a new URL pushed through the router, so the back button brings the previous list back and a list can be
// shared. Events come a page at a time with the API's cursor, never all of them; "More events" adds a page.
//
// A search page may hold fewer events than asked for, even none, while there are more: the API reads a bounded
// part of its index per page. So the page asks again by itself while it shows less than a page (at most
// EXTRA_REQUESTS more per action), then offers "More events".

import * as api from "../api.js";
import { categoryName, cursorOf } from "../api.js";
import { busy, eventFacts } from "../components.js";
import { append, fill, h, messageArea, show, uid } from "../dom.js";
import { navigate } from "../navigation.js";
import { apiQuery, effectiveSort, isFiltered, listUrl, readState } from "../search.js";

// The API's page when no `limit` is sent: the number of events one action aims to show.
const PAGE_SIZE = 20;
const EXTRA_REQUESTS = 3;

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

/**
 * Pages from `cursor` (null: the first) until a page's worth of events or the end, in at most
 * 1 + EXTRA_REQUESTS requests: {events, next} (`next`: the cursor to go on from, or null at the end).
 */
async function readPages(query, cursor, signal) {
  const events = [];
  let next = cursor;
  for (let request = 0; request <= EXTRA_REQUESTS; request += 1) {
    const page = await api.listEvents(next ? { ...query, cursor: next } : query, signal);
    events.push(...page.results);
    next = cursorOf(page.next);
    if (!next || events.length >= PAGE_SIZE) break;
  }
  return { events, next };
}

const dateText = (value) => {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : new Date(value);
  if (Number.isNaN(day.getTime())) return value;
  return new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" })
    .format(day);
};

/** The dates asked for, in words: " from May 1, 2030", " until May 3, 2030", " from … to …". */
function datesText(state) {
  if (state.when !== "dates") return "";
  if (state.from && state.to) return ` from ${dateText(state.from)} to ${dateText(state.to)}`;
  return state.from ? ` from ${dateText(state.from)}` : ` until ${dateText(state.to)}`;
}

/** What the list holds, in words: "upcoming free online events matching “x” tagged “y” in Music in Paris". */
function describe(state, categories) {
  const kinds = [
    state.when === "upcoming" ? "upcoming" : null,
    { true: "free", false: "paid" }[state.free],
    { true: "online", false: "in-person" }[state.online],
  ].filter(Boolean);
  return [
    [...kinds, "events"].join(" "),
    state.q ? ` matching “${state.q}”` : "",
    state.tag ? ` tagged “${state.tag}”` : "",
    state.category ? ` in ${categoryName(categories, state.category)}` : "",
    state.city ? ` in ${state.city}` : "",
    datesText(state),
  ].join("");
}

/**
 * Links that each drop one thing asked for (and one that drops them all when there are several); `only`, when
 * given, names the API's parameters to offer them for (those it refused).
 */
function loosenings(path, state, only = null) {
  const without = (changes) => listUrl(path, { ...state, ...changes });
  const offered = (...names) => !only || names.some((name) => only.includes(name));
  const dates = state.when === "dates";
  const links = [
    state.q && offered("q") ? ["Clear the search", without({ q: "" })] : null,
    state.category && offered("category") ? ["Remove the category", without({ category: "" })] : null,
    state.tag && offered("tag") ? ["Remove the tag", without({ tag: "" })] : null,
    state.city && offered("city") ? ["Any city", without({ city: "" })] : null,
    state.online && offered("online") ? ["Online or in person", without({ online: "" })] : null,
    state.free && offered("free") ? ["Any price", without({ free: "" })] : null,
    dates && offered("from", "to", "non_field_errors") ? ["Any date", without({ when: "any", from: "", to: "" })] : null,
    state.sort && offered("sort") ? ["Default order", without({ sort: "" })] : null,
    state.when === "upcoming" && !only ? ["Past events too", without({ when: "any" })] : null,
  ].filter(Boolean);
  if (links.length > 2 || (only && !links.length)) links.push(["Clear everything", path]);
  return h("ul", { class: "loosen" }, links.map(([label, href]) => h("li", {}, h("a", { href }, label))));
}

/** The category chips: links, the chosen one marked aria-current; "All categories" first. */
function categoryChips(path, state, categories) {
  if (!categories.length) return null;
  const chip = (slug, label) =>
    h(
      "li",
      {},
      h(
        "a",
        { class: "chip", href: listUrl(path, { ...state, category: slug }), "aria-current": state.category === slug ? "true" : null },
        label,
      ),
    );
  return h(
    "nav",
    { class: "chips", "aria-label": "Categories" },
    h("ul", {}, chip("", "All categories"), categories.map((c) => chip(c.slug, c.name))),
  );
}

/** A labelled <select> of [value, label] options, for the filters form. */
function choice(name, label, options, value) {
  const id = uid(`filter-${name}`);
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    h("select", { id, name }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text))),
  );
}

function textInput(name, label, value, attrs = {}) {
  const id = uid(`filter-${name}`);
  return h("div", { class: "field" }, h("label", { for: id }, label), h("input", { id, name, value, ...attrs }));
}

/** The filters: when, price, place, city, order. Applying them goes to their list's URL. */
function filtersForm(path, state) {
  const set = isFiltered(path, { ...state, q: "", category: "", tag: "" }); // the form's own fields
  const dates = h(
    "div",
    { class: "filter-dates" },
    textInput("from", "From", state.from, { type: "date" }),
    textInput("to", "To", state.to, { type: "date" }),
  );
  const when = choice(
    "when",
    "When",
    [
      ["upcoming", "Upcoming"],
      ["any", "Any time"],
      ["dates", "Between dates"],
    ],
    state.when,
  );
  const showDates = () => {
    dates.hidden = when.querySelector("select").value !== "dates";
  };
  when.querySelector("select").addEventListener("change", showDates);
  const formElement = h(
    "form",
    { class: "filters", "aria-label": "Filter events", novalidate: true },
    h(
      "div",
      { class: "filter-fields" },
      when,
      dates,
      choice(
        "free",
        "Price",
        [
          ["", "Any price"],
          ["true", "Free"],
          ["false", "Paid"],
        ],
        state.free,
      ),
      choice(
        "online",
        "Place",
        [
          ["", "Online or in person"],
          ["true", "Online"],
          ["false", "In person"],
        ],
        state.online,
      ),
      textInput("city", "City", state.city, { autocomplete: "address-level2", maxlength: 80 }),
      choice(
        "sort",
        "Order",
        [
          ["newest", "Newest first"],
          ["soonest", "Soonest first"],
        ],
        effectiveSort(state),
      ),
    ),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "button" }, "Apply filters"),
      set
        ? h("a", { href: listUrl(path, { q: state.q, category: state.category, tag: state.tag }) }, "Reset filters")
        : null,
    ),
  );
  showDates();
  // On a phone the filters would push the events a screen down: there they start folded, unless some are set.
  const narrow = window.matchMedia("(max-width: 40rem)").matches;
  const box = h("details", { class: "filters-box", open: set || !narrow }, h("summary", {}, "Filters"), formElement);
  formElement.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(formElement).entries());
    const next = {
      ...state,
      when: values.when,
      from: values.when === "dates" ? values.from : "",
      to: values.when === "dates" ? values.to : "",
      free: values.free,
      online: values.online,
      city: values.city.trim(),
    };
    // No date given: no dates to keep to, so any time.
    if (next.when === "dates" && !next.from && !next.to) next.when = "any";
    // An order is asked for when it was in the URL or has just been chosen; else it follows `when` (an upcoming
    // list's "soonest first" does not stay when "any time" is chosen). listUrl leaves a default out.
    next.sort = state.sort || values.sort !== effectiveSort(state) ? values.sort : "";
    const to = listUrl(path, next);
    if (to !== location.pathname + location.search) navigate(to);
  });
  return box;
}

export async function render(root, ctx) {
  const path = location.pathname === "/events" ? "/events" : "/";
  const state = readState(path, ctx.query);
  const filtered = isFiltered(path, state);
  const categories = await api.categories().catch(() => []);
  const query = apiQuery(state);
  const title = state.q ? `Events matching “${state.q}”` : state.when === "upcoming" ? "Upcoming events" : "All events";
  ctx.setTitle(title);
  const area = messageArea();
  const lede = h(
    "p",
    { class: "lede" },
    state.when === "upcoming"
      ? "Sessions that have not started yet"
      : state.when === "dates"
        ? `Events starting${datesText(state)}`
        : "Every published event",
    effectiveSort(state) === "soonest" ? ", soonest first. " : ", newest first. ",
    state.when === "upcoming"
      ? h("a", { href: listUrl(path, { ...state, when: "any" }) }, "See all events")
      : h("a", { href: listUrl(path, { ...state, when: "upcoming", from: "", to: "" }) }, "See upcoming events only"),
  );
  append(root, h("h1", {}, title), lede, categoryChips(path, state, categories), filtersForm(path, state), area);

  let first;
  try {
    first = await readPages(query, null, ctx.signal);
  } catch (error) {
    if (error.status !== 400) throw error;
    // A filter the API refuses (a search with no word of 3 letters, an unknown category, a date it cannot
    // read): said here, with the ways out, rather than as a failed page.
    const refused = error.fieldErrors;
    const messages = Object.values(refused).map((texts) => texts.join(" "));
    show(area, "error", messages.join(" ") || error.message, loosenings(path, state, Object.keys(refused)));
    return;
  }

  const items = h("ul", { class: "cards" }, first.events.map((event) => eventCard(event)));
  const count = h("p", { class: "result-count", "aria-live": "polite" });
  const more = h("button", { type: "button", class: "button button-secondary" }, "More events");
  let cursor = first.next;
  let shown = first.events.length;
  const empty = h("div", { class: "empty" });

  const update = () => {
    more.hidden = !cursor;
    items.hidden = shown === 0;
    if (shown === 0 && cursor) {
      fill(empty, h("p", {}, `No ${describe(state, categories)} found yet: there are more events to look through.`));
    } else if (shown === 0 && filtered) {
      fill(empty, h("p", {}, `No ${describe(state, categories)}.`), h("p", {}, "Try this:"), loosenings(path, state));
    } else if (shown === 0) {
      fill(empty, h("p", {}, state.when === "upcoming" ? "No upcoming events right now." : "No events yet."));
    } else {
      fill(empty);
    }
    empty.hidden = shown > 0;
    count.textContent = shown ? `${shown} ${shown === 1 ? "event" : "events"} shown${cursor ? ", more to come" : ""}.` : "";
  };
  more.addEventListener("click", () => {
    busy(more, async () => {
      const page = await readPages(query, cursor, ctx.signal);
      const added = page.events.map((event) => eventCard(event));
      append(items, added);
      cursor = page.next;
      shown += added.length;
      update();
      // The button may be gone: the reader goes on from the first event it brought.
      if (added.length) added[0].querySelector("a").focus();
    }, "Loading…").catch((error) => {
      if (!ctx.signal.aborted) show(area, "error", error.message || "Something went wrong. Try again.");
    });
  });
  update();
  append(root, empty, count, items, h("p", { class: "more" }, more));
}
