"""`?limit=` and `?cursor=` in, `{"results", "next"}` out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Request

from chalicelib.domain import Page
from chalicelib.errors import ValidationFailed
from chalicelib.http import dependencies as deps
from chalicelib.http.requests import page_url, query_params
from chalicelib.security.cursors import decode_cursor, encode_cursor

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def page_request(request: Request, scope: str) -> tuple[int, dict[str, str] | None]:
    """The page size and the start key of the page asked for; `scope` names the list the cursor belongs to."""
    params = query_params(request)
    raw = params.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit():
        raise ValidationFailed({"limit": ["A valid integer is required."]})
    limit = int(raw)
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed({"limit": [f"Ensure this value is between 1 and {MAX_LIMIT}."]})
    cursor = params.get("cursor")
    start = decode_cursor(cursor, scope, deps.signing_key()) if cursor else None
    return limit, start


def page_of(request: Request, page: Page, scope: str, show: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """The DRF-style page body with an absolute `next` link."""
    next_url = None
    if page.next_key is not None:
        params = query_params(request)
        params["cursor"] = encode_cursor(page.next_key, scope, deps.signing_key())
        next_url = page_url(request, params)
    return {"results": [show(item) for item in page.items], "next": next_url}
