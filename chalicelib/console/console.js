// The staff console: plain DOM, no framework, nothing loaded from elsewhere. It calls the API of its own
// origin (under the same stage prefix as the page) and keeps its tokens in this tab's sessionStorage. It cannot
// share the web app's session: the web app runs on another origin, whose storage this page cannot read. Its
// session behaves as the web app's does: a refused access token (`token_not_valid`) is refreshed once, silently,
// for any number of simultaneous refusals; a session that cannot be renewed asks to sign in again and then
// returns to the page it was on; signing out revokes the refresh token (waiting at most 5 s) and forgets both.
const API = document.body.dataset.api || "";
const STORE = "sessions-staff-tokens";
// How long signing out waits for the API to revoke the refresh token before forgetting it anyway.
const SIGN_OUT_WAIT_MS = 5000;
const view = document.getElementById("view");
const nav = document.getElementById("nav");
const statusLine = document.getElementById("status");
const alertLine = document.getElementById("alert");
let tokens = JSON.parse(sessionStorage.getItem(STORE) || "null");

class Stop extends Error {}

// h("tag", {property: value, onclick: fn}, child, [children], null): an element; text is never parsed as HTML.
function h(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "for" || name === "role" || /^(aria|data)-/.test(name)) node.setAttribute(name, value);
    else node[name] = value;
  }
  return fill(node, ...children);
}

// Replace what `node` holds with `children`; null, undefined and false are left out (the DOM's own append()
// and replaceChildren() would write them out as the text "null" or "undefined").
function fill(node, ...children) {
  const kept = children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false);
  node.replaceChildren(...kept);
  return node;
}

function say(text) {
  alertLine.textContent = "";
  statusLine.textContent = text;
}

function complain(text) {
  statusLine.textContent = "";
  alertLine.textContent = text;
}

function save() {
  sessionStorage.setItem(STORE, JSON.stringify(tokens));
}

function signOut(message) {
  tokens = null;
  sessionStorage.removeItem(STORE);
  signIn(message);
}

// Revoke a refresh token (simplejwt's blacklist), so that a copy of it left in this tab's storage or a proxy's
// log cannot start a new session. Already revoked, or no answer within 5 s (offline): nothing more to do.
async function revoke(refreshToken) {
  if (!refreshToken) return;
  const signal = AbortSignal.timeout(SIGN_OUT_WAIT_MS);
  await send("POST", "/api/token/blacklist/", { refresh: refreshToken }, { anonymous: true, signal }).catch(() => null);
}

// Signing out on purpose revokes the refresh token first, then forgets both tokens.
async function revokeAndSignOut() {
  await revoke(tokens && tokens.refresh);
  signOut("You have signed out.");
}

// DRF's error shapes as one sentence: {"detail": ...} or {"field": ["message", ...]}.
function problem(body) {
  if (!body || typeof body !== "object") return "The request failed.";
  if (body.detail) return body.detail;
  return Object.entries(body)
    .map(([field, messages]) => (field === "non_field_errors" ? "" : `${field}: `) + [].concat(messages).join(" "))
    .join(" ");
}

