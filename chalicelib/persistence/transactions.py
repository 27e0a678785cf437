"""Transactions whose items have names, so that a cancelled transaction is decoded by name, never by position:
reordering the items of a transaction cannot change which error a client gets."""

from __future__ import annotations

import random
import time
import uuid
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactGet, TransactWrite

from chalicelib.errors import Busy
from chalicelib.persistence.connection import get_connection
from chalicelib.persistence.errors import cancellation_codes, translate_errors

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from pynamodb.expressions.condition import Condition
    from pynamodb.expressions.update import Action
    from pynamodb.models import Model

CONDITION_FAILED = "ConditionalCheckFailed"


class ConditionsFailed(Exception):
    """The transaction was cancelled because the conditions of the items in `names` did not hold; nothing
    was written."""

    def __init__(self, names: frozenset[str]) -> None:
        super().__init__(", ".join(sorted(names)))
        self.names = names


class NamedWrite:
    """The items of one TransactWriteItems, each under a name unique within it, kept so that the same request can
    be sent again (a transaction DynamoDB cancelled for a conflict wrote nothing)."""

    # pynamodb sends a transaction's items grouped by kind, in this order, whatever order they were added in;
    # DynamoDB reports cancellation reasons in request order.
    REQUEST_ORDER = ("check", "delete", "save", "update")

    def __init__(self) -> None:
        self._names: dict[str, list[str]] = {kind: [] for kind in self.REQUEST_ORDER}
        self._operations: list[Callable[[TransactWrite], None]] = []

    def _name(self, kind: str, name: str) -> None:
        if any(name in names for names in self._names.values()):
            raise ValueError(f"transaction item {name!r} named twice")
        self._names[kind].append(name)

    def save(self, name: str, item: Model, condition: Condition | None = None) -> None:
        """Put `item`, if `condition` holds."""
        self._name("save", name)
        self._operations.append(lambda tx: tx.save(item, condition=condition))

    def update(self, name: str, item: Model, actions: Sequence[Action], condition: Condition | None = None) -> None:
        """Apply `actions` to `item`, if `condition` holds."""
        self._name("update", name)
        self._operations.append(lambda tx: tx.update(item, actions=list(actions), condition=condition))

    def check(self, name: str, model: type[Model], key: str, condition: Condition) -> None:
        """Write nothing to `model`'s item `key`, but only commit if `condition` holds on it."""
        self._name("check", name)
        self._operations.append(lambda tx: tx.condition_check(model, key, condition=condition))

    def delete(self, name: str, item: Model, condition: Condition | None = None) -> None:
        """Delete `item`, if `condition` holds."""
        self._name("delete", name)
        self._operations.append(lambda tx: tx.delete(item, condition=condition))

    def request_order(self) -> list[str]:
        """The items' names in the order the request lists them."""
        return [name for kind in self.REQUEST_ORDER for name in self._names[kind]]

    def failed(self, exc: TransactWriteError) -> frozenset[str]:
        """The names of the items whose condition failed."""
        codes = cancellation_codes(exc)
        names = self.request_order()
        return frozenset(name for name, code in zip(names, codes, strict=False) if code == CONDITION_FAILED)

    def commit(self) -> None:
        """Send the items as one TransactWriteItems."""
        # A fresh client request token per attempt: it makes botocore's retry of a timed-out commit idempotent
        # (DynamoDB answers the retry with the first attempt's outcome instead of applying it twice or failing
        # its conditions), while an attempt after a cancelled one is a new transaction.
        tx = TransactWrite(connection=get_connection(), client_request_token=uuid.uuid4().hex)
        try:
            with tx:
                for operation in self._operations:
                    operation(tx)
        except TransactWriteError as exc:
            failed = self.failed(exc)
            if failed:
                raise ConditionsFailed(failed) from exc
            raise


# A transaction cancelled because another one held one of its items (TransactionConflict) is sent again, up to
# this many times in all, after a random pause of up to CONFLICT_PAUSE_SECONDS * 2**attempt ("full jitter":
# the requests that collided do not collide again in step). Inside the request's store budget
# (chalicelib.budget), which ends the retries of a request that has waited long enough.
CONFLICT_ATTEMPTS = 4
CONFLICT_PAUSE_SECONDS = 0.02


@contextmanager
def write_transaction(attempts: int = CONFLICT_ATTEMPTS) -> Iterator[NamedWrite]:
    """One TransactWriteItems, committed when the block ends. Failed conditions raise ConditionsFailed; a
    conflict with another transaction is retried (`attempts` in all), then is Busy (503); throttling
    and outages become domain errors (see errors.translate_errors)."""
    named = NamedWrite()
    yield named
    for attempt in range(attempts):
        try:
            with translate_errors():
                named.commit()
            return
        except Busy:
            if attempt == attempts - 1:
                raise
        pause_after_conflict(attempt)


def pause_after_conflict(attempt: int) -> None:
    """Wait before trying again what conflicted `attempt + 1` times: a random pause of up to
    CONFLICT_PAUSE_SECONDS * 2**attempt (2**3 at most), so that the requests that collided do not collide again
    in step."""
    time.sleep(random.uniform(0, CONFLICT_PAUSE_SECONDS * 2 ** min(attempt, 3)))


def read_together(*keys: tuple[type[Model], Any]) -> list[Any]:
    """Items of several tables read in one strongly consistent request (TransactGetItems); None where absent."""
    with translate_errors(), TransactGet(connection=get_connection()) as tx:
        futures = [tx.get(model, key) for model, key in keys]
    return [_result(future) for future in futures]


def _result(future: Any) -> Any:
    try:
        return future.get()
    except DoesNotExist:
        return None
