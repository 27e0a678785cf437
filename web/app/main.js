// The site's entry point: the navigation, the pages, and the signed-in user kept up to date.

import * as api from "./api.js";
import { fill, h } from "./dom.js";
import { renderNav } from "./nav.js";
import { navigate } from "./navigation.js";
import * as router from "./router.js";
import { isListPath, listUrl, readState } from "./search.js";
import * as session from "./session.js";
import { config } from "./settings.js";

const nav = document.getElementById("nav");
const main = document.getElementById("main");

const search = document.getElementById("site-search");
const searchInput = document.getElementById("site-search-q");

function drawNav() {
  renderNav(nav, session.currentUser(), signOut);
}

/** After each page: the search box says what the list shows (empty elsewhere), unless it is being typed in. */
function drawSearch() {
  if (document.activeElement === searchInput) return;
  const params = new URLSearchParams(location.search);
  searchInput.value = isListPath(location.pathname) ? params.get("q") || "" : "";
}

/** The header's search: on the list, the same filters with these words; elsewhere, upcoming events. */
function submitSearch(event) {
  event.preventDefault();
  const onList = isListPath(location.pathname);
  const path = onList ? location.pathname : "/";
  const state = readState(path, new URLSearchParams(onList ? location.search : ""));
  const to = listUrl(path, { ...state, q: searchInput.value.trim() });
  navigate(to, { replace: to === location.pathname + location.search });
}

function rendered() {
  drawNav();
  drawSearch();
}

async function signOut() {
  await session.signOut();
  navigate("/", { flash: "You are signed out." });
}

/** Who the stored tokens belong to now (a role may have changed since sign-in); ends a dead session. */
async function revalidateUser() {
  if (!session.currentUser()) return;
  try {
    session.setUser(await api.me());
  } catch {
    // A session that cannot be renewed has been ended by the API layer; a network failure changes nothing.
  }
}

if (config.apiUrl) {
  session.onChange(drawNav);
  drawNav();
  search.addEventListener("submit", submitSearch);
  router.start(main, { onRender: rendered });
  revalidateUser();
} else {
  fill(
    main,
    h("h1", {}, "The site is not configured"),
    h("p", { role: "alert" }, "config.js does not say where the API is (apiUrl); make run and make deploy write it."),
  );
}
