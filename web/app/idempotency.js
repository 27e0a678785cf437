// An Idempotency-Key per attempt: the same key while an action is retried (a second click after no answer,
// a timeout, a 503), so that the API answers the retry with the first outcome instead of acting twice; a new
// key once an attempt has a definite outcome (done, or refused: a refusal writes nothing).

const pending = new Map();

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Run `action(key)` for the attempt named `attempt` (the operation, its resource and its body, e.g.
 * "book:<event id>:waitlist"). The key is kept when the outcome is unknown or worth retrying as is: no
 * answer, 429, 503, and 409s the API asks to retry (`Retry-After`); it is dropped otherwise.
 */
export async function withIdempotencyKey(attempt, action) {
  let key = pending.get(attempt);
  if (!key) {
    key = newKey();
    pending.set(attempt, key);
  }
  try {
    const result = await action(key);
    pending.delete(attempt);
    return result;
  } catch (error) {
    const unknownOutcome = error.status === 0 || error.name === "AbortError";
    const askedToRetry = error.retryAfter !== null && error.retryAfter !== undefined;
    const retryLater = error.status === 429 || error.status >= 500 || askedToRetry;
    if (!(unknownOutcome || retryLater)) pending.delete(attempt);
    throw error;
  }
}