// One request; `anonymous` sends no token (the token endpoints, which take the refresh token in the body).
async function send(method, path, body, { anonymous = false, signal } = {}) {
  const headers = {};
  if (tokens && !anonymous) headers.Authorization = `Bearer ${tokens.access}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const init = { method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body) };
  const response = await fetch(API + path, init);
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  return { ok: response.ok, status: response.status, data };
}

let refreshing = null;

// Renew the access token the API refused (`rejected`): one refresh for any number of simultaneous refusals,
// since with rotation a refresh token used twice looks stolen. Takes both answers of POST /api/token/refresh/:
// {"access"}, and {"access", "refresh"} when the API rotates refresh tokens. False: the session cannot be renewed.
function refresh(rejected) {
  if (!refreshing) {
    refreshing = (async () => {
      if (!tokens) return false;
      if (tokens.access !== rejected) return true; // renewed meanwhile
      const answer = await send("POST", "/api/token/refresh/", { refresh: tokens.refresh }, { anonymous: true });
      if (!answer.ok || !tokens) return false;
      tokens = { ...tokens, access: answer.data.access, refresh: answer.data.refresh || tokens.refresh };
      save();
      return true;
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

// A call as the signed-in staff member: an access token refused as `token_not_valid` is refreshed once,
// silently, and the call made again; any other 401, or a refused refresh, ends the session.
async function call(method, path, body) {
  const token = tokens && tokens.access;
  let answer = await send(method, path, body);
  const stale = answer.status === 401 && token && answer.data && answer.data.code === "token_not_valid";
  if (stale && (await refresh(token))) answer = await send(method, path, body);
  if (answer.status === 401) {
    signOut("Your session has ended. Please sign in again.");
    throw new Stop();
  }
  return answer;
}

// A call whose failure ends the view: its message is shown.
async function fetchOk(method, path, body) {
  const answer = await call(method, path, body);
  if (!answer.ok) {
    complain(problem(answer.data));
    throw new Stop();
  }
  return answer.data;
}

function show(title, ...content) {
  const heading = h("h1", { tabIndex: -1 }, title);
  fill(view, heading, content);
  document.title = `${title} · Staff console`;
  heading.focus();
}

let fields = 0;

function field(label, control, hint) {
  const id = `field-${(fields += 1)}`;
  control.id = id;
  const error = h("span", { className: "field-error", id: `${id}-error`, "data-error-for": control.name });
  control.setAttribute("aria-describedby", `${id}-error`);
  return h("p", { className: "field" }, h("label", { for: id }, label), hint ? h("span", { className: "hint" }, hint) : null, control, error);
}

function select(name, options, value, label) {
  const node = h("select", { name }, options.map(([v, text]) => h("option", { value: v, selected: v === (value ?? "") }, text)));
  if (label) node.setAttribute("aria-label", label);
  return node;
}

// Field errors next to their fields; the rest (detail, non_field_errors) in the alert line.
function showErrors(form, body) {
  for (const slot of form.querySelectorAll("[data-error-for]")) slot.textContent = "";
  const rest = {};
  for (const [name, messages] of Object.entries(body || {})) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (slot) slot.textContent = [].concat(messages).join(" ");
    else rest[name] = messages;
  }
  complain(Object.keys(rest).length ? problem(rest) : "Please correct the fields marked below.");
}

function when(value, absent = "never") {
  return value ? `${value.slice(0, 10)} ${value.slice(11, 16)} UTC` : absent;
}

// A table whose cells carry their column's name (data-label): on a narrow screen the style sheet shows each row
// as a card, each cell after that name (for the eye only; screen readers read the table's headers).
function table(caption, headings, rows, empty) {
  if (!rows.length) return h("p", { className: "empty" }, empty);
  const cell = (tag, props, index, content) => h(tag, { ...props, "data-label": headings[index] }, content);
  return h(
    "table",
    {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, headings.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, rows.map(([first, ...cells]) => h("tr", {}, cell("th", { scope: "row" }, 0, first), cells.map((c, i) => cell("td", {}, i + 1, c))))),
  );
}

// A list's filters, page and the cursors that reached each page (for "Previous").
function listState() {
  return { filters: {}, page: 0, cursors: [null] };
}

// Each list load takes a number: an answer that arrives after a later load has started (the staff member moved
// on, say from Users to Events while Users was loading) is dropped, so a slow earlier page never replaces the one
// asked for last.
let loads = 0;

// A load's number: the function it returns throws Stop once a later load has started.
function ticket() {
  const mine = (loads += 1);
  return () => {
    if (mine !== loads) throw new Stop();
  };
}

// A page of a list, with `filters` as the API takes them (the form's, or those with usernames made ids).
async function loadPage(path, state, filters = state.filters, current = ticket()) {
  const params = new URLSearchParams(Object.entries(filters).filter(([, value]) => value !== ""));
  const cursor = state.cursors[state.page];
  if (cursor) params.set("cursor", cursor);
  const page = await fetchOk("GET", `${path}?${params}`);
  current();
  return page;
}

// The account named `name` (exactly, whatever its case), or null. The users' search matches the start of a
// username and lists users in the order their names compare in, so an exact name comes first among its matches.
async function userNamed(name) {
  const query = new URLSearchParams({ search: name, limit: "100" });
  const page = await fetchOk("GET", `/api/admin/users/?${query}`);
  const key = (text) => text.normalize("NFKC").toLowerCase();
  return page.results.find((user) => key(user.username) === key(name)) || null;
}

// The filters as the API takes them: staff type a username for `key` (creator, actor), the API takes an id.
// Null, once the staff member is told so, when no account has that name.
async function withUserId(filters, key, current) {
  const name = (filters[key] || "").trim();
  if (!name) return filters;
  const user = await userNamed(name);
  current();
  if (user) return { ...filters, [key]: user.id };
  complain(`No user named ${name}.`);
  return null;
}

// Runs a page or an action that redraws one; a Stop (already told, or superseded) ends it quietly, anything
// else is told.
async function draw(page) {
  try {
    await page();
  } catch (error) {
    if (!(error instanceof Stop)) complain("Something went wrong; please try again.");
  }
}

function pager(label, state, page, redraw) {
  // Only the cursor is taken from `next`: the page always calls its own origin.
  const next = page.next ? new URL(page.next).searchParams.get("cursor") : null;
  const go = (step) => () => {
    if (step > 0) state.cursors[state.page + 1] = next;
    state.page += step;
    say(""); // what was said about the last page is not about this one
    draw(redraw);
  };
  return h(
    "nav",
    { className: "pager", "aria-label": `${label} pages` },
    h("button", { type: "button", disabled: state.page === 0, onclick: go(-1) }, "Previous page"),
    h("span", {}, ` Page ${state.page + 1} `),
    h("button", { type: "button", disabled: !next, onclick: go(1) }, "Next page"),
  );
}

function filterForm(label, state, controls, redraw) {
  const form = h(
    "form",
    {
      className: "filters",
      role: "search",
      "aria-label": label,
      onsubmit: (event) => {
        event.preventDefault();
        Object.assign(state, listState(), { filters: Object.fromEntries(new FormData(form)) });
        say("");
        draw(redraw);
      },
    },
    controls,
    h("button", { type: "submit" }, "Apply"),
  );
  return form;
}

const ANY_YES_NO = [["", "Any"], ["true", "Yes"], ["false", "No"]];
const ROLES = [["USER", "User"], ["CREATOR", "Creator"]];

// ---- Sign-in ----

function signIn(message) {
  nav.hidden = true;
  if (message) say(message);
  const submit = async () => {
    const answer = await send("POST", "/api/token/", Object.fromEntries(new FormData(form)), { anonymous: true });
    if (!answer.ok) return complain(problem(answer.data));
    tokens = answer.data;
    const me = await send("GET", "/api/me/");
    if (!me.ok || !me.data.is_staff) {
      await revoke(tokens.refresh); // tokens the console will not use are not left alive
      tokens = null;
      return complain("This account is not a staff account: the console is for staff only.");
    }
    tokens.username = me.data.username;
    save();
    // Back to the page the session ended on (its address kept it), or the users.
    go(PAGES[location.hash.slice(1)] ? location.hash.slice(1) : "users", `Signed in as ${me.data.username}.`);
  };
  const form = h(
    "form",
    {
      onsubmit: (event) => {
        event.preventDefault();
        draw(submit);
      },
    },
    field("Username", h("input", { name: "username", autocomplete: "username", required: true })),
    field("Password", h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
    h("button", { type: "submit" }, "Sign in"),
  );
  show("Sign in to the staff console", form);
}

// ---- Users ----

const users = listState();

const ROLE_NAMES = Object.fromEntries(ROLES);

// What a change to an account does, asked before it is made: the account's name and the change.
function question(user, change) {
  const [[name, value]] = Object.entries(change);
  const who = user.username;
  if (name === "role") return `Change ${who}'s role from ${ROLE_NAMES[user.role]} to ${ROLE_NAMES[value]}?`;
  if (name === "is_staff") {
    return value
      ? `Make ${who} staff? Staff can use this console and change every account, event and booking.`
      : `Remove ${who}'s staff status? They can no longer use this console.`;
  }
  return value
    ? `Reactivate ${who}? They can sign in again.`
    : `Deactivate ${who}? They can no longer sign in, and a session they have open ends within 5 minutes.`;
}

