"""The on-sale queue on DynamoDB (ports.QueueRepository): an entry is one conditional PutItem, a counter one
UpdateItem on its shard's item, a status read one GetItem (plus the counters, which the service caches)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pynamodb.exceptions import PutError

from chalicelib.domain.common import iso
from chalicelib.domain.queue import QueueEntry
from chalicelib.persistence.common import epoch, get_or_none, parse_time
from chalicelib.persistence.errors import error_code, translate_errors
from chalicelib.persistence.models.queue import QueueModel
from chalicelib.ports.queue import EntryExists

if TYPE_CHECKING:
    from pynamodb.expressions.update import Action


def entry_key(event_id: str, user_id: str) -> str:
    """The key of a user's entry in an event's queue."""
    return f"e#{event_id}#{user_id}"


def counter_key(event_id: str, line: str, shard: int) -> str:
    """The key of one shard counter of an event's line."""
    return f"c#{event_id}#{line}#{shard}"


class DynamoQueue:
    """Implements ports.QueueRepository."""

    def entry(self, event_id: str, user_id: str) -> QueueEntry | None:
        item = get_or_none(QueueModel, entry_key(event_id, user_id))
        if item is None:
            return None
        joined = parse_time(item.joined_at)
        assert joined is not None and item.shard is not None and item.number is not None
        return QueueEntry(
            event_id=event_id,
            user_id=user_id,
            joined_at=joined,
            early=bool(item.early),
            shard=int(item.shard),
            number=int(item.number),
        )

    def add(self, entry: QueueEntry, expires_at: int) -> None:
        item = QueueModel(
            k=entry_key(entry.event_id, entry.user_id),
            joined_at=iso(entry.joined_at),
            early=entry.early,
            shard=entry.shard,
            number=entry.number,
            expires_at=epoch(expires_at),
        )
        with translate_errors():
            try:
                item.save(condition=QueueModel.k.does_not_exist())
            except PutError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    raise EntryExists() from exc
                raise

    def increment(self, event_id: str, line: str, shard: int, expires_at: int) -> int:
        item = QueueModel(k=counter_key(event_id, line, shard))
        actions: list[Action] = [QueueModel.n.add(1), QueueModel.expires_at.set(epoch(expires_at))]
        with translate_errors():
            item.update(actions=actions)  # pynamodb sets the item's attributes from the answer (ALL_NEW)
        assert item.n is not None
        return int(item.n)

    def counts(self, event_id: str, line: str, shards: int) -> list[int]:
        keys = [counter_key(event_id, line, shard) for shard in range(shards)]
        with translate_errors():
            found = {item.k: int(item.n or 0) for item in QueueModel.batch_get(keys)}
        return [found.get(key, 0) for key in keys]
