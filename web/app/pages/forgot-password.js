// "/forgot-password": ask for a link to reset the password, sent to the account's e-mail address. The API
// answers the same whether or not the address has an account, so the page says what happens in either case.

import * as api from "../api.js";
import { append, h } from "../dom.js";
import { field, form, submitButton } from "../forms.js";

export async function render(root, ctx) {
  ctx.setTitle("Forgot your password?");
  append(
    root,
    h("h1", {}, "Forgot your password?"),
    h("p", { class: "lede" }, "Give the e-mail address of your account: we send it a link to choose a new password."),
    form({
      label: "Ask for a reset link",
      children: [
        field("email", "E-mail address", { type: "email", required: true, attrs: { autocomplete: "email" } }),
      ],
      buttons: [submitButton("Send the link")],
      onSubmit: async ({ email }) => {
        await api.requestPasswordReset(email);
        return (
          `If an account uses ${email}, a link to reset its password is on its way there. ` +
          "The link works once, for an hour; only the latest one sent works. Nothing arrived? Check the spam folder, " +
          "or ask again."
        );
      },
    }),
    h("p", {}, "Remembered it? ", h("a", { href: "/signin" }, "Sign in")),
  );
}