async function patchUser(user, change, control, revert) {
  if (!confirm(question(user, change))) {
    revert();
    return say(`${user.username}: nothing changed.`);
  }
  control.disabled = true;
  const answer = await call("PATCH", `/api/admin/users/${user.id}/`, change);
  control.disabled = false;
  if (!answer.ok) {
    revert();
    return complain(problem(answer.data));
  }
  Object.assign(user, answer.data);
  const [[name, value]] = Object.entries(change);
  say(`${user.username}: ${name.replace("is_", "")} set to ${value}.`);
}

function userRow(user) {
  const role = select("role", ROLES, user.role, `Role of ${user.username}`);
  role.addEventListener("change", () => patchUser(user, { role: role.value }, role, () => (role.value = user.role)));
  const flag = (name, label) => {
    const box = h("input", { type: "checkbox", checked: user[name] });
    box.setAttribute("aria-label", label);
    box.addEventListener("change", () => patchUser(user, { [name]: box.checked }, box, () => (box.checked = !box.checked)));
    return box;
  };
  return [
    user.username,
    user.email || "none",
    role,
    flag("is_staff", `${user.username} is staff`),
    flag("is_active", `${user.username} is active`),
    when(user.last_login),
    when(user.date_joined),
  ];
}

function newUserForm() {
  const form = h(
    "form",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const body = Object.fromEntries(new FormData(form));
        body.is_staff = form.elements.is_staff.checked;
        const answer = await call("POST", "/api/admin/users/", body);
        if (!answer.ok) return showErrors(form, answer.data);
        await usersPage();
        say(`User ${answer.data.username} created.`);
      },
    },
    field("Username", h("input", { name: "username", required: true, autocomplete: "off" })),
    field("E-mail (optional)", h("input", { name: "email", type: "email", autocomplete: "off" })),
    field("Password", h("input", { name: "password", type: "password", required: true, autocomplete: "new-password" })),
    field("Role", select("role", ROLES, "USER")),
    field("Staff", h("input", { name: "is_staff", type: "checkbox", value: "true" })),
    h("button", { type: "submit" }, "Create user"),
  );
  return h("details", {}, h("summary", {}, "Add a user"), form);
}

