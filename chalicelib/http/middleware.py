"""Cross-cutting HTTP behaviour: CORS headers and one JSON log line per request."""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from chalice.app import Request, Response

from chalicelib.http.responses import server_error


def cors_and_access_log(
    allowed_origins: tuple[str, ...],
) -> Callable[[Request, Callable[[Request], Response]], Response]:
    """Middleware adding CORS headers for allowed origins and logging the request without its body."""
    allow_any = "*" in allowed_origins

    def middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
        started = time.perf_counter()
        try:
            response = get_response(request)
        except Exception:  # noqa: BLE001 - the last line of defence: log it, answer DRF's 500
            log_exception(request)
            response = server_error()
        origin = request.headers.get("origin")
        if origin and (allow_any or origin in allowed_origins):
            response.headers["Access-Control-Allow-Origin"] = "*" if allow_any else origin
            response.headers["Vary"] = "Origin"
            response.headers.setdefault("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate")
        _log(request, response.status_code, started)
        return response

    return middleware


def _context(request: Request) -> dict[str, Any]:
    return request.context or {}


def _log(request: Request, status: int, started: float) -> None:
    context = _context(request)
    line = {
        "request_id": context.get("requestId"),
        "method": request.method,
        "route": context.get("resourcePath"),
        "status": status,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        "user_id": (context.get("authorizer") or {}).get("principalId"),
    }
    sys.stdout.write(json.dumps(line) + "\n")


def log_exception(request: Request) -> None:
    """Log an unexpected error with its traceback, as one JSON line."""
    context = _context(request)
    line = {
        "request_id": context.get("requestId"),
        "route": context.get("resourcePath"),
        "error": traceback.format_exc(),
    }
    sys.stdout.write(json.dumps(line) + "\n")
