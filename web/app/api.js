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
/** A page of published events: `filters` are GET /api/events/'s parameters (search.js apiQuery), plus `cursor`. */
export const listEvents = (filters = {}, signal) =>
  send("/api/events/", { query: filters, signal }).then((r) => r.data);
/** An event as every visitor sees it: asked without a token, so that the edge may answer it for everyone. */
export const getPublicEvent = (id, signal) =>
  send(`/api/events/${encodeURIComponent(id)}/`, { signal }).then((r) => r.data);
/** An event as the signed-in user may see it (a draft, a settlement, a paid event's link): never from the edge. */
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

// Categories: a fixed list, read once per visit (kept for the tab's session, so a reload does not ask again).
const CATEGORIES_KEY = "sessions-marketplace.categories";
let categoriesRead = null;

/** [{slug, name}], the API's order. A failure is not kept: the next call asks again. */
export function categories() {
  if (!categoriesRead) {
    let kept = null;
    try {
      kept = JSON.parse(sessionStorage.getItem(CATEGORIES_KEY));
    } catch {
      kept = null; // storage refused or unreadable: ask the API
    }
    categoriesRead = Array.isArray(kept)
      ? Promise.resolve(kept)
      : send("/api/categories/").then((r) => {
          const list = r.data.results;
          try {
            sessionStorage.setItem(CATEGORIES_KEY, JSON.stringify(list));
          } catch {
            // a full or refused storage only costs a request next time
          }
          return list;
        });
    categoriesRead.catch(() => {
      categoriesRead = null;
    });
  }
  return categoriesRead;
}

/** A category's name by its slug (the slug itself when the list does not know it). */
export const categoryName = (list, slug) => (list.find((c) => c.slug === slug) || { name: slug }).name;

// Organizers: the same answer for everyone, so no token is sent (a dead session cannot get in the way).
const creatorPath = (username) => `/api/creators/${encodeURIComponent(username)}/`;
export const getCreator = (username, signal) => send(creatorPath(username), { signal }).then((r) => r.data);
/** A further page of an organizer's events: `when` is "upcoming" or "past". */
export const creatorEvents = (username, { when, cursor }, signal) =>
  send(`${creatorPath(username)}events/`, { query: { when, cursor }, signal }).then((r) => r.data);
export const createEvent = (fields) => request("/api/events/", { method: "POST", body: fields }).then((r) => r.data);
export const updateEvent = (id, changes) =>
  request(`/api/events/${encodeURIComponent(id)}/`, { method: "PATCH", body: changes }).then((r) => r.data);
export const eventBookings = (id, { cursor } = {}, signal) =>
  get(`/api/events/${encodeURIComponent(id)}/bookings/`, { cursor }, signal);

// Bookings: each attempt carries its Idempotency-Key (the same one when the attempt is retried). At an event
// with an on-sale queue, `admission` is the token the queue gave (not part of the attempt: a retry may carry a
// fresher one).
export function book(eventId, { waitlist = false, admission = null } = {}) {
  const body = { ...(waitlist ? { waitlist: true } : {}), ...(admission ? { admission } : {}) };
  return withIdempotencyKey(`book:${eventId}:${waitlist}`, (key) =>
    request(`/api/events/${encodeURIComponent(eventId)}/bookings/`, { method: "POST", body, idempotencyKey: key }),
  ).then((r) => ({ booking: r.data, replayed: r.headers.get("Idempotent-Replayed") === "true" }));
}

// An event's on-sale queue: each answer is the caller's place, {event_id, position, ahead, opens_at, admitted,
// admission, admission_expires_at, expected_wait_seconds, sold_out, poll_after_seconds}.
const queuePath = (eventId) => `/api/events/${encodeURIComponent(eventId)}/queue/`;
/** Join (201), or the place already held (200): joining twice is harmless, so no Idempotency-Key. */
export const joinQueue = (eventId, signal) =>
  request(queuePath(eventId), { method: "POST", signal }).then((r) => r.data);
/** The caller's place now; 404 `not_in_queue` if they never joined. */
export const queuePlace = (eventId, signal) => get(queuePath(eventId), undefined, signal);

