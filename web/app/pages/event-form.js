// "/dashboard/events/new" and "/dashboard/events/<id>/edit": an event's fields. Times are typed as the
// event's own wall-clock time (in its time zone) and sent to the API as instants. An edit sends only what
// changed. The image is chosen when editing only: an image upload names an existing event. A chosen file is
// uploaded first, then named in the same PATCH as the other changes. Category, tags, city and "online" are what
// the list's search and filters find the event by; left empty, the API derives the city from the location and
// "online" from the online link.

import * as api from "../api.js";
import { append, h, uid } from "../dom.js";
import { checkbox, field, form, submitButton } from "../forms.js";
import { instantToZoned, isKnownZone, visitorZone, zonedToInstant, zoneNames } from "../format.js";
import { ApiError } from "../http.js";
import { navigate } from "../navigation.js";
import * as session from "../session.js";
import { chosenFile, imageField, uploadImage } from "../uploads.js";

const ZONE_LIST_ID = "time-zone-names";

function zoneList() {
  return h("datalist", { id: ZONE_LIST_ID }, ["UTC", ...zoneNames()].map((name) => h("option", { value: name })));
}

/** "Python, AWS ,, data" as ["Python", "AWS", "data"]: the API normalizes them and refuses more than 5. */
const tagList = (text) =>
  (text || "")
    .split(",")
    .map((tag) => tag.trim())
    .filter(Boolean);

/** The form's values as the API's fields (null for an emptied optional field). */
function fieldsFrom(values) {
  const timezone = values.timezone.trim();
  const instant = (name) => {
    if (!values[name]) return null;
    if (!isKnownZone(timezone)) {
      throw new ApiError(400, { timezone: ["A valid timezone is required."] });
    }
    return zonedToInstant(values[name], timezone);
  };
  const capacity = values.capacity.trim();
  return {
    title: values.title,
    description: values.description,
    timezone,
    starts_at: instant("starts_at"),
    ends_at: instant("ends_at"),
    sales_open_at: instant("sales_open_at"),
    capacity: capacity === "" ? null : /^\d+$/.test(capacity) ? Number(capacity) : capacity,
    price: values.price.trim() === "" ? "0.00" : values.price.trim(),
    currency: values.currency.trim().toUpperCase(),
    location: values.location,
    online_url: values.online_url.trim() === "" ? null : values.online_url.trim(),
    category: values.category || null,
    tags: tagList(values.tags),
    city: values.city.trim(),
    online: values.online === "yes",
  };
}

/** An event's current values in the form's terms, to fill it and to tell what an edit changed. */
function valuesOf(event) {
  return {
    title: event.title,
    description: event.description,
    timezone: event.timezone,
    starts_at: instantToZoned(event.starts_at, event.timezone),
    ends_at: instantToZoned(event.ends_at, event.timezone),
    sales_open_at: instantToZoned(event.sales_open_at, event.timezone),
    capacity: event.capacity === null ? "" : String(event.capacity),
    price: event.price,
    currency: event.currency,
    location: event.location,
    online_url: event.online_url || "",
    category: event.category || "",
    tags: (event.tags || []).join(", "),
    city: event.city || "",
    online: event.online ? "yes" : "",
  };
}

const BLANK = {
  title: "",
  description: "",
  timezone: visitorZone(),
  starts_at: "",
  ends_at: "",
  sales_open_at: "",
  capacity: "",
  price: "0.00",
  currency: "USD",
  location: "",
  online_url: "",
  category: "",
  tags: "",
  city: "",
  online: "",
};

/** The category choices: "None", then the API's list (and the event's own, should the list not have it). */
function categoryChoices(categories, current) {
  const known = categories.map((c) => [c.slug, c.name]);
  if (current && !categories.some((c) => c.slug === current)) known.push([current, current]);
  return [["", "None"], ...known];
}

