// Moving between the site's pages, as pages ask for it: going to a path (with a message for the next page),
// rendering the current one again, and the sign-in page's address. The router (router.js) renders; it hands
// its renderer over here when it starts, so that pages, which the router loads, never import the router.

let renderer = () => Promise.resolve();

/** Called once by the router: how the current URL is rendered. */
export function setRenderer(render) {
  renderer = render;
}

/** Go to `to` (a path with its query), optionally saying `flash` on the next page. */
export function navigate(to, { replace = false, flash = null } = {}) {
  const state = flash ? { flash } : {};
  if (replace) history.replaceState(state, "", to);
  else history.pushState(state, "", to);
  return renderer(state);
}

/** Render the current URL again (after a sign-out, or "Try again"). */
export function reload() {
  return renderer({});
}

/** The current path and query, as a `next` parameter for the sign-in page. */
export function here() {
  return location.pathname + location.search;
}

export function signInPath(next = here()) {
  return `/signin?next=${encodeURIComponent(next)}`;
}
