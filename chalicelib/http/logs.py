"""One structured logger: a JSON line per request (request id, cold-start flag, route, status, latency, user)
and unexpected errors with their stack trace. Never a body, a header value or a token."""

from __future__ import annotations

import json
import logging
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice.app import Request

LOGGER_NAME = "sessions_marketplace"
_first_request = [True]


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: level, message, the record's `fields`, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"level": record.levelname, "message": record.getMessage()}
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def get_logger() -> logging.Logger:
    """The app's logger, writing JSON lines to stdout (CloudWatch on Lambda); configured once."""
    logger = logging.getLogger(LOGGER_NAME)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # Lambda's root handler would print each line a second time
    return logger


def _request_fields(request: Request) -> dict[str, Any]:
    context = request.context or {}
    return {
        "request_id": context.get("requestId"),
        "method": request.method,
        "route": context.get("resourcePath"),
        "user_id": (context.get("authorizer") or {}).get("principalId"),
    }


def log_request(request: Request, status: int, latency_ms: float) -> None:
    """The access line of one request; the first of a process is marked as its cold start."""
    cold, _first_request[0] = _first_request[0], False
    fields = {**_request_fields(request), "status": status, "latency_ms": round(latency_ms, 2), "cold_start": cold}
    get_logger().info("request", extra={"fields": fields})


def log_exception(request: Request) -> None:
    """An unexpected error while serving `request`, with its stack trace (call from an `except` block)."""
    get_logger().error("unhandled error", exc_info=True, extra={"fields": _request_fields(request)})
