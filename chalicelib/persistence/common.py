"""Helpers every repository uses: reading an item that may not exist, timestamps, and list pages."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from chalicelib.domain import Page
from chalicelib.persistence.errors import translate_errors

M = TypeVar("M", bound=Model)


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
            if exc.cause_response_code == "ConditionalCheckFailedException":
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
