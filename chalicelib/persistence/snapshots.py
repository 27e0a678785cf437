"""Domain objects as JSON and back, for results stored whole (an idempotent request's first result)."""

from __future__ import annotations

import enum
import json
import types
from dataclasses import fields, is_dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from chalicelib.domain.bookings import Booking, BookingResult
from chalicelib.domain.common import iso
from chalicelib.domain.events import Event
from chalicelib.persistence.common import parse_time

T = TypeVar("T")


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return _as_dict(value)  # a booking's payment
    return value


def _as_dict(obj: Any) -> dict[str, Any]:
    return {f.name: _encode(getattr(obj, f.name)) for f in fields(obj)}


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _decode(kind: Any, value: Any) -> Any:
    if get_origin(kind) in (Union, types.UnionType):
        if value is None:
            return None
        kind = next(arg for arg in get_args(kind) if arg is not type(None))
    if kind is datetime:
        return parse_time(value)
    if kind is Decimal:
        return Decimal(value)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(value)
    if isinstance(kind, type) and is_dataclass(kind):
        return _from_dict(kind, value)
    return value


def _from_dict(cls: type[T], data: dict[str, Any]) -> T:
    assert is_dataclass(cls)
    hints = _hints(cls)
    return cls(**{f.name: _decode(hints[f.name], data[f.name]) for f in fields(cls) if f.name in data})


def dump_result(result: BookingResult) -> str:
    """A booking result as compact JSON."""
    event = _as_dict(result.event) if result.event is not None else None
    return json.dumps({"booking": _as_dict(result.booking), "event": event}, separators=(",", ":"))


def load_result(text: str) -> BookingResult:
    """The booking result `dump_result` wrote."""
    data = json.loads(text)
    event = _from_dict(Event, data["event"]) if data["event"] is not None else None
    return BookingResult(booking=_from_dict(Booking, data["booking"]), event=event)