async function usersPage() {
  const f = users.filters;
  const filters = filterForm(
    "Find users",
    users,
    [
      field("Search", h("input", { name: "search", type: "search", value: f.search || "" }), "Start of a username, or of an e-mail address up to its @"),
      field("Role", select("role", [["", "Any"], ...ROLES], f.role)),
      field("Staff", select("is_staff", ANY_YES_NO, f.is_staff)),
      field("Active", select("is_active", ANY_YES_NO, f.is_active)),
    ],
    usersPage,
  );
  const page = await loadPage("/api/admin/users/", users);
  const headings = ["Username", "E-mail", "Role", "Staff", "Active", "Last sign-in", "Joined"];
  show("Users", filters, table("Users", headings, page.results.map(userRow), "No user matches."), pager("Users", users, page, usersPage), newUserForm());
}

// ---- Events ----

const events = listState();
const EVENT_FIELDS = [
  ["title", "Title"],
  ["description", "Description"],
  ["starts_at", "Starts at", "ISO 8601, e.g. 2027-01-31T18:00:00Z"],
  ["ends_at", "Ends at", "ISO 8601"],
  ["capacity", "Capacity", "Empty: unlimited"],
  ["location", "Location"],
  ["status", "Status"],
];

function eventForm(event, detail) {
  const control = (name) => {
    const value = event[name] ?? "";
    if (name === "description") return h("textarea", { name, value, rows: 4 });
    if (name === "status") return select(name, [["draft", "Draft"], ["published", "Published"], ["cancelled", "Cancelled"]], value);
    return h("input", { name, value: String(value), type: name === "capacity" ? "number" : "text" });
  };
  const form = h(
    "form",
    {
      onsubmit: async (submitted) => {
        submitted.preventDefault();
        // Only what was changed is sent, so the answer (and the audit log) names exactly that.
        const body = {};
        for (const [name] of EVENT_FIELDS) {
          const value = form.elements[name].value.trim();
          if (value === String(event[name] ?? "")) continue;
          body[name] = value === "" && name !== "location" ? null : name === "capacity" ? Number(value) : value;
        }
        const answer = await call("PATCH", `/api/events/${event.id}/`, body);
        if (!answer.ok) return showErrors(form, answer.data);
        await eventsPage();
        say(`Event "${answer.data.title}" saved.`);
      },
    },
    EVENT_FIELDS.map(([name, label, hint]) => field(label, control(name), hint)),
    h("button", { type: "submit" }, "Save changes"),
    h("button", { type: "button", onclick: () => fill(detail) }, "Close"),
  );
  fill(detail, h("h2", { tabIndex: -1 }, `Edit "${event.title}"`), form);
  detail.firstChild.focus();
}

