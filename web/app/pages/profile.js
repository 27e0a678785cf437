// "/profile": the signed-in user's account, and what they may change themselves. Each part is a section
// built by a function of `sections` below. Phase 2 adds two: the avatar (an upload, then PATCH /api/me/
// {"avatar": "<upload id>"}) and the password change (POST /api/me/password/).

import * as api from "../api.js";
import { factList, section } from "../components.js";
import { append, h } from "../dom.js";
import { field, form, submitButton } from "../forms.js";
import { moment } from "../format.js";
import * as session from "../session.js";

const ROLES = { USER: "Member: books events", CREATOR: "Creator: publishes and books events" };

function account(user) {
  const rows = [
    ["Username", user.username],
    ["Role", ROLES[user.role] || user.role],
    user.is_staff ? ["Staff", "Yes"] : null,
    ["Member since", moment(user.date_joined)],
  ];
  return section("Account", factList(rows));
}

function email(user) {
  const describe = (address) =>
    address ? `Your e-mail address is ${address}.` : "Your account has no e-mail address yet.";
  const current = h("p", {}, describe(user.email));
  return section(
    "E-mail",
    current,
    form({
      label: "Change e-mail",
      children: [
        field("email", "New e-mail address", {
          type: "email",
          required: true,
          value: user.email,
          attrs: { autocomplete: "email" },
        }),
      ],
      buttons: [submitButton("Save e-mail")],
      onSubmit: async ({ email: address }) => {
        const updated = await api.updateMe({ email: address });
        session.setUser(updated);
        current.textContent = describe(updated.email);
        return `Saved: your e-mail address is now ${updated.email}.`;
      },
    }),
  );
}

export const sections = [account, email];

export async function render(root, ctx) {
  const user = await api.me(ctx.signal);
  session.setUser(user);
  ctx.setTitle("Profile");
  append(root, h("h1", {}, "Your profile"), ...sections.map((build) => build(user)));
}
