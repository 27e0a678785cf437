// Pages by path, with the History API: links inside the site change the page without reloading it, the back
// button works, and each page gets a heading focused and announced, like a page load would.

import { here, navigate, setRenderer, signInPath } from "./navigation.js";
import { routes } from "./routes.js";
import * as session from "./session.js";
import { announce, fill, h, notice } from "./dom.js";
import { SITE_NAME } from "./settings.js";
import { errorView } from "./pages/errors.js";

// How long a page may take before "Loading…" is shown instead of the previous page.
const LOADING_DELAY_MS = 200;

const compiled = routes.map((route) => ({
  ...route,
  pattern: new RegExp(`^${route.path.replace(/:(\w+)/g, "(?<$1>[^/]+)")}$`),
}));

let main = null;
let current = null; // the navigation being rendered: {controller}
let shown = null; // the path and query of the page last rendered
let afterRender = () => {};

/** Start routing: render the current URL and take over same-site links and the back button. */
export function start(mainElement, { onRender } = {}) {
  main = mainElement;
  setRenderer(render);
  afterRender = onRender || afterRender;
  history.scrollRestoration = "manual";
  document.addEventListener("click", interceptLink);
  // Back and forward show the page again, without the message it was first shown with. Following an anchor on
  // the page (the skip link) fires popstate too: that is not another page, and rendering it again would take
  // the keyboard's focus away from where the anchor put it.
  window.addEventListener("popstate", () => {
    if (here() !== shown) render({});
  });
  return render({ initial: true });
}

function interceptLink(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest("a[href]");
  if (!link || link.target || link.hasAttribute("download")) return;
  const url = new URL(link.href);
  if (url.origin !== location.origin) return;
  const samePage = url.pathname + url.search === here();
  if (samePage && url.hash) return; // an anchor on this page (the skip link): the browser's own job
  event.preventDefault();
  if (!samePage) navigate(url.pathname + url.search);
}

function normalized(pathname) {
  return pathname.length > 1 && pathname.endsWith("/") ? pathname.slice(0, -1) : pathname;
}

function match(pathname) {
  for (const route of compiled) {
    const found = route.pattern.exec(normalized(pathname));
    if (found) return { route, params: found.groups || {} };
  }
  return null;
}

/** Where a route refuses the current user: a redirect, or null to go on. */
function guard(route) {
  const user = session.currentUser();
  if ((route.access === "signed-in" || route.access === "creator") && !user) {
    return { redirect: signInPath(), flash: "Please sign in to see that page." };
  }
  if (route.access === "creator" && !session.isCreator(user)) {
    return { forbidden: "This page is for creators: your account can book events, not publish them." };
  }
  return null;
}

async function render(state) {
  if (current) current.controller.abort();
  const navigation = { controller: new AbortController() };
  current = navigation;
  shown = here();
  const { signal } = navigation.controller;
  const found = match(location.pathname);
  const loading = setTimeout(() => {
    if (current !== navigation) return;
    main.setAttribute("aria-busy", "true");
    fill(main, h("p", { class: "loading" }, "Loading…"));
  }, LOADING_DELAY_MS);
  const root = h("div", { class: "page" });
  let title = SITE_NAME;
  const ctx = {
    params: found ? found.params : {},
    query: new URLSearchParams(location.search),
    signal,
    user: session.currentUser(),
    setTitle: (text) => {
      title = text;
    },
  };
  try {
    const refusal = found ? guard(found.route) : null;
    if (refusal && refusal.redirect) {
      clearTimeout(loading);
      navigate(refusal.redirect, { replace: true, flash: refusal.flash });
      return;
    }
    if (refusal) throw Object.assign(new Error(refusal.forbidden), { status: 403 });
    const page = found ? await found.route.page() : await import("./pages/not-found.js");
    await page.render(root, ctx);
  } catch (error) {
    if (signal.aborted || current !== navigation) return;
    if (error.sessionEnded) {
      clearTimeout(loading);
      navigate(signInPath(), { replace: true, flash: error.message });
      return;
    }
    fill(root, errorView(error, ctx));
  } finally {
    clearTimeout(loading);
  }
  if (current !== navigation) return; // a later navigation replaced this one
  // The flash is said in a message area of its own: the page's next outcome replaces it (dom.js show()).
  if (state.flash) root.prepend(h("div", { class: "messages flash" }, notice("info", state.flash)));
  fill(main, root);
  main.removeAttribute("aria-busy");
  document.title = title === SITE_NAME ? SITE_NAME : `${title} · ${SITE_NAME}`;
  afterRender();
  // A page loaded by the browser starts like any page (focus at the top: the skip link comes first, and
  // screen readers read the title). A page shown by the app moves focus to its heading and says its name.
  if (state.initial) return;
  window.scrollTo(0, 0);
  const heading = main.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  } else {
    main.focus({ preventScroll: true });
  }
  announce(state.flash ? `${title}. ${state.flash}` : title);
}
