"""JSON responses and the single mapping from domain errors to HTTP answers."""

from __future__ import annotations

import json
import random
from typing import Any

from chalice.app import Response

from chalicelib.errors import (
    Conflict,
    DomainError,
    MalformedRequest,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    ServiceUnavailable,
    Throttled,
    UnsupportedMediaType,
    ValidationFailed,
)

WWW_AUTHENTICATE = 'Bearer realm="api"'
# Retry-After of a transient failure (a conflict, an unavailable dependency), drawn at random: a crowd refused
# in the same instant (an on-sale) would otherwise come back in the same instant again. Whole seconds, as
# RFC 9110 writes delay-seconds.
TRANSIENT_RETRY_AFTER = (1, 2, 3)


def transient_retry_after() -> str:
    """A Retry-After for a transient failure, spread over TRANSIENT_RETRY_AFTER."""
    return str(random.choice(TRANSIENT_RETRY_AFTER))


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A compact UTF-8 JSON response (DRF's separators)."""
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return Response(body=text, status_code=status, headers={"Content-Type": "application/json", **(headers or {})})


def error_response(exc: DomainError) -> Response:
    """The HTTP answer for a domain error, in DRF's shapes."""
    if isinstance(exc, ValidationFailed):
        return json_response(exc.errors, 400)
    if isinstance(exc, MalformedRequest):
        return json_response({"detail": exc.detail}, 400)
    if isinstance(exc, NotAuthenticated):
        body: dict[str, Any] = {"detail": exc.detail}
        if exc.code:
            body["code"] = exc.code
        body.update(exc.extra)
        return json_response(body, 401, {"WWW-Authenticate": WWW_AUTHENTICATE})
    if isinstance(exc, PermissionDenied):
        return json_response(_detail(exc.detail, exc.code), 403)
    if isinstance(exc, NotFound):
        return json_response(_detail(exc.detail, exc.code), 404)
    if isinstance(exc, Conflict):
        headers = {"Retry-After": transient_retry_after()} if exc.code in ("conflict", "concurrent_update") else None
        return json_response({"detail": exc.detail, "code": exc.code}, 409, headers)
    if isinstance(exc, PayloadTooLarge):
        return json_response({"detail": exc.detail}, 413)
    if isinstance(exc, UnsupportedMediaType):
        return json_response({"detail": exc.detail}, 415)
    if isinstance(exc, Throttled):
        return json_response({"detail": exc.detail}, 429, {"Retry-After": str(exc.wait)})
    if isinstance(exc, ServiceUnavailable):
        wait = str(exc.retry_after) if exc.retry_after is not None else transient_retry_after()
        return json_response({"detail": exc.detail}, 503, {"Retry-After": wait})
    return json_response({"detail": exc.detail or "Invalid request."}, 400)


def _detail(detail: str, code: str | None) -> dict[str, str]:
    return {"detail": detail, "code": code} if code else {"detail": detail}


def server_error() -> Response:
    """DRF's answer for a bug: nothing about the cause leaves the server."""
    return json_response({"detail": "A server error occurred."}, 500)
