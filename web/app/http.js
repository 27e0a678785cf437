// One request to the API and what its answer means. Tokens and their refresh are api.js's concern.

import { config } from "./settings.js";

/** An answer that is not a success, or no answer at all (status 0: the network or the server is down). */
export class ApiError extends Error {
  constructor(status, data, { retryAfter = null, sessionEnded = false, signedOut = false } = {}) {
    super(signedOut ? "Please sign in to continue." : describe(status, data, retryAfter, sessionEnded));
    this.name = "ApiError";
    this.status = status;
    this.data = data && typeof data === "object" ? data : {};
    this.code = typeof this.data.code === "string" ? this.data.code : null;
    this.retryAfter = retryAfter; // seconds, when the API said when to try again (429, 503, some 409s)
    this.sessionEnded = sessionEnded; // a 401 that a token refresh could not fix: the user must sign in
  }

  /** Field errors in DRF's shape: {field: ["message", ...]}, without `detail`, `code` and the like. */
  get fieldErrors() {
    const errors = {};
    for (const [name, value] of Object.entries(this.data)) {
      if (["detail", "code", "messages"].includes(name)) continue;
      const messages = messagesOf(value);
      if (messages.length) errors[name] = messages;
    }
    return errors;
  }
}

/** Messages from one DRF error value: a string, a list of strings, or nested lists and objects. */
export function messagesOf(value) {
  if (value === null || value === undefined) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(messagesOf);
  if (typeof value === "object") {
    return Object.entries(value).flatMap(([key, inner]) => messagesOf(inner).map((m) => `${key}: ${m}`));
  }
  return [String(value)];
}

/** "in 30 seconds", "in about 2 minutes": when to retry, for people. */
export function retryDelayText(seconds) {
  if (seconds < 90) return `in ${seconds} second${seconds === 1 ? "" : "s"}`;
  return `in about ${Math.round(seconds / 60)} minutes`;
}

function describe(status, data, retryAfter, sessionEnded) {
  if (sessionEnded) return "Your session has ended. Please sign in again.";
  if (status === 0) return "Could not reach the server. Check your connection and try again.";
  const detail = data && typeof data === "object" ? messagesOf(data.detail)[0] : null;
  const when = retryAfter !== null ? ` Try again ${retryDelayText(retryAfter)}.` : "";
  if (status === 429) return `${detail || "Too many requests."}${when}`;
  if (status === 503) return `The service is busy or unavailable right now.${when || " Try again shortly."}`;
  if (detail) return `${detail}${when}`;
  const general = data && typeof data === "object" ? messagesOf(data.non_field_errors)[0] : null;
  if (general) return general;
  if (status >= 500) return `The server failed to answer (HTTP ${status}). Try again shortly.`;
  return `The request was refused (HTTP ${status}).`;
}

/** Retry-After: delay-seconds or an HTTP date (RFC 9110); null when absent or unreadable. */
export function retryAfterSeconds(header, now = Date.now()) {
  if (!header) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** Resolve after `ms`, or reject with the signal's reason as soon as `signal` aborts (the page was left). */
export function wait(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort); // one listener per pause would pile up on the page's signal
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The API's absolute URL for a path such as "/api/events/" (the API may live under a stage prefix). */
export function apiUrl(path, query = {}) {
  const url = new URL(path.replace(/^\//, ""), config.apiUrl);
  for (const [name, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== "") url.searchParams.set(name, String(value));
  }
  return url;
}

/**
 * Send one request; resolve to {status, data, headers} for a 2xx answer, reject with ApiError otherwise.
 * `token` is sent as a Bearer token; `idempotencyKey` as the Idempotency-Key header.
 */
export async function send(path, { method = "GET", query, body, token, idempotencyKey, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let response;
  try {
    response = await fetch(apiUrl(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      credentials: "omit", // the API authenticates with tokens only, never cookies
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, null);
  }
  const type = response.headers.get("Content-Type") || "";
  let data = null;
  if (type.includes("json")) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (response.ok) return { status: response.status, data, headers: response.headers };
  throw new ApiError(response.status, data, { retryAfter: retryAfterSeconds(response.headers.get("Retry-After")) });
}

/**
 * POST a file to storage with a presigned form (S3's POST policy): every field as given, then the file, last
 * (S3 ignores what follows the file). No token goes there: the form's signature is the permission.
 * Resolves when storage accepts the file; rejects with ApiError (status 0 when there is no answer).
 */
export async function postFile(url, fields, file) {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  body.append("file", file);
  let response;
  try {
    response = await fetch(url, { method: "POST", body, credentials: "omit" });
  } catch {
    throw new ApiError(0, null);
  }
  if (!response.ok) throw new ApiError(response.status, null);
}
