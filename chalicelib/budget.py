"""How long one request may wait on its data store, and what it does once the store has failed it.

Every DynamoDB call of a request passes through persistence.errors.translate_errors, which asks here first. A
store that failed once in a request (a timeout, throttling, an outage) is not asked again in that request: the
rest of it fails at once, so a hung store costs a request one call's timeouts (about 6 s), not one per call it
would have made (a sign-in used to wait for its throttle's give-back call after its user read had failed). And
a request stops starting store calls once it has waited STORE_BUDGET_SECONDS on them in all.

The budget is per request (a context variable the HTTP middleware sets); code running outside a request (the
sweep, tools, the authorizer) has none and is not limited."""

from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from chalicelib.errors import ServiceUnavailable

if TYPE_CHECKING:
    from collections.abc import Iterator

# What a request may spend waiting on its store before it gives up with a 503 (docs/api.md's "about 6 s" for a
# hung dependency: one call's worst case, connect 1 s + read 2 s, twice).
STORE_BUDGET_SECONDS = 5.0


class _Budget:
    def __init__(self, seconds: float) -> None:
        self.left = seconds
        self.failed = False
        self.depth = 0


_current: ContextVar[_Budget | None] = ContextVar("store_budget", default=None)


@contextmanager
def request_budget(seconds: float = STORE_BUDGET_SECONDS) -> Iterator[None]:
    """The scope of one request: its store calls share `seconds` and one failure."""
    token = _current.set(_Budget(seconds))
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def store_call() -> Iterator[None]:
    """One call to the store, inside the request's budget: ServiceUnavailable at once when the store already
    failed in this request or the budget is spent. Nested calls count once, in the outermost."""
    budget = _current.get()
    if budget is None:
        yield
        return
    if budget.depth == 0 and (budget.failed or budget.left <= 0):
        raise ServiceUnavailable()
    budget.depth += 1
    started = time.monotonic()
    try:
        yield
    finally:
        budget.depth -= 1
        if budget.depth == 0:
            budget.left -= time.monotonic() - started


def store_failed() -> None:
    """The store failed this request: its later calls fail at once."""
    budget = _current.get()
    if budget is not None:
        budget.failed = True
