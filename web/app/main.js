// The site's entry point: the navigation, the pages, and the signed-in user kept up to date.

import * as api from "./api.js";
import { fill, h } from "./dom.js";
import { renderNav } from "./nav.js";
import { navigate } from "./navigation.js";
import * as router from "./router.js";
import * as session from "./session.js";
import { config } from "./settings.js";

const nav = document.getElementById("nav");
const main = document.getElementById("main");

function drawNav() {
  renderNav(nav, session.currentUser(), signOut);
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
  router.start(main, { onRender: drawNav });
  revalidateUser();
} else {
  fill(
    main,
    h("h1", {}, "The site is not configured"),
    h("p", { role: "alert" }, "config.js does not say where the API is (apiUrl); make run and make deploy write it."),
  );
}
