"""One structured logger for the whole app: JSON lines on stdout (CloudWatch on Lambda), each record's `fields`
at the top level of its line, with the function's name and the invocation's correlation id.

Configured on first use, with its own handler and level (LOG_LEVEL): on Lambda the root logger is WARNING and
carries the runtime's own handler, so a logger that relied on it would lose its INFO lines (the sweep's summary)
and print its fields as text. It does not propagate, so nothing is printed twice.

The correlation id is set once per invocation, in one place per kind of function: the HTTP middleware (API
Gateway's request id, which the gateway's own access log and the client's error reports carry) and
`lambda_handler`/`invocation` for the others (the Lambda request id)."""

from __future__ import annotations

import functools
import json
import logging
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

LOGGER_NAME = "sessions_marketplace"
F = TypeVar("F", bound="Callable[..., Any]")


class Invocation(NamedTuple):
    """Which function is running, and the id that ties its lines to one invocation."""

    function: str
    correlation_id: str | None


_current: ContextVar[Invocation | None] = ContextVar("invocation", default=None)


@contextmanager
def invocation(function: str, correlation_id: str | None) -> Iterator[None]:
    """Every line logged inside carries `function` and `correlation_id`."""
    token = _current.set(Invocation(function, correlation_id))
    try:
        yield
    finally:
        _current.reset(token)


def lambda_request_id(context: Any) -> str | None:
    """The Lambda request id of an invocation's context object (None where there is none: tests, tools)."""
    value = getattr(context, "aws_request_id", None)
    return value if isinstance(value, str) else None


@contextmanager
def lambda_invocation(function: str, context: Any) -> Iterator[None]:
    """One invocation of a function other than the API: its lines carry `function` and the Lambda request id, and
    an error it lets out is logged (with its stack trace, as JSON) before Lambda records the failure."""
    with invocation(function, lambda_request_id(context)):
        try:
            yield
        except Exception:
            get_logger().exception("invocation failed")
            raise


def lambda_handler(function: str) -> Callable[[F], F]:
    """`lambda_invocation` around a Lambda handler taking (event, context)."""

    def wrap(handler: F) -> F:
        @functools.wraps(handler)
        def run(event: Any, context: Any) -> Any:
            with lambda_invocation(function, context):
                return handler(event, context)

        return run  # type: ignore[return-value]

    return wrap


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: level, message, function and correlation id (inside an invocation), the
    record's `fields`, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"level": record.levelname, "message": record.getMessage()}
        current = _current.get()
        if current is not None:
            line["function"] = current.function
            line["correlation_id"] = current.correlation_id
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def get_logger() -> logging.Logger:
    """The app's logger, writing JSON lines to stdout at LOG_LEVEL; configured once."""
    logger = logging.getLogger(LOGGER_NAME)
    if not logger.handlers:
        from chalicelib.settings import ConfigurationError, log_level_from_env

        try:
            level = log_level_from_env()
        except ConfigurationError:
            level = "INFO"  # the settings refuse the cold start with the reason; tools still log
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False  # Lambda's root handler would print each line a second time
    return logger
