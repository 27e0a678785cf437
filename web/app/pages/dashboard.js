// "/dashboard": the creator's own events, drafts and cancelled ones included; publish, cancel, edit, see
// attendees, and create a new event. Cancelling an event cancels its bookings and refunds every payment in
// full, in the background: a cancelled event's row shows how far that has got.

import * as api from "../api.js";
import { badge, busy, confirmDialog, eventWhen, pager, seatsBooked, settlementText, table } from "../components.js";
import { append, fill, h, messageArea, show, uid } from "../dom.js";
import { signInPath } from "../navigation.js";

function eventRow(initial, area) {
  let event = initial;
  const id = uid("event");
  const path = `/dashboard/events/${encodeURIComponent(event.id)}`;
  const status = h("td", {});
  const seats = h("td", {});
  const actions = h("div", { class: "row-actions" });
  const title = h("a", { href: `/events/${encodeURIComponent(event.id)}` }, event.title);

  /** Apply `changes`, then say `done` (a sentence, or one made from the event as changed). */
  async function change(changes, done) {
    event = await api.updateEvent(event.id, changes);
    draw();
    show(area, "success", typeof done === "function" ? done(event) : done);
    title.focus(); // the button pressed is gone; its row's title is where the reader was
  }

  function failed(error) {
    show(area, "error", error.message, error.sessionEnded ? h("a", { href: signInPath() }, " Sign in") : "");
  }

  function button(label, className, onClick) {
    // Named with its event for screen readers ("Publish Pottery evening"), as the row header says.
    const element = h("button", { type: "button", class: className, "aria-describedby": id }, label);
    element.addEventListener("click", () => onClick(element).catch(failed));
    return element;
  }

  function link(label, href) {
    return h("a", { href, class: "button button-secondary", "aria-describedby": id }, label);
  }

  function draw() {
    const settling = settlementText(event.settlement);
    fill(status, badge(event.status), settling ? h("p", { class: "meta" }, settling) : null);
    fill(seats, seatsBooked(event));
    const controls = [];
    if (event.status !== "cancelled") controls.push(link("Edit", `${path}/edit`));
    controls.push(link("Attendees", `${path}/attendees`));
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
            message:
              "It leaves the public lists and can no longer be booked or edited. Every booking of it is then " +
              "cancelled, and every payment refunded in full.",
            confirmLabel: "Cancel the event",
          });
          if (!sure) return;
          const done = (cancelled) => {
            const count = cancelled.settlement ? cancelled.settlement.bookings : 0;
            const said = `“${cancelled.title}” is cancelled.`;
            if (!count) return said;
            const them = count === 1 ? "Its booking is" : `Its ${count} bookings are`;
            return `${said} ${them} being cancelled, and every payment refunded in full.`;
          };
          await busy(element, () => change({ status: "cancelled" }, done), "Cancelling…");
        }),
      );
    }
    fill(actions, controls);
  }

  draw();
  const header = h("th", { scope: "row", id }, title);
  return h("tr", {}, header, status, h("td", {}, eventWhen(event)), seats, h("td", {}, actions));
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
      ? table(
          "Your events, newest first, drafts and cancelled ones included",
          ["Event", "Status", "When", "Seats", "Actions"],
          page.results.map((event) => eventRow(event, area)),
          { class: "dashboard" },
        )
      : h("p", { class: "empty" }, "You have not created any events yet."),
    pager("/dashboard", { cursor, next: page.next }, "Event pages"),
  );
}