// Where a booking's money stands: its refund once it has one, "paid" while a paid seat is held.
function money(booking) {
  if (booking.refund_status) return `refund ${booking.refund_status.replaceAll("_", " ")}`;
  return booking.refund_if_cancelled ? "paid" : "none";
}

const ENDED = {
  owner: "by its owner",
  organizer: "by the organizer",
  staff: "by staff",
  event_cancelled: "with the event",
  checkout_cancelled: "payment page left",
  hold_expired: "hold ran out",
};

const REFUNDED = {
  succeeded: "refunded in full",
  pending: "refund in progress",
  failed: "refund failed: the provider refused it, settle it by hand",
};

// The event's creator and staff refund in full: a paid confirmed seat is cancelled too; a payment its owner
// could not get back (cancelled after the cut-off) is refunded after all.
function refundButton(booking, event, detail) {
  const paidSeat = booking.refund_if_cancelled && booking.status === "confirmed";
  if (!paidSeat && !(booking.status === "cancelled" && booking.refund_status === "not_refundable")) return null;
  const named = `${booking.username}'s booking`;
  return actionButton("Refund", named, async () => {
    const question = paidSeat
      ? `Cancel ${named} for "${event.title}" and refund the payment in full?`
      : `Refund ${named} for "${event.title}" in full? It was cancelled too late for the policy's refund.`;
    if (!confirm(question)) return;
    const after = await fetchOk("POST", `/api/bookings/${booking.id}/refund/`, {});
    await eventBookings(event, detail);
    say(`${named}${paidSeat ? " cancelled," : ""} ${REFUNDED[after.refund_status] || after.refund_status}.`);
  });
}

function settlement(event) {
  const s = event.settlement;
  if (!s) return null;
  const done = s.completed_at ? "done" : "in progress";
  const refunds = `${s.refunds_succeeded} made, ${s.refunds_pending} pending, ${s.refunds_failed} failed`;
  const bookings = `${s.bookings} booking${s.bookings === 1 ? "" : "s"}`;
  return h("p", {}, `Settlement ${done}: ${s.settled} of ${bookings} settled; refunds: ${refunds}.`);
}

async function eventBookings(event, detail) {
  const page = await fetchOk("GET", `/api/events/${event.id}/bookings/?limit=100`);
  const rows = page.results.map((booking) => {
    const cancel = ["confirmed", "pending_payment", "waitlisted"].includes(booking.status)
      ? actionButton("Cancel", `${booking.username}'s booking`, async () => {
          const paid = booking.refund_if_cancelled ? " Its payment is refunded in full." : "";
          if (!confirm(`Cancel ${booking.username}'s booking for "${event.title}"?${paid}`)) return;
          const after = await fetchOk("POST", `/api/bookings/${booking.id}/cancel/`, {});
          await eventBookings(event, detail);
          const refunded = after.refund_status ? `, ${REFUNDED[after.refund_status] || after.refund_status}` : "";
          say(`${booking.username}'s booking cancelled${refunded}.`);
        })
      : null;
    const refund = refundButton(booking, event, detail);
    return [
      booking.username,
      booking.cancel_reason ? `${booking.status} (${ENDED[booking.cancel_reason] || booking.cancel_reason})` : booking.status,
      when(booking.created_at),
      money(booking),
      cancel || refund ? h("span", { className: "actions" }, cancel, refund) : "none",
    ];
  });
  const list = table(`Bookings of "${event.title}"`, ["User", "Status", "Booked", "Payment", "Actions"], rows, "No bookings.");
  // settlement() is null for an event that is not cancelled: fill() leaves it out (replaceChildren() wrote "null").
  fill(detail, h("h2", { tabIndex: -1 }, `Bookings of "${event.title}"`), settlement(event), list);
  detail.firstChild.focus();
}

// A short visible label, and the object it acts on for those who hear the button out of its row.
function actionButton(verb, object, action) {
  return h("button", { type: "button", onclick: () => draw(action) }, verb, h("span", { className: "visually-hidden" }, ` ${object}`));
}

