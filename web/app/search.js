// The events list's filters, kept in its URL so that a list can be shared, reloaded and gone back to: what a
// URL asks for (its state), the URL for a state, and the API query that lists it. The header's search box and
// the list page (pages/events.js) both go through here, so that they build the same addresses.
//
// "/" lists upcoming events unless its URL says otherwise, "/events" every event: `upcoming` is in the URL only
// when it differs from its path's default, and `from`/`to` (dates) replace it.

/** The paths that show the list, and when each lists events by default. */
export const LIST_PATHS = { "/": "upcoming", "/events": "any" };

const TEXT = ["q", "category", "tag", "city"];
const BOOLEAN = ["online", "free"];
const SORTS = ["newest", "soonest"];

export const isListPath = (pathname) => pathname in LIST_PATHS;

/**
 * The list a URL asks for: {q, category, tag, city, online, free ("true", "false" or ""), when ("upcoming",
 * "any", "dates"), from, to, sort ("newest", "soonest" or "": the default for `when`)}. Values it cannot be
 * (a sort or a boolean of another spelling) are left out, as if absent.
 */
export function readState(pathname, params) {
  const value = (name) => (params.get(name) || "").trim();
  const state = {};
  for (const name of TEXT) state[name] = value(name);
  for (const name of BOOLEAN) state[name] = ["true", "false"].includes(value(name)) ? value(name) : "";
  state.from = value("from");
  state.to = value("to");
  const upcoming = value("upcoming");
  if (state.from || state.to) state.when = "dates";
  else if (upcoming === "true" || upcoming === "false") state.when = upcoming === "true" ? "upcoming" : "any";
  else state.when = LIST_PATHS[pathname] || "upcoming";
  state.sort = SORTS.includes(value("sort")) ? value("sort") : "";
  return state;
}

/** The order a list is in: the one asked for, else soonest first for upcoming events and newest otherwise. */
export const effectiveSort = (state) => state.sort || (state.when === "upcoming" ? "soonest" : "newest");

/** The URL of the list `state` asks for, on `pathname` ("/" or "/events"); defaults are left out. */
export function listUrl(pathname, state) {
  const path = isListPath(pathname) ? pathname : "/";
  const params = new URLSearchParams();
  for (const name of [...TEXT, ...BOOLEAN]) if (state[name]) params.set(name, state[name]);
  if (state.when === "dates") {
    if (state.from) params.set("from", state.from);
    if (state.to) params.set("to", state.to);
  } else if (state.when && state.when !== LIST_PATHS[path]) {
    params.set("upcoming", state.when === "upcoming" ? "true" : "false");
  }
  const sort = state.sort || "";
  if (sort && sort !== effectiveSort({ ...state, sort: "" })) params.set("sort", sort);
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}

/** The API's query for `state` (GET /api/events/); nothing for what is the API's own default. */
export function apiQuery(state) {
  const query = {};
  for (const name of [...TEXT, ...BOOLEAN]) if (state[name]) query[name] = state[name];
  if (state.when === "upcoming") query.upcoming = "true";
  if (state.when === "dates") {
    if (state.from) query.from = state.from;
    if (state.to) query.to = state.to;
  }
  if (state.sort && state.sort !== effectiveSort({ ...state, sort: "" })) query.sort = state.sort;
  return query;
}

/** Whether `state` narrows its path's list at all (a search, a category, a filter, another time or order). */
export function isFiltered(pathname, state) {
  return listUrl(pathname, state) !== (isListPath(pathname) ? pathname : "/");
}
