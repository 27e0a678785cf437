// What a page shows instead of itself when it cannot be shown: not found, not allowed, or the API failing.

import { h } from "../dom.js";

function explained(ctx, title, ...content) {
  ctx.setTitle(title);
  return h("section", { class: "error-page" }, h("h1", {}, title), ...content);
}

const home = () => h("p", {}, h("a", { href: "/" }, "See upcoming events"));

/** The view for an error thrown while a page was being built (ctx.setTitle is called). */
export function errorView(error, ctx) {
  if (error.status === 404) {
    const why = "There is nothing here, or it is not visible to you. Drafts are shown only to their creator.";
    return explained(ctx, "Not found", h("p", {}, why), home());
  }
  if (error.status === 403) {
    const why = error.message || "You do not have permission to see this page.";
    return explained(ctx, "Not allowed", h("p", {}, why), home());
  }
  if (!("status" in error)) console.error(error); // a bug in the page, not an answer of the API
  return explained(
    ctx,
    "Something went wrong",
    h("p", { role: "alert" }, "status" in error ? error.message : "This page failed to load."),
    h("p", {}, h("button", { type: "button", class: "button", onclick: () => location.reload() }, "Try again")),
  );
}
