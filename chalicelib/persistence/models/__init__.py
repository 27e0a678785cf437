"""pynamodb models, one module per table, and what binds them to a stage's tables.

A route imports only its tables' models (each model and index is a class pynamodb builds at import: the users
table alone has nine indexes), so the physical names, region and timeouts are bound as each model module loads:
`bind_tables` records them and binds the models loaded so far, `table` binds the ones loaded after."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, TypeVar

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

# Imported at load, not only for type checking: this module loads when the app is built (the function's init),
# so pynamodb and botocore, hundreds of modules, load there too rather than inside the first request. Loaded that
# deep in the request's call stack, CPython 3.11 allocated and freed a 16 KiB frame-stack chunk some 1,600 times
# (mmap and munmap: tens of milliseconds of system time that no instruction count shows).
from pynamodb.models import Model  # noqa: TC002

from chalicelib.settings import TableNames

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.settings import AwsTimeouts

M = TypeVar("M", bound="type[Model]")

PUBLISHED = "PUBLISHED"
# The one partition of the indexes that list every item of a table (staff lists only: the public lists never
# read them).
ALL = "ALL"
# What the staff's list of users filters on; each combination of them has its own index (see UserModel).
USER_FACETS = ("role", "staff", "active")
# One module per table.
TABLE_MODULES = (
    "users",
    "uniques",
    "events",
    "bookings",
    "idempotency",
    "tokens",
    "counters",
    "audit",
    "uploads",
    "search",
    "seats",
    "queue",
)

_models: dict[str, type[Model]] = {}  # TableNames field -> its model, as model modules load
_sharing: list[tuple[str, type[Model]]] = []  # other models of a table's items (table(..., shares=True))
# Once bind_tables ran: the stage's table names, and its region and timeouts as pynamodb's Meta and Connection
# name them.
_names: TableNames | None = None
_connection: dict[str, Any] = {}


def index(name: str, hash_key: str, range_key: str) -> Any:
    """A global secondary index projecting every attribute, so that a page is one Query."""
    meta = type("Meta", (), {"index_name": name, "projection": AllProjection()})
    attributes = {"Meta": meta, hash_key: UnicodeAttribute(hash_key=True), range_key: UnicodeAttribute(range_key=True)}
    return type(f"_Index_{name.replace('-', '_')}", (GlobalSecondaryIndex,), attributes)()


def facet_attribute(combination: tuple[str, ...]) -> str:
    """The attribute keying the users index of a combination of facets (`f_role_staff`: `CREATOR|true`)."""
    return "f_" + "_".join(combination)


def table(field: str, *, shares: bool = False) -> Callable[[M], M]:
    """Declare a model as the stage's table `field` (a TableNames field); bound now if the stage already is.
    `shares`: another kind of item in a table that has its model (bound to it, never listed by all_models)."""

    def declare(model: M) -> M:
        if shares:
            _sharing.append((field, model))
        else:
            _models[field] = model
        if _names is not None:
            _bind(model, field)
        return model

    return declare


def bind_tables(names: TableNames, region: str, timeouts: AwsTimeouts) -> None:
    """Point the models at one stage's tables, with timeouts that end a hung call in a few seconds, those
    loaded now and those loaded later; pynamodb reconnects when a name changes."""
    global _names
    _names = names
    _connection.update(
        region=region,
        # pynamodb types these as int; botocore takes fractions of a second as well.
        connect_timeout_seconds=timeouts.connect_seconds,
        read_timeout_seconds=timeouts.read_seconds,
        max_retry_attempts=timeouts.max_attempts - 1,
    )
    for field, model in [*_models.items(), *_sharing]:
        _bind(model, field)


def _bind(model: type[Model], field: str) -> None:
    model.Meta.table_name = getattr(_names, field)
    for setting, value in _connection.items():
        setattr(model.Meta, setting, value)


def connection_settings() -> dict[str, Any]:
    """The region and timeouts the models are bound with (empty before bind_tables): for the low-level
    connection that transactions use."""
    return dict(_connection)


def all_models() -> tuple[type[Model], ...]:
    """Every table's model, in TableNames order (loads every model module: for tools, not for requests)."""
    for module in TABLE_MODULES:
        importlib.import_module(f"{__name__}.{module}")
    return tuple(_models[field] for field in TableNames._fields)
