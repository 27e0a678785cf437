"""The request log, on the app's one logger (chalicelib.logs): a JSON line per request (request id, cold-start
flag, route, status, latency, user) and unexpected errors with their stack trace. Never a body, a header value
or a token."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.logs import get_logger

if TYPE_CHECKING:
    from chalice.app import Request

_first_request = [True]


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
