// "/reset-password?uid=<uid>&token=<token>": reserved for the page the API's password-reset e-mail links to
// ({WEB_APP_URL}/reset-password?...). Phase 2 replaces this module with the form that sends uid, token and
// the new password to POST /api/password/reset/confirm/. Nothing links here yet.

import { append, h } from "../dom.js";

export async function render(root, ctx) {
  ctx.setTitle("Reset your password");
  append(root, 
    h("h1", {}, "Reset your password"),
    h("p", {}, "Resetting a password from an e-mailed link is not available yet."),
    h("p", {}, h("a", { href: "/signin" }, "Sign in"), " or ", h("a", { href: "/" }, "see upcoming events")),
  );
}
