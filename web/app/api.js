// The API as the pages use it: each call sends the signed-in user's token, renews it silently once when the
// API says it is no longer valid (simplejwt's `token_not_valid`), and otherwise ends the session.

import { ApiError, send } from "./http.js";
import * as session from "./session.js";
import { withIdempotencyKey } from "./idempotency.js";

/**
 * A request as the signed-in user (or anonymous when nobody is, or `anonymous` is set). Resolves to
 * {status, data, headers}; rejects with ApiError, whose `sessionEnded` is set when the user must sign in.
 */
export async function request(path, { anonymous = false, ...options } = {}) {
  const token = anonymous ? null : session.accessToken();
  try {
    return await send(path, { ...options, token });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    if (token && error.code === "token_not_valid") {
      const renewed = await session.refreshAfter(token);
      if (renewed) {
        try {
          return await send(path, { ...options, token: renewed });
        } catch (again) {
          if (!(again instanceof ApiError) || again.status !== 401) throw again;
        }
      }
    }
    // Refused after a refresh, no refresh possible, an account that is inactive or gone, or nobody signed in
    // (perhaps because another request has just ended the session).
    if (token) session.expire();
    throw new ApiError(401, error.data, { sessionEnded: true, signedOut: !token && !session.hasEnded() });
  }
}

/** Attach the page's signal to every call, so that leaving a page abandons its requests. */
const get = (path, query, signal) => request(path, { query, signal }).then((r) => r.data);

// Events
export const listEvents = ({ upcoming = false, cursor, limit } = {}, signal) =>
  send("/api/events/", { query: { upcoming: upcoming ? "true" : null, cursor, limit }, signal }).then((r) => r.data);
export async function getEvent(id, signal) {
  const path = `/api/events/${encodeURIComponent(id)}/`;
  try {
    return await get(path, undefined, signal);
  } catch (error) {
    // A public page: a session that has just ended leaves it readable, as by any visitor.
    if (error.sessionEnded) return (await request(path, { anonymous: true, signal })).data;
    throw error;
  }
}
export const myEvents = ({ cursor } = {}, signal) => get("/api/me/events/", { cursor }, signal);
export const createEvent = (fields) => request("/api/events/", { method: "POST", body: fields }).then((r) => r.data);
export const updateEvent = (id, changes) =>
  request(`/api/events/${encodeURIComponent(id)}/`, { method: "PATCH", body: changes }).then((r) => r.data);
export const eventBookings = (id, { cursor } = {}, signal) =>
  get(`/api/events/${encodeURIComponent(id)}/bookings/`, { cursor }, signal);

// Bookings: each attempt carries its Idempotency-Key (the same one when the attempt is retried).
export function book(eventId, { waitlist = false } = {}) {
  const body = waitlist ? { waitlist: true } : {};
  return withIdempotencyKey(`book:${eventId}:${waitlist}`, (key) =>
    request(`/api/events/${encodeURIComponent(eventId)}/bookings/`, { method: "POST", body, idempotencyKey: key }),
  ).then((r) => ({ booking: r.data, replayed: r.headers.get("Idempotent-Replayed") === "true" }));
}

export function cancelBooking(bookingId) {
  return withIdempotencyKey(`cancel:${bookingId}`, (key) =>
    request(`/api/bookings/${encodeURIComponent(bookingId)}/cancel/`, {
      method: "POST",
      body: {},
      idempotencyKey: key,
    }),
  ).then((r) => r.data);
}

export const myBookings = ({ cursor, limit } = {}, signal) => get("/api/me/bookings/", { cursor, limit }, signal);

/**
 * The caller's active booking (confirmed or waitlisted) for an event, or null. The API has no lookup by event,
 * so this reads the caller's bookings, newest first, a page of 100 at a time, up to `maxPages`.
 */
export async function activeBookingFor(eventId, signal, maxPages = 5) {
  let cursor;
  for (let page = 0; page < maxPages; page += 1) {
    const { results, next } = await myBookings({ cursor, limit: 100 }, signal);
    const found = results.find((b) => b.event === eventId && ["confirmed", "waitlisted"].includes(b.status));
    if (found) return found;
    cursor = cursorOf(next);
    if (!cursor) return null;
  }
  return null;
}

// Accounts
export const register = (fields) => send("/api/register/", { method: "POST", body: fields }).then((r) => r.data);
export const me = (signal) => get("/api/me/", undefined, signal);
export const updateMe = (changes) => request("/api/me/", { method: "PATCH", body: changes }).then((r) => r.data);

/** The `cursor` of a list's `next` link (the app builds its own URLs; the API's link may name another host). */
export function cursorOf(next) {
  if (!next) return null;
  try {
    return new URL(next).searchParams.get("cursor");
  } catch {
    return null;
  }
}
