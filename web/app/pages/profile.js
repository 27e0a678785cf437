// "/profile": the signed-in user's account, and what they may change themselves: their picture, e-mail and
// password, which e-mails they receive, their calendar feed; and signing out on every device. Each part is a
// section built by a function of `sections` below, from the account and what `render` reads with it.

import * as api from "../api.js";
import { busy, confirmDialog, factList, section } from "../components.js";
import { append, fill, h, messageArea, show, uid } from "../dom.js";
import { checkbox, checkRepeated, field, form, newPasswordFields, submitButton } from "../forms.js";
import { moment, zoneNames } from "../format.js";
import { navigate } from "../navigation.js";
import * as session from "../session.js";
import { chosenFile, imageField, uploadImage } from "../uploads.js";
import { organizerPath } from "./organizer.js";

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

/** A creator's organizer page ("/@<username>"): the name shown there and the bio (plain text). */
function organizerPage(user) {
  if (user.role !== "CREATOR") return null; // only creators have a page
  return section(
    "Organizer page",
    h(
      "p",
      {},
      "Your picture, this name and bio are shown with your published events on ",
      h("a", { href: organizerPath(user.username) }, "your organizer page"),
      ", and each of your events links to it.",
    ),
    form({
      label: "Change organizer page",
      children: [
        field("display_name", "Display name", {
          value: user.display_name,
          help: "Up to 60 characters. Leave empty to be shown by your username.",
          attrs: { autocomplete: "name" },
        }),
        field("bio", "Bio", {
          value: user.bio,
          multiline: true,
          help: "Up to 500 characters of plain text: line breaks are kept; links and formatting are shown as typed.",
        }),
      ],
      buttons: [submitButton("Save organizer page")],
      onSubmit: async (values, submitter) => {
        const updated = await api.updateMe({ display_name: values.display_name, bio: values.bio });
        session.setUser(updated);
        // As saved: trimmed of surrounding spaces.
        submitter.form.elements.display_name.value = updated.display_name;
        submitter.form.elements.bio.value = updated.bio;
        return "Your organizer page is saved.";
      },
    }),
  );
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

const NOTIFICATIONS_PATH = "/api/me/notifications/";
const CALENDAR_PATH = "/api/me/calendar/";
const ZONE_LIST_ID = "notification-zone-names";

function notifications(user, { preferences }) {
  const zones = h("datalist", { id: ZONE_LIST_ID }, ["UTC", ...zoneNames()].map((name) => h("option", { value: name })));
  return section(
    "Notifications",
    h(
      "p",
      {},
      "E-mails about your bookings (confirmations, the waitlist, payments, cancellations and changes to an " +
        "event) are always sent. You choose the others.",
    ),
    form({
      label: "Notification settings",
      children: [
        h(
          "fieldset",
          {},
          h("legend", {}, "Optional e-mails"),
          checkbox("reminders", "Reminders", {
            checked: preferences.reminders,
            help: "A reminder a day before each event you booked.",
          }),
          checkbox("digest", "Daily digest", {
            checked: preferences.digest,
            help: "For creators: the day's new bookings and cancellations.",
          }),
        ),
        field("timezone", "Time zone for e-mails", {
          value: preferences.timezone || "",
          help: "Times in e-mails are in the event's own zone, and also in this one when it differs (an IANA name " +
            "such as Europe/Paris). Leave empty for the event's zone only.",
          attrs: { list: ZONE_LIST_ID, autocomplete: "off", spellcheck: "false" },
        }),
        zones,
      ],
      buttons: [submitButton("Save notification settings")],
      onSubmit: async (values) => {
        const changes = {
          reminders: values.reminders === "yes",
          digest: values.digest === "yes",
          timezone: (values.timezone || "").trim() || null,
        };
        await api.request(NOTIFICATIONS_PATH, { method: "PATCH", body: changes });
        return "Your notification settings are saved.";
      },
    }),
  );
}

function calendarFeed(user, { feed }) {
  const status = messageArea();
  const addressId = uid("calendar-url");
  const addressHelpId = `${addressId}-help`;
  const address = h("input", {
    id: addressId,
    type: "text",
    readonly: true,
    value: feed.url,
    "aria-describedby": addressHelpId,
    spellcheck: "false",
  });
  const subscribe = h("a", { href: feed.webcal_url }, "Subscribe in your calendar app");
  const draw = (current) => {
    address.value = current.url;
    subscribe.href = current.webcal_url;
  };
  const copy = h("button", { type: "button", class: "button button-secondary" }, "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(address.value);
      show(status, "success", "The address is copied.");
    } catch {
      address.select(); // the reader can still copy it with the keyboard
      show(status, "info", "Copying is not allowed here: the address is selected, copy it with your keyboard.");
    }
  });
  const reset = h("button", { type: "button", class: "button button-secondary" }, "Reset link");
  reset.addEventListener("click", async () => {
    const sure = await confirmDialog({
      title: "Reset the calendar link?",
      message: "The current address stops working: calendars subscribed to it no longer update.",
      confirmLabel: "Reset link",
    });
    if (!sure) return;
    await busy(reset, async () => {
      const { data } = await api.request(CALENDAR_PATH, { method: "POST" });
      draw(data);
      show(status, "success", "The link is reset: the old address no longer works. Subscribe again with the new one.");
    }, "Resetting…").catch((error) => show(status, "error", error.message || "Something went wrong. Try again."));
  });
  return section(
    "Calendar feed",
    h(
      "p",
      {},
      "Your booked events in Google Calendar, Apple Calendar or Outlook: subscribe to this address, and your " +
        "calendar keeps itself up to date.",
    ),
    status,
    h(
      "div",
      { class: "field" },
      h("label", { for: address.id }, "Calendar address"),
      h(
        "p",
        { id: addressHelpId, class: "help" },
        "Anyone with this address sees your booked events, with their online links: keep it to yourself, and " +
          "reset it if it got out.",
      ),
      address,
    ),
    h("div", { class: "actions" }, copy, subscribe, reset),
  );
}

export const sections = [account, avatar, organizerPage, email, password, notifications, calendarFeed, everywhere];

export async function render(root, ctx) {
  const [user, preferences, feed] = await Promise.all([
    api.me(ctx.signal),
    api.request(NOTIFICATIONS_PATH, { signal: ctx.signal }).then((r) => r.data),
    api.request(CALENDAR_PATH, { signal: ctx.signal }).then((r) => r.data),
  ]);
  session.setUser(user);
  ctx.setTitle("Profile");
  append(root, h("h1", {}, "Your profile"), ...sections.map((build) => build(user, { preferences, feed })));
}
