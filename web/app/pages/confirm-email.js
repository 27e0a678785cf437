// "/confirm-email?uid=<uid>&token=<token>": the page the API's e-mail to a new address links to
// ({WEB_APP_URL}/confirm-email?...). Opening it confirms the address (POST /api/email/confirm/ with the link's
// uid and token): the account's address changes to it. A link that is wrong, used, replaced by a newer one, older
// than an hour, or void because the password changed since, is refused (400), and the page says so.

import * as api from "../api.js";
import { append, h, messageArea, show } from "../dom.js";
import * as session from "../session.js";

export async function render(root, ctx) {
  ctx.setTitle("Confirm your e-mail address");
  const uid = ctx.query.get("uid");
  const token = ctx.query.get("token");
  const area = messageArea();
  append(root, h("h1", {}, "Confirm your e-mail address"), area);
  if (!uid || !token) {
    show(area, "error", "This page needs the whole link from the e-mail: part of it is missing.");
    return;
  }
  show(area, "info", "Confirming your new address…");
  try {
    const { detail } = await api.confirmEmail({ uid, token });
    show(area, "success", detail, " ", h("a", { href: "/profile" }, "See your profile"));
    // The page's own copy of the signed-in user still has the old address.
    if (session.currentUser() && session.currentUser().id === uid) {
      session.setUser(await api.me().catch(() => session.currentUser()));
    }
  } catch (error) {
    if (error.status !== 400) {
      show(area, "error", error.message);
      return;
    }
    show(
      area,
      "error",
      "This link cannot be used: it is incomplete, has already been used, has been replaced by a newer one, is " +
        "more than an hour old, or the password was changed since. Ask for the change again from your ",
      h("a", { href: "/profile" }, "profile"),
      ".",
    );
  }
}