function eventActions(event, detail) {
  const named = `"${event.title}"`;
  return h(
    "span",
    { className: "actions" },
    actionButton("Edit", named, () => eventForm(event, detail)),
    event.status === "cancelled"
      ? null
      : actionButton("Cancel", named, async () => {
          if (!confirm(`Cancel "${event.title}"? Its bookings are cancelled and paid ones refunded in full.`)) return;
          await fetchOk("PATCH", `/api/events/${event.id}/`, { status: "cancelled" });
          await eventsPage();
          say(`Event "${event.title}" cancelled.`);
        }),
    actionButton("Delete", named, async () => {
      if (!confirm(`Delete "${event.title}" for good?`)) return;
      await fetchOk("DELETE", `/api/events/${event.id}/`);
      await eventsPage();
      say(`Event "${event.title}" deleted.`);
    }),
    actionButton("Bookings", `of ${named}`, () => eventBookings(event, detail)),
  );
}

async function eventsPage() {
  const f = events.filters;
  const filters = filterForm(
    "Find events",
    events,
    [
      field("Status", select("status", [["", "Any"], ["draft", "Draft"], ["published", "Published"], ["cancelled", "Cancelled"]], f.status)),
      field("Creator", h("input", { name: "creator", value: f.creator || "", autocomplete: "off" }), "Username"),
    ],
    eventsPage,
  );
  const current = ticket();
  const query = await withUserId(f, "creator", current);
  if (!query) return show("Events", filters);
  const page = await loadPage("/api/admin/events/", events, query, current);
  const detail = h("section", { className: "detail", "aria-label": "Selected event" });
  const rows = page.results.map((event) => [
    event.title,
    event.creator_username,
    event.status,
    when(event.starts_at, "not set"),
    `${event.seats_booked} / ${event.capacity ?? "∞"}`,
    eventActions(event, detail),
  ]);
  const headings = ["Title", "Creator", "Status", "Starts", "Seats", "Actions"];
  show("Events", filters, table("Events", headings, rows, "No event matches."), pager("Events", events, page, eventsPage), detail);
}

// ---- Audit log ----

const log = listState();

function changeList(changes) {
  const shown = (value) => (value === null ? "none" : typeof value === "string" ? value : JSON.stringify(value));
  const items = Object.entries(changes).map(([name, [before, after]]) => h("li", {}, `${name}: ${shown(before)} → ${shown(after)}`));
  return items.length ? h("ul", {}, items) : "none";
}

async function logPage() {
  const f = log.filters;
  const filters = filterForm(
    "Filter the log",
    log,
    [
      field("Actor", h("input", { name: "actor", value: f.actor || "", autocomplete: "off" }), "Username of the staff member"),
      field("Object id", h("input", { name: "object_id", value: f.object_id || "" }), "A user, event or booking id"),
    ],
    logPage,
  );
  const current = ticket();
  const query = await withUserId(f, "actor", current);
  if (!query) return show("Audit log", filters);
  const page = await loadPage("/api/admin/log/", log, query, current);
  const rows = page.results.map((entry) => [when(entry.at), entry.actor.username, entry.action, `${entry.object_type} ${entry.object_id}`, changeList(entry.changes)]);
  show("Audit log", filters, table("Audit log, newest first", ["When", "Who", "Action", "Object", "Changes"], rows, "No entries."), pager("Audit log", log, page, logPage));
}

// ---- Navigation ----

const PAGES = { users: usersPage, events: eventsPage, log: logPage };

let arrival = ""; // what to say once the page gone to is drawn

function go(name, message = "") {
  arrival = message;
  if (location.hash === `#${name}`) route();
  else location.hash = name;
}

async function route() {
  say(arrival); // and what was said on the last page is gone
  arrival = "";
  if (!tokens) return signIn();
  const name = PAGES[location.hash.slice(1)] ? location.hash.slice(1) : "users";
  nav.hidden = false;
  for (const link of nav.querySelectorAll("a")) {
    if (link.hash === `#${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  await draw(PAGES[name]);
}

document.getElementById("sign-out").addEventListener("click", revokeAndSignOut);
// Going to another page leaves the last page's messages behind.
for (const link of nav.querySelectorAll("a")) link.addEventListener("click", () => say(""));
window.addEventListener("hashchange", route);
route();
