// Times, prices and seats as people read them. The API speaks UTC instants and IANA zone names; an event is
// shown in its own zone and, when that reads differently, in the visitor's.

export const visitorZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

const DATE_TIME = {
  weekday: "short",
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "numeric",
  minute: "2-digit",
};

function formatter(timeZone, extra = {}) {
  return new Intl.DateTimeFormat(undefined, { ...DATE_TIME, ...extra, timeZone });
}

/** "Tue, Dec 8, 2026, 6:00 PM – 8:00 PM" in `timeZone` (the end left out when unknown). */
export function when(startsAt, endsAt, timeZone) {
  const format = formatter(timeZone);
  const start = new Date(startsAt);
  if (!endsAt) return format.format(start);
  return format.formatRange(start, new Date(endsAt));
}

/**
 * An event's time for display: {event: "... (Europe/Paris)", visitor: "... your time (America/New_York)" or
 * null when the visitor's zone shows the same wall-clock time}. Null when the event has no start time.
 */
export function eventTimes(event, zone = visitorZone()) {
  if (!event.starts_at) return null;
  const inEventZone = when(event.starts_at, event.ends_at, event.timezone);
  const inVisitorZone = when(event.starts_at, event.ends_at, zone);
  return {
    event: `${inEventZone} (${event.timezone})`,
    visitor: inVisitorZone === inEventZone ? null : `${inVisitorZone} your time (${zone})`,
  };
}

/** One instant as eventTimes shows a start (an event's sales opening): {event, visitor or null}, or null. */
export function instantTimes(iso, timeZone, zone = visitorZone()) {
  return eventTimes({ starts_at: iso, ends_at: null, timezone: timeZone }, zone);
}

/** A coming wait in words, as rough as it is known: "less than a minute", "about 12 minutes", "about 1 hour". */
export function waitText(seconds) {
  if (seconds < 60) return "less than a minute";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${count(minutes, "minute")}`;
  const hours = Math.round(seconds / 3600);
  if (hours < 48) return `about ${count(hours, "hour")}`;
  return `about ${count(Math.round(seconds / 86400), "day")}`;
}

/** A timestamp in the visitor's zone, e.g. when a booking was made. */
export function moment(iso) {
  return iso ? formatter(visitorZone()).format(new Date(iso)) : "";
}

/** The time of day of a near instant (a payment hold's end), in the visitor's zone: "6:45 PM". */
export function clock(iso) {
  return new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit", timeZone: visitorZone() }).format(
    new Date(iso),
  );
}

/** "12 minutes left", "less than a minute left" until `iso`; null once it has passed (or without one). */
export function timeLeft(iso, now = Date.now()) {
  const ms = iso ? Date.parse(iso) - now : 0;
  if (!(ms > 0)) return null;
  const minutes = Math.floor(ms / 60000);
  if (minutes === 0) return "less than a minute left";
  return `${minutes} minute${minutes === 1 ? "" : "s"} left`;
}

export function price(event) {
  if (Number(event.price) === 0) return "Free";
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: event.currency }).format(
      Number(event.price),
    );
  } catch {
    return `${event.price} ${event.currency}`; // a currency code the browser does not know
  }
}

/** Seats left, or null when the event has no capacity limit. */
export function seatsLeft(event) {
  return event.capacity === null || event.capacity === undefined
    ? null
    : Math.max(0, event.capacity - event.seats_booked);
}

/** "1 seat", "3 seats", "1 booking": a count and its noun, singular for one. */
export function count(number, noun) {
  return `${number} ${noun}${number === 1 ? "" : "s"}`;
}

/** "Open seating (no limit)", "Full (1 seat)", "3 of 10 seats left", "1 of 1 seat left". */
export function seatsText(event) {
  const left = seatsLeft(event);
  if (left === null) return "Open seating (no limit)";
  if (left === 0) return `Full (${count(event.capacity, "seat")})`;
  return `${left} of ${count(event.capacity, "seat")} left`;
}

/**
 * Where an event is in time: "upcoming" (not started), "running" (started and not ended: starts_at <= now <
 * ends_at), "ended" (its end, or its start when it has no end, has passed); null when it has no start yet.
 */
export function eventPhase(event, now = Date.now()) {
  if (!event.starts_at) return null;
  if (Date.parse(event.starts_at) > now) return "upcoming";
  return event.ends_at && Date.parse(event.ends_at) > now ? "running" : "ended";
}

const DAY = 24 * 3600 * 1000;

// The zone's offset from UTC at instant `t` (ms), read back from how Intl writes that instant in the zone.
function zoneOffset(t, timeZone) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  }).formatToParts(new Date(t));
  const field = (type) => Number(parts.find((p) => p.type === type).value);
  const [year, month, day] = [field("year"), field("month"), field("day")];
  const wall = Date.UTC(year, month - 1, day, field("hour"), field("minute"), field("second"));
  return wall - Math.floor(t / 1000) * 1000;
}

/**
 * The instant (ISO, UTC) at which clocks in `timeZone` show `local` ("YYYY-MM-DDTHH:MM", a datetime-local
 * value). A time skipped by a DST change moves forward by the gap; a repeated one takes its first occurrence.
 */
export function zonedToInstant(local, timeZone) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!match) throw new RangeError(`not a local date and time: ${local}`);
  const [year, month, day, hour, minute] = match.slice(1).map(Number);
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // The offsets in force a day before and a day after: one, or two around a change of offset.
  const before = zoneOffset(wall - DAY, timeZone);
  const after = zoneOffset(wall + DAY, timeZone);
  const valid = [...new Set([before, after])].map((o) => wall - o).filter((t) => wall - zoneOffset(t, timeZone) === t);
  // No valid instant: clocks skipped that time; taking the earlier offset lands as far after the gap.
  const instant = valid.length ? Math.min(...valid) : wall - before;
  return new Date(instant).toISOString();
}

/** The reverse: what clocks in `timeZone` show at instant `iso`, as a datetime-local value. */
export function instantToZoned(iso, timeZone) {
  if (!iso) return "";
  const t = Date.parse(iso);
  const shifted = new Date(t + zoneOffset(t, timeZone));
  return shifted.toISOString().slice(0, 16);
}

/** Whether the browser knows `name` as a time zone (the API has the final word). */
export function isKnownZone(name) {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export function zoneNames() {
  return typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
}
