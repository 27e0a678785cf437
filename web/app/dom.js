// Building the page: elements are made with h(), never from HTML strings, so text from the API (titles,
// descriptions, error messages) is always text, never markup.

/**
 * h("a", {href: "/", class: "x", onclick: fn}, "text", child, [more children])
 * Attributes whose value is false, null or undefined are left out; true sets an empty attribute.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (name === "value" && "value" in element) {
      element.value = value;
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  return append(element, ...children);
}

/**
 * Append children to `parent`, as h() does: nested lists are flattened, null, undefined and false skipped (the
 * DOM's own append() and replaceChildren() would write them out as the text "null" or "undefined").
 */
export function append(parent, ...children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, ...child);
    else parent.append(child instanceof Node ? child : String(child));
  }
  return parent;
}

/** Replace what `parent` holds with `children`, as append() takes them (never replaceChildren() with content). */
export function fill(parent, ...children) {
  parent.replaceChildren();
  return append(parent, ...children);
}

let counter = 0;

/** A unique id for linking labels, descriptions and errors to their fields. */
export function uid(prefix = "id") {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** Say `message` to screen readers (the page-wide polite live region). */
export function announce(message) {
  const region = document.getElementById("announcer");
  if (!region) return;
  // Emptied first: the same message twice in a row would otherwise not be read again.
  region.textContent = "";
  setTimeout(() => {
    region.textContent = message;
  }, 50);
}

/**
 * Where a part of the page reports outcomes: a polite live region that exists before anything is said in it
 * (screen readers ignore a live region inserted together with its text). Failures inside it are alerts.
 */
export function messageArea(attributes = {}) {
  return h("div", { class: "messages", "aria-live": "polite", ...attributes });
}

/**
 * A message box: kind is "success", "info", "warning" (something the reader loses, such as money not refunded)
 * or "error" (an alert, read at once). The words carry the meaning; the colour only repeats it.
 */
export function notice(kind, ...content) {
  return h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : null }, ...content);
}

/**
 * Replace what `area` shows with a notice, or with nothing when `kind` is null. A page says one outcome at a
 * time: the message it opened with (a flash from the page before) and what its other areas said about earlier
 * actions go, so that an old "saved" is never left beside what has happened since.
 */
export function show(area, kind, ...content) {
  const page = area.closest("main");
  if (page) {
    for (const other of page.querySelectorAll(".messages")) if (other !== area) other.replaceChildren();
  }
  fill(area, kind ? notice(kind, ...content) : null);
}
