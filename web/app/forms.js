// Forms: labelled fields with help and error text tied to them, and the API's DRF errors shown where they
// belong: {"field": ["message"]} next to the field, `detail` and `non_field_errors` above the form.
// Forms are `novalidate`: the API's messages are the only ones, in one place.

import { h, messageArea, show, uid } from "./dom.js";
import { signInPath } from "./navigation.js";
import { busy } from "./components.js";
import { ApiError } from "./http.js";

/** The API's password rules (Django's validators), as help for the fields that set a password. */
export const PASSWORD_RULES =
  "At least 8 characters, not all digits, not a common password, and not like your username or e-mail.";

/**
 * A labelled field named `name` (the API's field name, so that its errors find it).
 * Options: type, value, required, autocomplete, help, multiline, choices (a <select> of [value, label] options),
 * and any other input attribute in `attrs`.
 */
export function field(
  name,
  label,
  { type = "text", value = "", required = false, help, multiline, choices, attrs = {} } = {},
) {
  const id = uid(`field-${name}`);
  const helpId = help ? `${id}-help` : null;
  const errorId = `${id}-error`;
  const common = {
    id,
    name,
    "aria-describedby": [helpId, errorId].filter(Boolean).join(" "),
    "aria-required": required ? "true" : null,
    ...attrs,
  };
  let control;
  if (choices) {
    const options = choices.map(([v, text]) => h("option", { value: v, selected: v === (value ?? "") }, text));
    control = h("select", common, options);
  } else if (multiline) {
    control = h("textarea", { ...common, rows: 6 }, value ?? "");
  } else {
    control = h("input", { ...common, type, value: value ?? "" });
  }
  // "(required)" is for the eye; aria-required says it to screen readers, once.
  const mark = required ? h("span", { class: "required", "aria-hidden": "true" }, " (required)") : null;
  return h(
    "div",
    { class: "field", dataset: { field: name } },
    h("label", { for: id }, label, mark),
    help ? h("p", { id: helpId, class: "help" }, help) : null,
    control,
    h("p", { id: errorId, class: "field-error", hidden: true }),
  );
}

/** A labelled checkbox named `name` (its value "yes" when checked), with help and error text like field()'s. */
export function checkbox(name, label, { checked = false, help } = {}) {
  const id = uid(`field-${name}`);
  const helpId = help ? `${id}-help` : null;
  const errorId = `${id}-error`;
  return h(
    "div",
    { class: "field", dataset: { field: name } },
    h(
      "p",
      { class: "check" },
      h("input", {
        type: "checkbox",
        id,
        name,
        value: "yes",
        checked,
        "aria-describedby": [helpId, errorId].filter(Boolean).join(" "),
      }),
      h("label", { for: id }, label),
    ),
    help ? h("p", { id: helpId, class: "help" }, help) : null,
    h("p", { id: errorId, class: "field-error", hidden: true }),
  );
}

/**
 * A form: `children` (fields), its submit buttons, and an area for messages above them. `onSubmit(values,
 * submitter)` runs with the form's values; an ApiError it throws is shown on the form; its resolved value
 * (a string) is shown as success.
 */
export function form({ label, children, buttons, onSubmit }) {
  const area = messageArea();
  const element = h(
    "form",
    { novalidate: true, "aria-label": label },
    area,
    ...children,
    h("div", { class: "actions" }, ...buttons),
  );
  element.addEventListener("submit", (event) => {
    event.preventDefault();
    const submitter = event.submitter || element.querySelector("button[type=submit]");
    busy(submitter, async () => {
      clearErrors(element, area);
      const values = Object.fromEntries(new FormData(element).entries());
      if (submitter && submitter.name) values[submitter.name] = submitter.value;
      const done = await onSubmit(values, submitter);
      if (typeof done === "string") show(area, "success", done);
    }, "Sending…").catch((error) => showErrors(element, area, error));
  });
  return element;
}

export function submitButton(label, { name, value, secondary = false } = {}) {
  return h("button", { type: "submit", class: secondary ? "button button-secondary" : "button", name, value }, label);
}

export function clearErrors(formElement, area) {
  for (const error of formElement.querySelectorAll(".field-error")) {
    error.textContent = "";
    error.hidden = true;
  }
  for (const control of formElement.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  show(area, null);
}

function fieldLabel(formElement, name) {
  const box = formElement.querySelector(`[data-field="${CSS.escape(name)}"] label`);
  return box ? box.firstChild.textContent : name;
}

/** Show `error` (an ApiError, or anything thrown) on `formElement`; focus the first field in error. */
export function showErrors(formElement, area, error) {
  if (error.sessionEnded) {
    show(area, "error", `${error.message} `, h("a", { href: signInPath() }, "Sign in"));
    return;
  }
  if (!("status" in error)) console.error(error); // a bug, not an answer
  const general = [];
  let first = null;
  const fieldErrors = error.status === 400 ? error.fieldErrors : {};
  for (const [name, messages] of Object.entries(fieldErrors)) {
    const box = formElement.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (name === "non_field_errors" || !box) {
      const label = name === "non_field_errors" ? null : fieldLabel(formElement, name);
      general.push(...messages.map((m) => (label ? `${label}: ${m}` : m)));
      continue;
    }
    const text = box.querySelector(".field-error");
    text.textContent = messages.join(" ");
    text.hidden = false;
    const control = box.querySelector("input, textarea, select");
    control.setAttribute("aria-invalid", "true");
    first = first || control;
  }
  if (general.length) show(area, "error", general.join(" "));
  else if (first) show(area, "error", "Please correct the errors below.");
  else show(area, "error", "status" in error ? error.message : "Something went wrong. Try again.");
  if (first) first.focus();
}

/** A new password typed twice (the second only here, against typing errors), for the change and the reset. */
export function newPasswordFields() {
  return [
    field("new_password", "New password", {
      type: "password",
      required: true,
      help: PASSWORD_RULES,
      attrs: { autocomplete: "new-password" },
    }),
    field("new_password_again", "New password, again", {
      type: "password",
      required: true,
      attrs: { autocomplete: "new-password" },
    }),
  ];
}

/** Refuses (as a field error) a new password typed differently the second time. */
export function checkRepeated(values) {
  if (values.new_password !== values.new_password_again) {
    throw new ApiError(400, { new_password_again: ["The two passwords are not the same."] });
  }
}
