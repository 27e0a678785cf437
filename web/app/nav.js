// The main navigation, for the current user. Phase 2 adds the staff console here, for `user.is_staff`, once
// /admin/ exists: { href: <API origin>/admin/, label: "Staff console", when: (user) => user.is_staff }.

import { h } from "./dom.js";
import * as session from "./session.js";

const ANYONE = () => true;
const SIGNED_IN = (user) => Boolean(user);
const SIGNED_OUT = (user) => !user;

export const items = [
  { href: "/", label: "Upcoming", when: ANYONE },
  { href: "/events", label: "All events", when: ANYONE },
  { href: "/bookings", label: "My bookings", when: SIGNED_IN },
  { href: "/dashboard", label: "Dashboard", when: (user) => session.isCreator(user) },
  { href: "/profile", label: "Profile", when: SIGNED_IN },
  { href: "/signin", label: "Sign in", when: SIGNED_OUT },
  { href: "/signup", label: "Sign up", when: SIGNED_OUT },
];

function isCurrent(href) {
  const path = location.pathname.replace(/(.)\/$/, "$1");
  return href === "/" ? path === "/" : path === href || path.startsWith(`${href}/`);
}

/** Fill `nav` for `user`; `onSignOut` runs when they press "Sign out". */
export function renderNav(nav, user, onSignOut) {
  const list = h("ul", { class: "nav-list" });
  for (const item of items) {
    if (!item.when(user)) continue;
    const current = isCurrent(item.href) ? "page" : null;
    list.append(h("li", {}, h("a", { href: item.href, "aria-current": current }, item.label)));
  }
  if (user) {
    list.append(
      h(
        "li",
        { class: "nav-user" },
        h("span", { class: "nav-username" }, `Signed in as ${user.username}`),
        h("button", { type: "button", class: "link-button", onclick: onSignOut }, "Sign out"),
      ),
    );
  }
  nav.replaceChildren(list);
}
