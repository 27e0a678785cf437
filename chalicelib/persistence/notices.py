"""The notification ledger (ports.NoticeLedger) as items of the uniques table, `NOTICE#<key>`: `status` is
`sending` (with `since` the end of the sender's claim) or `sent` (with `since` when)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pynamodb.exceptions import DeleteError, PutError

from chalicelib.domain.common import iso
from chalicelib.persistence.common import get_or_none, parse_time
from chalicelib.persistence.errors import error_code, translate_errors
from chalicelib.persistence.models.uniques import UniqueModel
from chalicelib.ports.notices import Claimed

if TYPE_CHECKING:
    from datetime import datetime

SENDING, SENT = "sending", "sent"


def notice_key(key: str) -> str:
    """The uniques item of a notification."""
    return f"NOTICE#{key}"


class DynamoNoticeLedger:
    """ports.NoticeLedger on the uniques table."""

    def claim(self, key: str, recipient: str, now: datetime, until: datetime) -> Claimed:
        item = UniqueModel(key=notice_key(key), owner=recipient, status=SENDING, since=iso(until))
        # Taken over only from a sender whose claim ended: it died between its claim and its record of the send.
        lapsed = (UniqueModel.status == SENDING) & (UniqueModel.since < iso(now))
        with translate_errors():
            try:
                item.save(condition=UniqueModel.key.does_not_exist() | lapsed)
            except PutError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
            else:
                return Claimed(taken=True)
            # Which of the two refused it: read once (a held claim is rare: its sender died or is still at it).
            held = get_or_none(UniqueModel, notice_key(key))
        if held is None:  # released between the two: the next attempt takes it
            return Claimed(taken=False, until=now)
        if held.status == SENT:
            return Claimed(taken=False, sent=True)
        return Claimed(taken=False, until=parse_time(held.since) or now)

    def sent(self, key: str, at: datetime) -> None:
        with translate_errors():
            UniqueModel(key=notice_key(key), owner="-", status=SENT, since=iso(at)).update(
                actions=[UniqueModel.status.set(SENT), UniqueModel.since.set(iso(at))]
            )

    def release(self, key: str) -> None:
        with translate_errors():
            try:
                UniqueModel(key=notice_key(key), owner="-").delete(condition=UniqueModel.status == SENDING)
            except DeleteError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
