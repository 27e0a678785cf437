"""Reading requests: the body (JSON or form), query parameters, the authorizer's principal, and links."""

from __future__ import annotations

import enum
import json
import time
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from chalicelib.domain.access import Principal
from chalicelib.domain.enums import Role
from chalicelib.errors import (
    MalformedRequest,
    NotAuthenticated,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)

if TYPE_CHECKING:
    from chalice.app import Request

JSON_TYPES = ("application/json", "")
FORM_TYPE = "application/x-www-form-urlencoded"
BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
E = TypeVar("E", bound=enum.Enum)
EXCERPT = 40
# The authorizer's context keys (API Gateway passes string, number and boolean values only).
AUTH_ERROR = "error"
AUTH_EXPIRES = "exp"


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
        raise UnsupportedMediaType(f'Unsupported media type "{media[:100]}" in request.')
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest("JSON parse error - request body is not valid UTF-8") from None
    if "\ufffd" in text:
        # API Gateway replaces undecodable bytes before the function sees them; refuse rather than store them.
        raise MalformedRequest("JSON parse error - request body is not valid UTF-8")
    if media == FORM_TYPE:
        try:
            return dict(parse_qsl(text, keep_blank_values=True, errors="strict"))
        except UnicodeDecodeError:
            # A percent-escape of bytes that are not UTF-8 would otherwise be stored as U+FFFD.
            raise MalformedRequest("Form parse error - a percent-escape is not valid UTF-8") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise MalformedRequest(f"JSON parse error - {str(exc)[:200]}") from exc


def query_params(request: Request) -> dict[str, str]:
    """Query parameters, the last value winning as in Django."""
    return dict(request.query_params or {})


def boolean_param(params: dict[str, str], name: str) -> bool | None:
    """A true/false query parameter (`true`, `false`, `1`, `0`, any case); None when absent."""
    raw = params.get(name)
    if raw is None:
        return None
    value = BOOLEANS.get(raw.lower())
    if value is None:
        raise ValidationFailed({name: ["Must be a valid boolean."]})
    return value


def choice_param(params: dict[str, str], name: str, choices: type[E]) -> E | None:
    """A query parameter naming one of an enum's values; None when absent."""
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return choices(raw)
    except ValueError:
        raise ValidationFailed({name: [f'"{raw[:EXCERPT]}" is not a valid choice.']}) from None


def principal(request: Request, now: float | None = None) -> Principal:
    """The caller the authorizer verified, on a protected route; NotAuthenticated (simplejwt's body) when the
    authorizer let the request through unauthenticated, or when its cached answer has outlived the token."""
    from chalicelib.services.authentication import NOT_PROVIDED, token_not_valid

    context = (request.context or {}).get("authorizer") or {}
    error = context.get(AUTH_ERROR)
    if error:
        body = json.loads(error)
        raise NotAuthenticated(body.pop("detail"), code=body.pop("code", None), extra=body)
    if not context.get("principalId") or not context.get("role") or AUTH_EXPIRES not in context:
        raise NotAuthenticated(NOT_PROVIDED)
    # API Gateway reuses the policy for its cache TTL, which may end after the token does.
    if int(context[AUTH_EXPIRES]) <= (time.time() if now is None else now):
        raise token_not_valid("Token is expired")
    return Principal(
        user_id=str(context["principalId"]),
        username=str(context.get("username", "")),
        role=Role(context["role"]),
        is_staff=str(context.get("is_staff", "")).lower() == "true",
    )


def client_ip(request: Request) -> str:
    """The client's address as API Gateway saw the connection (`requestContext.identity.sourceIp`); never a
    header such as X-Forwarded-For, which a client writes itself and could vary to dodge a throttle."""
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


def base_path(request: Request, route_path: str) -> str:
    """What precedes `route_path` in the path the client called (an API Gateway stage such as /v1, a base
    path mapping), so that a page's links work with and without its trailing slash."""
    path = str((request.context or {}).get("path") or route_path)
    return path[: path.rfind(route_path)] if route_path in path else ""


def called_path(request: Request) -> str:
    """The path the client called, as API Gateway reports it (with its stage prefix, if any)."""
    return str((request.context or {}).get("path") or request.path)


def page_url(request: Request, params: dict[str, str], public_origin: str | None, path: str | None = None) -> str:
    """The absolute URL of this list (or of `path`, a path beside it) with other query parameters (the `next`
    link), built from what API Gateway reports (its domain name and the path it was called on) or the
    configured origin, never from the client's Host or X-Forwarded-* headers."""
    context = request.context or {}
    origin = public_origin or f"https://{context.get('domainName') or 'localhost'}"
    return f"{origin}{path or called_path(request)}?{urlencode(params)}"
