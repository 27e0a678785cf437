// An event's on-sale queue as its page follows it (docs/api.md, "On-sale queue"): the visitor's place, asked
// again after exactly the `poll_after_seconds` each answer gives (the API spreads them at random, so that a
// crowd that opened the page in the same second does not poll in step), until their turn comes. The place is
// said in a polite live region that only changes, and so is only read out, when its wording does: a wait of
// "about 1 hour" is not announced again every five seconds.

import * as api from "./api.js";
import { h } from "./dom.js";
import { waitText } from "./format.js";
import { wait } from "./http.js";

// After a failed poll that is worth repeating (no answer, 429, 5xx): at least this long before the next one.
const RETRY_MS = 5000;

const transient = (error) => error.status === 0 || error.status === 429 || error.status >= 500;

/** What the live region says of `place` (a queue answer), `soldOut` or not (the queue's word, or the page's). */
export function placeText(place, soldOut = place.sold_out) {
  if (place.admitted) {
    return soldOut ? "Your turn has come. The event is sold out: you can join the waitlist." : "Your turn has come.";
  }
  const number = new Intl.NumberFormat().format(place.position);
  const line = `You are number ${number} in line; ${waitText(place.expected_wait_seconds)}.`;
  return soldOut ? `Sold out: every seat is taken. ${line} When your turn comes, you can join the waitlist.` : line;
}

/**
 * The caller's place in one event's queue. `place` is the last answer (null: not in the queue, or not asked
 * yet); `onPlace(place)` is called with every new answer (the page says it in `region`, with `say`),
 * `onFailure(error)` when following it stops on a refusal (the place gone, the event no longer bookable, the
 * session ended). Leaving the page (`signal`) stops everything.
 */
export class PlaceInLine {
  constructor(eventId, signal, { onPlace, onFailure }) {
    this.eventId = eventId;
    this.signal = signal;
    this.onPlace = onPlace;
    this.onFailure = onFailure;
    this.place = null;
    this.following = false;
    // Exists before anything is said in it: screen readers ignore a live region inserted with its text.
    this.region = h("div", { class: "queue-place", "aria-live": "polite" });
  }

  /** Say `text` in the live region, unless it already says exactly that. */
  say(text) {
    if (this.region.textContent !== text) this.region.textContent = text;
  }

  /** Read the place (null when the visitor never joined), and follow it if it is still to come. */
  async read() {
    try {
      this.update(await api.queuePlace(this.eventId, this.signal));
    } catch (error) {
      if (error.code !== "not_in_queue") throw error;
      this.place = null;
    }
    return this.place;
  }

  /** Join (or find the place already held), and follow it. */
  async join() {
    this.update(await api.joinQueue(this.eventId, this.signal));
    return this.place;
  }

  /** A fresh admission (each answer while admitted carries a new one), or null if the turn has not come. */
  async admission() {
    this.update(await api.queuePlace(this.eventId, this.signal));
    return this.place.admission;
  }

  update(place) {
    this.place = place;
    this.onPlace(place);
    if (!place.admitted) this.follow();
  }

  async follow() {
    if (this.following) return;
    this.following = true;
    let pause = this.place.poll_after_seconds * 1000;
    try {
      while (this.place && !this.place.admitted) {
        await wait(pause, this.signal);
        try {
          const place = await api.queuePlace(this.eventId, this.signal);
          pause = place.poll_after_seconds * 1000;
          this.update(place);
        } catch (error) {
          if (this.signal.aborted || !transient(error)) throw error;
          // Plus the last (spread) interval, so that a crowd's retries after one failure stay spread too.
          pause = Math.max(RETRY_MS, (error.retryAfter || 0) * 1000) + this.place.poll_after_seconds * 1000;
        }
      }
    } catch (error) {
      if (this.signal.aborted) return;
      this.place = null;
      this.say("");
      this.onFailure(error);
    } finally {
      this.following = false;
    }
  }
}
