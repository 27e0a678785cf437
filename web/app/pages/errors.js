// What a page shows instead of itself when it cannot be shown: not found, not allowed, or the API failing.

import { h } from "../dom.js";

/** The view for an error thrown while a page was being built (ctx.setTitle is called). */
export function errorView(error, ctx) {
  if (error.status === 404) {
    ctx.setTitle("Not found");
    return h(
      "section",
      { class: "error-page" },
      h("h1", {}, "Not found"),
      h("p", {}, "There is nothing here, or it is not visible to you. Drafts are shown only to their creator."),
      h("p", {}, h("a", { href: "/" }, "See upcoming events")),
    );
  }
  if (error.status === 403) {
    ctx.setTitle("Not allowed");
    return h(
      "section",
      { class: "error-page" },
      h("h1", {}, "Not allowed"),
      h("p", {}, error.message || "You do not have permission to see this page."),
      h("p", {}, h("a", { href: "/" }, "See upcoming events")),
    );
  }
  if (!("status" in error)) console.error(error); // a bug in the page, not an answer of the API
  ctx.setTitle("Something went wrong");
  return h(
    "section",
    { class: "error-page" },
    h("h1", {}, "Something went wrong"),
    h("p", { role: "alert" }, "status" in error ? error.message : "This page failed to load."),
    h("p", {}, h("button", { type: "button", class: "button", onclick: () => location.reload() }, "Try again")),
  );
}
