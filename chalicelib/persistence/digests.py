"""The digest book (ports.DigestBook) as items of the uniques table, every count a string set of booking ids
(ADD: a change recorded twice is counted once):

- `DIGEST#<day>#<creator>#<event>`: `booked`, `cancelled`;
- `DIGEST#<day>#<creator>`: `events`;
- `DIGESTS#<day>#<shard>`: `creators` (shard_of: SHARDS items a day, so no item holds every creator);
- `DIGESTS#<day>#done`: `status` once the day's digests were all handled.

An item holds 400 KB: some 13,000 ids of 26 characters. An event booked more than that in a day would refuse
every further id; those are counted as numbers in `DIGEST#<day>#<creator>#<event>#more` (`more_booked`,
`more_cancelled`, ADD 1) instead, an item of its own since the full one cannot take even a number. Only those
few may be counted twice, when their change is delivered again.

Every item carries `expires_at` (epoch seconds, KEEP_DAYS after its day). The uniques table has no TTL today
(its markers must never expire), so they stay until TTL is turned on for it: see docs/notifications.md."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from pynamodb.exceptions import UpdateError

from chalicelib.persistence.common import get_or_none
from chalicelib.persistence.errors import error_code, translate_errors
from chalicelib.persistence.models.digests import DigestModel
from chalicelib.ports.digests import BOOKED, CANCELLED, Tally

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import date

    from pynamodb.expressions.update import Action

SHARDS = 16
KEEP_DAYS = 8
DONE = "done"
NOBODY = "-"


def shard_of(creator: str) -> int:
    """The day's item listing `creator`: the same in every process (Python's own hash of a str is not)."""
    return zlib.crc32(creator.encode()) % SHARDS


def event_key(day: date, creator: str, event_id: str) -> str:
    """The item of an event's booking ids on `day`."""
    return f"DIGEST#{day.isoformat()}#{creator}#{event_id}"


def more_key(day: date, creator: str, event_id: str) -> str:
    """The item counting what no longer fit in event_key's."""
    return f"{event_key(day, creator, event_id)}#more"


def creator_key(day: date, creator: str) -> str:
    """The item of a creator's events on `day`."""
    return f"DIGEST#{day.isoformat()}#{creator}"


def day_key(day: date, part: int | str) -> str:
    """A day's items: a shard of its creators, or DONE."""
    return f"DIGESTS#{day.isoformat()}#{part}"


def expiry(day: date) -> int:
    """When the day's items are no longer needed, in epoch seconds."""
    return int(datetime.combine(day + timedelta(days=KEEP_DAYS), time(), tzinfo=UTC).timestamp())


def _too_large(exc: UpdateError) -> bool:
    """DynamoDB's refusal of an update that would make the item larger than 400 KB."""
    response = getattr(exc.cause, "response", None) or {}
    message = str(response.get("Error", {}).get("Message", ""))
    return error_code(exc) == "ValidationException" and "maximum allowed size" in message


class DynamoDigestBook:
    """ports.DigestBook on the uniques table."""

    def record(self, day: date, creator: str, event_id: str, what: str, booking_id: str) -> None:
        if what not in (BOOKED, CANCELLED):
            raise ValueError(f"neither booked nor cancelled: {what!r}")
        expires = expiry(day)
        ids = DigestModel.booked if what == BOOKED else DigestModel.cancelled
        # Written from the most detailed item up: a sender reading meanwhile never lists what it cannot count.
        with translate_errors():
            try:
                self._add(event_key(day, creator, event_id), creator, expires, ids.add({booking_id}))
            except UpdateError as exc:
                if not _too_large(exc):
                    raise
                more = DigestModel.more_booked if what == BOOKED else DigestModel.more_cancelled
                self._add(more_key(day, creator, event_id), creator, expires, more.add(1))
            self._add(creator_key(day, creator), creator, expires, DigestModel.events.add({event_id}))
            self._add(day_key(day, shard_of(creator)), NOBODY, expires, DigestModel.creators.add({creator}))

    @staticmethod
    def _add(key: str, owner: str, expires: int, action: Action) -> None:
        DigestModel(key=key, owner=owner).update(
            actions=[DigestModel.owner.set(owner), DigestModel.expires_at.set(expires), action]
        )

    def creators(self, day: date) -> Iterator[str]:
        keys = [day_key(day, shard) for shard in range(SHARDS)]
        with translate_errors():
            found = {
                creator for item in DigestModel.batch_get(keys, consistent_read=True) for creator in item.creators or ()
            }
        return iter(sorted(found))

    def lines(self, day: date, creator: str) -> list[Tally]:
        with translate_errors():
            listed = get_or_none(DigestModel, creator_key(day, creator))
            event_ids = sorted(listed.events or ()) if listed is not None else []
            if not event_ids:
                return []
            keys = [key for e in event_ids for key in (event_key(day, creator, e), more_key(day, creator, e))]
            items = {item.key: item for item in DigestModel.batch_get(keys, consistent_read=True)}
        tallies = []
        for event_id in event_ids:
            ids, more = items.get(event_key(day, creator, event_id)), items.get(more_key(day, creator, event_id))
            booked = len((ids and ids.booked) or ()) + int((more and more.more_booked) or 0)
            cancelled = len((ids and ids.cancelled) or ()) + int((more and more.more_cancelled) or 0)
            tallies.append(Tally(event_id, booked, cancelled))
        return tallies

    def done(self, day: date) -> bool:
        item = get_or_none(DigestModel, day_key(day, DONE))
        return item is not None and item.status == DONE

    def mark_done(self, day: date) -> None:
        with translate_errors():
            DigestModel(key=day_key(day, DONE), owner=NOBODY, status=DONE, expires_at=expiry(day)).save()
