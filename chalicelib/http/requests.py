"""Reading requests: the body (JSON or form), query parameters, and the authorizer's principal."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

from chalice.app import Request

from chalicelib.domain import Role
from chalicelib.errors import MalformedRequest, NotAuthenticated, PayloadTooLarge, UnsupportedMediaType
from chalicelib.security.access import Principal
from chalicelib.security.authentication import NOT_PROVIDED

JSON_TYPES = ("application/json", "")
FORM_TYPE = "application/x-www-form-urlencoded"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Out of range float values are not JSON compliant: {name}")


def read_body(request: Request, max_bytes: int) -> Any:
    """The parsed body: JSON, or a form as the original accepted; an empty body reads as {}."""
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"Request body is larger than {max_bytes} bytes.")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not raw.strip():
        return {}
    if media not in JSON_TYPES and media != FORM_TYPE and not media.endswith("+json"):
        raise UnsupportedMediaType(f'Unsupported media type "{media}" in request.')
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedRequest(f"JSON parse error - {exc}") from exc
    if "\ufffd" in text:
        # API Gateway replaces undecodable bytes before the function sees them; refuse rather than store them.
        raise MalformedRequest("JSON parse error - request body is not valid UTF-8")
    if media == FORM_TYPE:
        return dict(parse_qsl(text, keep_blank_values=True))
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise MalformedRequest(f"JSON parse error - {exc}") from exc


def query_params(request: Request) -> dict[str, str]:
    """Query parameters, the last value winning as in Django."""
    return dict(request.query_params or {})


def principal(request: Request) -> Principal:
    """The caller the authorizer verified; protected routes only."""
    context = (request.context or {}).get("authorizer") or {}
    if not context.get("principalId") or not context.get("role"):
        raise NotAuthenticated(NOT_PROVIDED)
    return Principal(
        user_id=str(context["principalId"]),
        username=str(context.get("username", "")),
        role=Role(context["role"]),
        is_staff=str(context.get("is_staff", "")).lower() == "true",
    )


def page_url(request: Request, params: dict[str, str]) -> str:
    """The absolute URL of this list with other query parameters (the `next` link)."""
    headers = request.headers
    scheme = headers.get("x-forwarded-proto", "http")
    host = headers.get("host", "localhost")
    path = (request.context or {}).get("path") or request.path
    return f"{scheme}://{host}{path}?{urlencode(params)}"
