// "/dashboard": the creator's own events, drafts and cancelled ones included; publish, cancel, edit, see
// attendees, and create a new event.

import * as api from "../api.js";
import { badge, busy, confirmDialog, eventWhen, pager } from "../components.js";
import { append, h, messageArea, show, uid } from "../dom.js";
import { signInPath } from "../router.js";

function seatsBooked(event) {
  return event.capacity === null ? `${event.seats_booked} booked (no limit)` : `${event.seats_booked} of ${event.capacity} booked`;
}

function eventItem(initial, area) {
  let event = initial;
  const id = uid("event");
  const path = `/dashboard/events/${encodeURIComponent(event.id)}`;
  const status = h("p", {});
  const actions = h("div", { class: "card-actions" });
  const heading = h("h2", { id, tabindex: "-1" }, h("a", { href: `/events/${encodeURIComponent(event.id)}` }, event.title));

  async function change(changes, done) {
    event = await api.updateEvent(event.id, changes);
    draw();
    show(area, "success", done);
    heading.focus();
  }

  function failed(error) {
    show(area, "error", error.message, error.sessionEnded ? h("a", { href: signInPath() }, " Sign in") : "");
  }

  function button(label, className, onClick) {
    const element = h("button", { type: "button", class: className, "aria-describedby": id }, label);
    element.addEventListener("click", () => onClick(element).catch(failed));
    return element;
  }

  function draw() {
    status.replaceChildren(badge(event.status), " ", h("span", { class: "meta" }, seatsBooked(event)));
    const controls = [];
    if (event.status !== "cancelled") controls.push(h("a", { href: `${path}/edit`, class: "button button-secondary", "aria-describedby": id }, "Edit"));
    controls.push(h("a", { href: `${path}/attendees`, class: "button button-secondary", "aria-describedby": id }, "Attendees"));
    if (event.status === "draft") {
      controls.push(
        button("Publish", "button", (element) =>
          busy(element, () => change({ status: "published" }, `“${event.title}” is published.`), "Publishing…"),
        ),
      );
    }
    if (event.status === "published") {
      controls.push(
        button("Cancel event", "button button-danger", async (element) => {
          const sure = await confirmDialog({
            title: `Cancel “${event.title}”?`,
            message: "It leaves the public lists and can no longer be booked or edited. People who booked keep their bookings to see and cancel.",
            confirmLabel: "Cancel the event",
          });
          if (sure) await busy(element, () => change({ status: "cancelled" }, `“${event.title}” is cancelled.`), "Cancelling…");
        }),
      );
    }
    actions.replaceChildren(...controls);
  }

  draw();
  return h(
    "li",
    { class: "card" },
    h("article", { "aria-labelledby": id }, heading, status, h("p", {}, eventWhen(event)), actions),
  );
}

export async function render(root, ctx) {
  const cursor = ctx.query.get("cursor");
  const page = await api.myEvents({ cursor }, ctx.signal);
  ctx.setTitle("Dashboard");
  const area = messageArea();
  append(root, 
    h("h1", {}, "Your events"),
    h("p", {}, h("a", { href: "/dashboard/events/new", class: "button" }, "Create an event")),
    area,
    page.results.length
      ? h("ul", { class: "cards" }, page.results.map((event) => eventItem(event, area)))
      : h("p", { class: "empty" }, "You have not created any events yet."),
    pager("/dashboard", { cursor, next: page.next }, "Event pages"),
  );
}
