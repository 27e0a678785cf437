// The main navigation, for the current user: their pages, their picture, sign out, and for staff the staff
// console (served by the API at /admin/, under its stage prefix).

import { fill, h } from "./dom.js";
import { apiUrl } from "./http.js";
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
  { href: () => apiUrl("/admin/").href, label: "Staff console", when: (user) => Boolean(user && user.is_staff) },
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
    const href = typeof item.href === "function" ? item.href() : item.href;
    const current = isCurrent(href) ? "page" : null;
    list.append(h("li", {}, h("a", { href, "aria-current": current }, item.label)));
  }
  if (user) {
    list.append(
      h(
        "li",
        { class: "nav-user" },
        // Decoration: the text beside it says whose picture it is.
        user.avatar ? h("img", { class: "avatar avatar-small", src: user.avatar, alt: "" }) : null,
        h("span", { class: "nav-username" }, `Signed in as ${user.username}`),
        h("button", { type: "button", class: "link-button", onclick: onSignOut }, "Sign out"),
      ),
    );
  }
  fill(nav, list);
}
