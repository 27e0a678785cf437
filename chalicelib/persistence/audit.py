"""The audit log on DynamoDB. Entries are written by the other repositories, as one more item of the
transaction that makes the change they record, so an entry exists exactly when its change does."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chalicelib.domain.audit import Actor, AuditEntry
from chalicelib.domain.common import Page, iso
from chalicelib.domain.enums import AuditAction
from chalicelib.persistence.common import newest_first, parse_time
from chalicelib.persistence.models import ALL
from chalicelib.persistence.models.audit import AuditModel

if TYPE_CHECKING:
    from chalicelib.persistence.transactions import NamedWrite


def _to_item(entry: AuditEntry) -> AuditModel:
    at = iso(entry.at)
    return AuditModel(
        id=entry.id,
        at=at,
        actor_id=entry.actor.id,
        actor_username=entry.actor.username,
        action=entry.action.value,
        object_type=entry.object_type,
        object_id=entry.object_id,
        changes=json.dumps({name: list(pair) for name, pair in entry.changes.items()}, separators=(",", ":")),
        at_sk=f"{at}#{entry.id}",
        all_key=ALL,
        actor_object=f"{entry.actor.id}#{entry.object_id}",
    )


def _to_domain(item: AuditModel) -> AuditEntry:
    at = parse_time(item.at)
    assert at is not None
    changes: dict[str, Any] = json.loads(item.changes)
    return AuditEntry(
        id=item.id,
        at=at,
        actor=Actor(id=item.actor_id, username=item.actor_username),
        action=AuditAction(item.action),
        object_id=item.object_id,
        changes={name: (pair[0], pair[1]) for name, pair in changes.items()},
    )


def add_entry(tx: NamedWrite, entry: AuditEntry) -> None:
    """Write `entry` as part of `tx` (the transaction of the change it records)."""
    tx.save("audit", _to_item(entry), condition=AuditModel.id.does_not_exist())


class DynamoAuditRepository:
    """Implements ports.AuditRepository: one Query on the index that matches the filters."""

    def list(self, *, actor: str | None, object_id: str | None, limit: int, start: dict[str, str] | None) -> Page:
        index: Any
        if actor and object_id:
            index, key, attribute = AuditModel.by_actor_object, f"{actor}#{object_id}", "actor_object"
        elif actor:
            index, key, attribute = AuditModel.by_actor, actor, "actor_id"
        elif object_id:
            index, key, attribute = AuditModel.by_object, object_id, "object_id"
        else:
            index, key, attribute = AuditModel.by_time, ALL, "all_key"
        return newest_first(index, key, (attribute, "at_sk"), _to_domain, limit=limit, start=start)
