"""DynamoDB fault injection and call recording at botocore's client, below pynamodb.

The one module that uses botocore's private `BaseClient._make_api_call` (every AWS call of every client passes
through it, and no public hook reaches the clients pynamodb makes for itself); pinned by
tests/unit/test_library_seams.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import botocore.client
from botocore.exceptions import ClientError, ReadTimeoutError

_original = botocore.client.BaseClient._make_api_call


@contextmanager
def dynamodb_fault(
    operation: str, code: str, reasons: list[str] | None = None, times: int | None = None
) -> Iterator[list[str]]:
    """Make every `operation` call (or its first `times` calls) fail with error `code` (and per-item
    cancellation `reasons`)."""
    failed: list[str] = []

    def failing(self: Any, name: str, params: dict[str, Any]) -> Any:
        if name == operation and (times is None or len(failed) < times):
            failed.append(name)
            response: dict[str, Any] = {"Error": {"Code": code, "Message": "injected by the test"}}
            if reasons is not None:
                response["CancellationReasons"] = [{"Code": r} for r in reasons]
            raise ClientError(response, name)
        return _original(self, name, params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", failing):
        yield failed


@contextmanager
def dynamodb_timeout(operation: str) -> Iterator[list[str]]:
    """Make every `operation` call time out as a hung DynamoDB would, after botocore's retries."""
    failed: list[str] = []

    def hanging(self: Any, name: str, params: dict[str, Any]) -> Any:
        if name == operation:
            failed.append(name)
            raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")
        return _original(self, name, params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", hanging):
        yield failed


Call = Callable[[str, dict[str, Any]], Any]


@contextmanager
def intercepted_calls(handler: Callable[[str, dict[str, Any], Call], Any]) -> Iterator[None]:
    """Route every AWS call made inside the block through `handler(name, params, proceed)`: it may answer, raise,
    or `proceed(name, params)` to make the call."""

    def intercepting(self: Any, name: str, params: dict[str, Any]) -> Any:
        return handler(name, params, lambda n, p: _original(self, n, p))

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", intercepting):
        yield


@contextmanager
def recorded_calls(params: list[tuple[str, dict[str, Any]]] | None = None) -> Iterator[list[str]]:
    """The names of the AWS operations made inside the block, in order (and each with its parameters in
    `params`, when given)."""
    calls: list[str] = []

    def recording(self: Any, name: str, request: dict[str, Any]) -> Any:
        calls.append(name)
        if params is not None:
            params.append((name, request))
        return _original(self, name, request)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", recording):
        yield calls
