// "/reset-password?uid=<uid>&token=<token>": the page the API's password-reset e-mail links to
// ({WEB_APP_URL}/reset-password?...). A new password for the account, sent with the link's uid and token to
// POST /api/password/reset/confirm/; then sign in with it. A link that is wrong, used, replaced by a newer one
// or older than an hour is refused (400 on `uid` or `token`), and the page says so and offers a new one.

import * as api from "../api.js";
import { append, h, show } from "../dom.js";
import { checkRepeated, form, newPasswordFields, submitButton } from "../forms.js";
import { navigate } from "../navigation.js";
import * as session from "../session.js";

const ASK_AGAIN = () => h("a", { href: "/forgot-password" }, "Ask for a new link");

function unusableLink(area) {
  show(
    area,
    "error",
    "This link cannot be used: it is incomplete, has already been used, has been replaced by a newer one, or is " +
      "more than an hour old. ",
    ASK_AGAIN(),
    ".",
  );
}

export async function render(root, ctx) {
  ctx.setTitle("Reset your password");
  const uid = ctx.query.get("uid");
  const token = ctx.query.get("token");
  append(root, h("h1", {}, "Reset your password"));
  if (!uid || !token) {
    append(
      root,
      h("p", {}, "This page needs the whole link from the password-reset e-mail: part of it is missing."),
      h("p", {}, ASK_AGAIN(), " or ", h("a", { href: "/signin" }, "sign in")),
    );
    return;
  }
  const resetForm = form({
    label: "Choose a new password",
    children: newPasswordFields(),
    buttons: [submitButton("Set the new password")],
    onSubmit: async (values) => {
      checkRepeated(values);
      try {
        await api.confirmPasswordReset({ uid, token, new_password: values.new_password });
      } catch (error) {
        const fields = error.status === 400 ? error.fieldErrors : {};
        if (!("uid" in fields || "token" in fields)) throw error; // a weak password: shown beside its field
        unusableLink(resetForm.querySelector(".messages"));
        return undefined;
      }
      // Every token of the account is revoked: a session of that account here is over.
      if (session.currentUser() && session.currentUser().id === uid) await session.signOut({ revoke: false });
      navigate("/signin", { replace: true, flash: "Your password has been reset. Sign in with your new password." });
      return undefined;
    },
  });
  append(root, h("p", { class: "lede" }, "Choose the password you will sign in with from now on."), resetForm);
}