function eventFields(values, categories) {
  return [
    field("title", "Title", { required: true, value: values.title, attrs: { maxlength: 255 } }),
    field("description", "Description", { required: true, multiline: true, value: values.description }),
    field("category", "Category", {
      value: values.category,
      choices: categoryChoices(categories, values.category),
      help: "Where people browsing by category find it.",
    }),
    field("tags", "Tags", {
      value: values.tags,
      help: "Up to 5, separated by commas, such as python, aws. Searches find the event by them.",
      attrs: { autocomplete: "off", spellcheck: "false" },
    }),
    field("timezone", "Time zone", {
      required: true,
      value: values.timezone,
      help: "The zone the times below are in, as an IANA name such as Europe/Paris or America/New_York.",
      attrs: { list: ZONE_LIST_ID, autocomplete: "off", spellcheck: "false" },
    }),
    field("starts_at", "Starts", {
      type: "datetime-local",
      value: values.starts_at,
      help: "In the event's time zone. Leave empty if not yet known.",
    }),
    field("ends_at", "Ends", { type: "datetime-local", value: values.ends_at, help: "Optional; after the start." }),
    field("sales_open_at", "Sales open at", {
      type: "datetime-local",
      value: values.sales_open_at,
      help:
        "Optional, in the event's time zone, before the start. Set for a popular event: people join a queue " +
        "and book in turn from this time. It can be changed until it has passed.",
    }),
    field("capacity", "Seats", {
      type: "number",
      value: values.capacity,
      help: "How many people can book. Leave empty for no limit; when full, people can join a waitlist.",
      attrs: { min: 1, max: 100000, step: 1, inputmode: "numeric" },
    }),
    field("price", "Price", { value: values.price, help: "0 for a free event.", attrs: { inputmode: "decimal" } }),
    field("currency", "Currency", {
      value: values.currency,
      help: "A three-letter ISO 4217 code, such as USD or EUR.",
      attrs: { maxlength: 3, autocapitalize: "characters", spellcheck: "false" },
    }),
    field("location", "Location", {
      value: values.location,
      help: "Where it takes place, if somewhere in person.",
      attrs: { maxlength: 255 },
    }),
    field("city", "City", {
      value: values.city,
      help: "The city people filter by. Left empty: taken from the location (its part after the last comma).",
      attrs: { maxlength: 80, autocomplete: "off" },
    }),
    field("online_url", "Online link", {
      type: "url",
      value: values.online_url,
      help: "An https link to join online. For a paid event it is shown only to people holding a seat.",
      attrs: { spellcheck: "false" },
    }),
    checkbox("online", "Takes place online", {
      checked: values.online === "yes",
      help: "Listed under online events. Left unchecked when creating, an event with an online link is online.",
    }),
  ];
}

/** The edit form's image: the current one (if any) with a box to remove it, then a file to replace it. */
function imageFields(event) {
  const id = uid("remove-image");
  return [
    event.image
      ? h(
          "div",
          // Not a `.field`: no API field of its own, so no error text for forms.js to look for.
          { class: "current-image" },
          h("img", { src: event.image, alt: "The current image" }),
          h(
            "p",
            { class: "check" },
            h("input", { type: "checkbox", id, name: "remove_image", value: "yes" }),
            h("label", { for: id }, "Remove the current image"),
          ),
        )
      : null,
    imageField("image", event.image ? "New image" : "Image", {
      help: "Shown on the event's page and in the lists. A JPEG, PNG or WebP image of at most 5 MB and 4096 × 4096 pixels.",
    }),
  ];
}

function manages(user, event) {
  return user && (user.id === event.creator || user.is_staff);
}

export async function render(root, ctx) {
  const editing = Boolean(ctx.params.id);
  // Without the list (the API unreachable for it) the form still works: "None" and the event's own category.
  const categories = await api.categories().catch(() => []);
  if (!editing) {
    ctx.setTitle("Create an event");
    append(root,
      h("h1", {}, "Create an event"),
      h("p", { class: "lede" }, "You can add an image once the event is saved, by editing it from your dashboard."),
      zoneList(),
      form({
        label: "New event",
        children: eventFields(BLANK, categories),
        buttons: [
          submitButton("Save as draft", { name: "status", value: "draft", secondary: true }),
          submitButton("Publish", { name: "status", value: "published" }),
        ],
        onSubmit: async (values) => {
          const fields = Object.fromEntries(
            Object.entries(fieldsFrom(values)).filter(([, value]) => value !== null && value !== ""),
          );
          // Left as they are, the API's defaults apply: no tags, "online" derived from the online link.
          if (fields.tags.length === 0) delete fields.tags;
          if (!fields.online) delete fields.online;
          const event = await api.createEvent({ ...fields, status: values.status });
          const what = event.status === "draft" ? "saved as a draft" : "published";
          navigate("/dashboard", { flash: `“${event.title}” is ${what}.` });
        },
      }),
    );
    return;
  }

  const event = await api.getEvent(ctx.params.id, ctx.signal);
  if (!manages(session.currentUser(), event)) {
    throw Object.assign(new Error("Only the event's creator and staff can edit it."), { status: 403 });
  }
  ctx.setTitle(`Edit ${event.title}`);
  append(root, h("h1", {}, `Edit “${event.title}”`));
  if (event.status === "cancelled") {
    const back = h("a", { href: "/dashboard" }, "Back to your events");
    append(root, h("p", {}, "This event is cancelled: it can no longer be changed. ", back));
    return;
  }
  const before = fieldsFrom(valuesOf(event));
  append(root,
    zoneList(),
    form({
      label: "Edit event",
      children: [...eventFields(valuesOf(event), categories), ...imageFields(event)],
      buttons: [submitButton("Save changes")],
      onSubmit: async (values) => {
        const after = fieldsFrom(values);
        // Compared as JSON: tags are a list, equal when their words are.
        const changed = ([name, value]) => JSON.stringify(value) !== JSON.stringify(before[name]);
        const changes = Object.fromEntries(Object.entries(after).filter(changed));
        const file = chosenFile(values.image);
        if (file) changes.image = await uploadImage(file, { purpose: "event_image", event: event.id, name: "image" });
        else if (values.remove_image) changes.image = null;
        if (Object.keys(changes).length === 0) return "Nothing has changed.";
        const saved = await api.updateEvent(event.id, changes);
        navigate("/dashboard", { flash: `“${saved.title}” is saved.` });
        return undefined;
      },
    }),
  );
}
