"""Helpers every repository uses: reading an item that may not exist, or several of several tables at once,
timestamps, and list pages."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import DoesNotExist, GetError, UpdateError
from pynamodb.models import Model

from chalicelib.domain.common import Page
from chalicelib.persistence.connection import get_connection
from chalicelib.persistence.errors import error_code, translate_errors

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from pynamodb.expressions.condition import Condition
    from pynamodb.expressions.update import Action

M = TypeVar("M", bound=Model)
# BatchGetItem's limit of keys per request.
BATCH_KEYS = 100


def get_or_none(model: type[M], key: str) -> M | None:
    """A strongly consistent GetItem; None when the item does not exist."""
    with translate_errors():
        try:
            return model.get(key, consistent_read=True)
        except DoesNotExist:
            return None


def update_if(item: Model, actions: Sequence[Action], condition: Condition | None = None) -> bool:
    """One UpdateItem on `item`'s key; False, having written nothing, when `condition` does not hold."""
    with translate_errors():
        try:
            item.update(actions=list(actions), condition=condition)
        except UpdateError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
    return True


def epoch(seconds: int) -> datetime:
    """A TTL attribute's value for a Unix time."""
    return datetime.fromtimestamp(seconds, tz=UTC)


def parse_time(value: str | None) -> datetime | None:
    """A stored ISO timestamp (with `Z`) as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def query_window(limit: int, start: dict[str, str] | None) -> dict[str, Any]:
    """Query arguments for one page: one item more than shown, to know whether another page follows."""
    start_key = {name: {"S": value} for name, value in start.items()} if start else None
    return {"limit": limit + 1, "page_size": limit + 1, "last_evaluated_key": start_key}


def page_of(results: Iterable[Any], limit: int, key_attrs: tuple[str, ...], to_domain: Callable[[Any], Any]) -> Page:
    """The page for `limit + 1` query results. The cursor is built from the last item shown, not from
    LastEvaluatedKey, which emulators omit when the limit equals the number of results."""
    items = list(results)
    more = len(items) > limit
    items = items[:limit]
    next_key = {attr: getattr(items[-1], attr) for attr in ("id", *key_attrs)} if more and items else None
    return Page(items=[to_domain(i) for i in items], next_key=next_key)


def newest_first(
    index: Any,
    partition: str,
    key_attrs: tuple[str, ...],
    to_domain: Callable[[Any], Any],
    *,
    limit: int,
    start: dict[str, str] | None,
) -> Page:
    """One page of an index partition in descending sort-key order (`key_attrs`: its hash and range keys)."""
    with translate_errors():
        results = index.query(partition, scan_index_forward=False, **query_window(limit, start))
        return page_of(results, limit, key_attrs, to_domain)


class Stream(NamedTuple):  # not a dataclass: a NamedTuple class is a quarter of the cold-start cost
    """What one Query of a merged list read, in key order: (sort key, item, whether the list shows it), and
    whether the index may hold more after the last one."""

    read: list[tuple[str, Any, bool]]
    more: bool


def merge_streams(streams: list[Stream], limit: int, *, descending: bool = False) -> tuple[list[Any], str | None]:
    """Up to `limit` shown items of several key-ordered streams (ascending, or `descending`), merged in that
    order, and the key to continue after (None at the end). Past the first key at which a stream may continue,
    the others cannot be shown yet: the stream's unread items could come first. So a page may hold fewer than
    `limit` items (never when each stream read `limit + 1`), but it never reads more than each stream's one
    Query."""
    ends = [stream.read[-1][0] for stream in streams if stream.more and stream.read]
    frontier = (max(ends) if descending else min(ends)) if ends else None

    def before_frontier(key: str) -> bool:
        return frontier is None or (key >= frontier if descending else key <= frontier)

    shown = sorted(
        ((key, item) for stream in streams for key, item, keep in stream.read if keep and before_frontier(key)),
        key=lambda pair: pair[0],
        reverse=descending,
    )
    if len(shown) > limit:
        return [item for _, item in shown[:limit]], shown[limit - 1][0]
    return [item for _, item in shown], frontier


def batch_read(keys: Sequence[tuple[type[Model], Any, Any]], *, consistent: bool) -> list[Any]:
    """Items of several tables by key, `(model, hash key, range key or None)` (pynamodb's batch_get reads one
    model's), in BatchGetItem requests of up to 100 keys (what DynamoDB leaves unprocessed is asked again).
    Absent items are simply missing."""
    models: dict[str, type[Model]] = {}
    wanted: dict[str, list[dict[str, Any]]] = {}
    for model, hash_key, range_key in dict.fromkeys(keys):
        table = model.Meta.table_name
        models[table] = model
        wanted.setdefault(table, []).append(_key(model, hash_key, range_key))
    pending = [(table, k) for table, table_keys in wanted.items() for k in table_keys]
    found: list[Any] = []
    with translate_errors():
        while pending:
            chunk, pending = pending[:BATCH_KEYS], pending[BATCH_KEYS:]
            request: dict[str, Any] = {}
            for table, item_key in chunk:
                request.setdefault(table, {"Keys": [], "ConsistentRead": consistent})["Keys"].append(item_key)
            for attempt in range(8):
                reply = _dispatch(request)
                for table, items in reply.get("Responses", {}).items():
                    found.extend(models[table].from_raw_data(item) for item in items)
                request = reply.get("UnprocessedKeys") or {}
                if not request:
                    break
                # DynamoDB leaves keys unprocessed when a partition is busy: back off before asking again.
                time.sleep(random.uniform(0, 0.05 * 2**attempt))
            if request:
                raise GetError("BatchGetItem left keys unprocessed")
    return found


def _dispatch(request: dict[str, Any]) -> dict[str, Any]:
    try:
        reply: dict[str, Any] = get_connection().dispatch("BatchGetItem", {"RequestItems": request})
    except (ClientError, BotoCoreError) as exc:
        raise GetError(f"Failed to batch get items: {exc}", exc) from exc
    return reply


def _key(model: type[Model], hash_key: Any, range_key: Any) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for attribute in model.get_attributes().values():
        if attribute.is_hash_key:
            item[attribute.attr_name] = {attribute.attr_type: attribute.serialize(hash_key)}
        elif attribute.is_range_key and range_key is not None:
            item[attribute.attr_name] = {attribute.attr_type: attribute.serialize(range_key)}
    return item