export function cancelBooking(bookingId) {
  return withIdempotencyKey(`cancel:${bookingId}`, (key) =>
    request(`/api/bookings/${encodeURIComponent(bookingId)}/cancel/`, {
      method: "POST",
      body: {},
      idempotencyKey: key,
    }),
  ).then((r) => r.data);
}

/**
 * The event's creator or staff refund a paid booking in full: a confirmed one is cancelled (its seat freed), one
 * its owner cancelled too late for a refund is refunded now. Resolves to the booking; 409 `nothing_to_refund`
 * when no payment is kept. No Idempotency-Key: a repeat finds nothing left to refund and is refused, never paid
 * out twice (the provider's refund is keyed by the booking).
 */
export const refundBooking = (bookingId) =>
  request(`/api/bookings/${encodeURIComponent(bookingId)}/refund/`, { method: "POST", body: {} }).then((r) => r.data);

export const myBookings = ({ cursor, limit } = {}, signal) => get("/api/me/bookings/", { cursor, limit }, signal);

/** Statuses in which a booking still counts: it holds a seat (confirmed, or held for payment) or waits for one. */
export const ACTIVE = ["confirmed", "pending_payment", "waitlisted"];

/**
 * The caller's first booking, newest first, for which `matches(booking)` holds, or null. The API has no lookup
 * by event or by booking id, so this reads the caller's bookings a page of 100 at a time, up to `maxPages`.
 */
export async function findMyBooking(matches, signal, maxPages = 5) {
  let cursor;
  for (let page = 0; page < maxPages; page += 1) {
    const { results, next } = await myBookings({ cursor, limit: 100 }, signal);
    const found = results.find(matches);
    if (found) return found;
    cursor = cursorOf(next);
    if (!cursor) return null;
  }
  return null;
}

/** The caller's active booking for an event (see ACTIVE), or null. */
export const activeBookingFor = (eventId, signal) =>
  findMyBooking((b) => b.event === eventId && ACTIVE.includes(b.status), signal);

/**
 * The caller's newest booking for an event whatever its status, or null: what a cancelled event's page tells
 * its visitor about (their booking being cancelled, their money refunded).
 */
export const latestBookingFor = (eventId, signal) => findMyBooking((b) => b.event === eventId, signal);

/** One of the caller's bookings by its id, or null. */
export const myBooking = (bookingId, signal) => findMyBooking((b) => b.id === bookingId, signal);

// Accounts
export const register = (fields) => send("/api/register/", { method: "POST", body: fields }).then((r) => r.data);
export const me = (signal) => get("/api/me/", undefined, signal);
export const updateMe = (changes) => request("/api/me/", { method: "PATCH", body: changes }).then((r) => r.data);
/** 204; the API then refuses every earlier token of the account (sign in again with the new password). */
export const changePassword = (oldPassword, newPassword) =>
  request("/api/me/password/", { method: "POST", body: { old_password: oldPassword, new_password: newPassword } });
/** 204: every token of the account is revoked, on every device. */
export const signOutEverywhere = () => request("/api/me/logout-all/", { method: "POST" });
/** Always the same answer, whether or not the address has an account. */
export const requestPasswordReset = (email) =>
  send("/api/password/reset/", { method: "POST", body: { email } }).then((r) => r.data);
/** A new e-mail address, confirmed with the uid and token of the link sent to it. */
export const confirmEmail = (fields) =>
  send("/api/email/confirm/", { method: "POST", body: fields }).then((r) => r.data);
export const confirmPasswordReset = (fields) =>
  send("/api/password/reset/confirm/", { method: "POST", body: fields }).then((r) => r.data);

// Uploads: a presigned form to post one image straight to storage ({id, url, fields, expires_at}).
export const startUpload = (fields) => request("/api/uploads/", { method: "POST", body: fields }).then((r) => r.data);

/** The `cursor` of a list's `next` link (the app builds its own URLs; the API's link may name another host). */
export function cursorOf(next) {
  if (!next) return null;
  try {
    return new URL(next).searchParams.get("cursor");
  } catch {
    return null;
  }
}
