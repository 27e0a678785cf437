// "/signup": a new USER account, then signed in at once.

import { append, h } from "../dom.js";
import { field, form, PASSWORD_RULES, submitButton } from "../forms.js";
import { navigate } from "../navigation.js";
import * as session from "../session.js";
import * as api from "../api.js";
import { nextPath } from "./signin.js";

export async function render(root, ctx) {
  ctx.setTitle("Create an account");
  const next = nextPath(ctx.query);
  append(root,
    h("h1", {}, "Create an account"),
    h("p", { class: "lede" }, "An account lets you book seats. Creators who publish events get their role from staff."),
    form({
      label: "Create an account",
      children: [
        field("username", "Username", {
          required: true,
          help: "Letters, digits and @ . + - _ only; 150 characters at most.",
          attrs: { autocomplete: "username", autocapitalize: "none", spellcheck: "false", maxlength: 150 },
        }),
        field("email", "E-mail", { type: "email", required: true, attrs: { autocomplete: "email" } }),
        field("password", "Password", {
          type: "password",
          required: true,
          help: PASSWORD_RULES,
          attrs: { autocomplete: "new-password" },
        }),
      ],
      buttons: [submitButton("Create account")],
      onSubmit: async ({ username, email, password }) => {
        await api.register({ username, email, password });
        const user = await session.signIn(username, password);
        const welcome = `Welcome, ${user.username}. Your account is ready and you are signed in.`;
        navigate(next, { replace: true, flash: welcome });
      },
    }),
    h("p", {}, "Already have an account? ", h("a", { href: `/signin${location.search}` }, "Sign in")),
  );
}
