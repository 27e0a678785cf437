// Who is signed in: the tokens (kept in localStorage, so that a reload or a second tab stays signed in), the
// user they belong to, and the silent refresh of an access token the API no longer accepts.

import { send } from "./http.js";

const STORAGE_KEY = "sessions-marketplace.session";
const REFRESH_LOCK = "sessions-marketplace.refresh";

let state = load();
let ended = false; // whether this page saw the session end (rather than never having one)
const listeners = new Set();

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
    if (saved && typeof saved.access === "string" && typeof saved.refresh === "string") return saved;
  } catch {
    // unreadable or unavailable storage: signed out
  }
  return null;
}

function save(next) {
  state = next;
  try {
    if (next) localStorage.setItem(STORAGE_KEY, JSON.stringify(next));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage refused (private browsing, quota): the session lasts as long as the page
  }
  for (const listener of listeners) listener(currentUser());
}

// Another tab signed in, out, or refreshed the tokens.
window.addEventListener("storage", (event) => {
  if (event.key !== STORAGE_KEY) return;
  state = load();
  for (const listener of listeners) listener(currentUser());
});

/** The signed-in user as /api/me/ last described them, or null. */
export function currentUser() {
  return state ? state.user || null : null;
}

export function accessToken() {
  return state ? state.access : null;
}

/** Call `listener(user)` whenever the user signs in or out or their details change; returns an unsubscriber. */
export function onChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function isCreator(user = currentUser()) {
  return Boolean(user && (user.role === "CREATOR" || user.is_staff));
}

/** Sign in: obtain tokens, then read who they belong to. Rejects with the API's error (401 wrong password). */
export async function signIn(username, password) {
  const { data: tokens } = await send("/api/token/", { method: "POST", body: { username, password } });
  const { data: user } = await send("/api/me/", { token: tokens.access });
  ended = false;
  save({ access: tokens.access, refresh: tokens.refresh, user });
  return user;
}

/** Replace the stored description of the user (after /api/me/ answered). */
export function setUser(user) {
  if (state) save({ ...state, user });
}

/**
 * Sign out on this device. Phase 1 forgets the tokens; once the API revokes refresh tokens
 * (POST /api/token/blacklist/), this is where the refresh token is sent before being forgotten.
 */
export async function signOut() {
  save(null);
}

/** The session ended (a refresh was refused, the account was deactivated): forget it. */
export function expire() {
  ended = true;
  save(null);
}

export function hasEnded() {
  return ended;
}

let inFlight = null;

/**
 * The access token to retry with after the API refused `rejected` with `token_not_valid`, or null when the
 * session cannot be renewed. Refreshes at most once for any number of simultaneous refusals, in this tab
 * (one promise) and across tabs (a Web Lock): with refresh rotation, two refreshes with one refresh token would
 * look like a stolen token being replayed. Accepts both answers of POST /api/token/refresh/: {"access"}, and
 * {"access", "refresh"} when the API rotates refresh tokens.
 */
export function refreshAfter(rejected) {
  if (!inFlight) {
    const run = () => refreshUnlessDone(rejected);
    const locked = navigator.locks ? navigator.locks.request(REFRESH_LOCK, run) : run();
    inFlight = locked.finally(() => {
      inFlight = null;
    });
  }
  return inFlight;
}

async function refreshUnlessDone(rejected) {
  const current = load() || state; // what another tab may have stored meanwhile
  if (!current) return null;
  if (current.access !== rejected) {
    state = current; // someone else refreshed already: use theirs
    return current.access;
  }
  try {
    const { data } = await send("/api/token/refresh/", { method: "POST", body: { refresh: current.refresh } });
    save({ ...current, access: data.access, refresh: data.refresh || current.refresh });
    return data.access;
  } catch (error) {
    if (error.status === 401 || error.status === 400) return null;
    throw error; // the network or the API is down: the session may still be good
  }
}
