// "/profile": the signed-in user's account, and what they may change themselves: their picture, e-mail and
// password; and signing out on every device. Each part is a section built by a function of `sections` below.

import * as api from "../api.js";
import { factList, section } from "../components.js";
import { append, fill, h } from "../dom.js";
import { checkRepeated, field, form, newPasswordFields, submitButton } from "../forms.js";
import { moment } from "../format.js";
import { navigate } from "../navigation.js";
import * as session from "../session.js";
import { chosenFile, imageField, uploadImage } from "../uploads.js";

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

function avatar(user) {
  const shown = h("div", { class: "avatar-box" });
  let remove = null;
  const draw = (current) => {
    fill(
      shown,
      current
        ? h("img", { class: "avatar avatar-large", src: current, alt: "Your picture" })
        : h("p", {}, "You have no picture yet: people see your username only."),
    );
    remove.hidden = !current;
  };
  remove = submitButton("Remove picture", { name: "action", value: "remove", secondary: true });
  const element = section(
    "Picture",
    shown,
    form({
      label: "Change picture",
      children: [imageField("avatar", "New picture")],
      buttons: [submitButton("Upload picture", { name: "action", value: "upload" }), remove],
      onSubmit: async (values, submitter) => {
        let avatarId = null;
        if (values.action === "upload") {
          avatarId = await uploadImage(chosenFile(values.avatar), { purpose: "avatar", name: "avatar" });
        }
        const updated = await api.updateMe({ avatar: avatarId });
        session.setUser(updated);
        draw(updated.avatar);
        submitter.form.reset(); // the file is sent: the field is ready for another one
        if (!updated.avatar) submitter.form.querySelector("input").focus(); // the pressed button is now hidden
        return updated.avatar ? "Your new picture is saved." : "Your picture is removed.";
      },
    }),
  );
  draw(user.avatar);
  return element;
}

function email(user) {
  const describe = (address) =>
    address ? `Your e-mail address is ${address}.` : "Your account has no e-mail address yet.";
  const waiting = (address) =>
    address ? `Waiting for confirmation from ${address}: open the link we sent there to change to it.` : "";
  const current = h("p", {}, describe(user.email));
  const pending = h("p", { class: "meta" }, waiting(user.email_pending));
  pending.hidden = !user.email_pending;
  return section(
    "E-mail",
    current,
    pending,
    h(
      "p",
      {},
      "Password-reset links go to this address. A new address takes effect once you open the link we send to " +
        "it; your current address is told of the change.",
    ),
    form({
      label: "Change e-mail",
      children: [
        field("email", "New e-mail address", {
          type: "email",
          required: true,
          value: user.email_pending || user.email,
          attrs: { autocomplete: "email" },
        }),
        field("current_password", "Current password", {
          type: "password",
          required: true,
          attrs: { autocomplete: "current-password" },
        }),
      ],
      buttons: [submitButton("Change e-mail")],
      onSubmit: async ({ email: address, current_password: password }, submitter) => {
        const updated = await api.updateMe({ email: address, current_password: password });
        session.setUser(updated);
        current.textContent = describe(updated.email);
        pending.textContent = waiting(updated.email_pending);
        pending.hidden = !updated.email_pending;
        submitter.form.querySelector('input[name="current_password"]').value = "";
        if (updated.email_pending) {
          return `We sent a link to ${updated.email_pending}: open it within an hour to confirm your new address.`;
        }
        return `Your e-mail address is ${updated.email || "removed"}.`;
      },
    }),
  );
}

function password(user) {
  return section(
    "Password",
    h("p", {}, "Changing your password signs you out on every other device; this one stays signed in."),
    form({
      label: "Change password",
      children: [
        field("old_password", "Current password", {
          type: "password",
          required: true,
          attrs: { autocomplete: "current-password" },
        }),
        ...newPasswordFields(),
      ],
      buttons: [submitButton("Change password")],
      onSubmit: async (values, submitter) => {
        checkRepeated(values);
        await api.changePassword(values.old_password, values.new_password);
        submitter.form.reset();
        // Every earlier token is now refused: signing in again with the new password keeps this device in.
        try {
          await session.signIn(user.username, values.new_password);
        } catch {
          await session.signOut({ revoke: false });
          navigate("/signin?next=%2Fprofile", { flash: "Your password is changed. Please sign in with it." });
          return undefined;
        }
        return "Your password is changed. Other devices are signed out; this one stays signed in.";
      },
    }),
  );
}

function everywhere() {
  return section(
    "Devices",
    h("p", {}, "Lost a device, or signed in on a shared one? Sign out everywhere, this device included."),
    form({
      label: "Sign out everywhere",
      children: [],
      buttons: [submitButton("Sign out everywhere", { secondary: true })],
      onSubmit: async () => {
        await api.signOutEverywhere();
        await session.signOut({ revoke: false }); // the API has revoked every token already
        navigate("/", { flash: "You are signed out on every device." });
        return undefined;
      },
    }),
  );
}

export const sections = [account, avatar, email, password, everywhere];

export async function render(root, ctx) {
  const user = await api.me(ctx.signal);
  session.setUser(user);
  ctx.setTitle("Profile");
  append(root, h("h1", {}, "Your profile"), ...sections.map((build) => build(user)));
}
