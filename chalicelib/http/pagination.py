"""`?limit=` and `?cursor=` in, `{"results", "next"}` out."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NamedTuple

from chalicelib import bootstrap as deps
from chalicelib.errors import ValidationFailed
from chalicelib.http.contract import DEFAULT_LIMIT, MAX_LIMIT
from chalicelib.http.requests import page_url, query_params
from chalicelib.security.cursors import decode_cursor, encode_cursor

if TYPE_CHECKING:
    from chalice.app import Request

    from chalicelib.domain.common import Page
    from chalicelib.http.views import Shape

# ASCII digits only: str.isdigit() also accepts "²" and other digits that int() or a DynamoDB limit refuse.
DIGITS = re.compile(r"\A[0-9]{1,6}\Z")


class Listed(NamedTuple):
    """A page as a list's shape renders it: its items and the absolute link to the next page (None: the last)."""

    items: list[Any]
    next: str | None


def page_request(request: Request, scope: str) -> tuple[int, dict[str, str] | None]:
    """The page size and the start key of the page asked for; `scope` names the list the cursor belongs to."""
    params = query_params(request)
    raw = params.get("limit", str(DEFAULT_LIMIT))
    if not DIGITS.match(raw):
        raise ValidationFailed({"limit": ["A valid integer is required."]})
    limit = int(raw)
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed({"limit": [f"Ensure this value is between 1 and {MAX_LIMIT}."]})
    cursor = params.get("cursor")
    start = decode_cursor(cursor, scope, deps.signing_keys().current().secret, _previous_key) if cursor else None
    return limit, start


def _previous_key() -> bytes | None:
    """The signing key before the current one (read only for a cursor the current key did not sign)."""
    previous = deps.signing_keys().previous()
    return previous.secret if previous is not None else None


def listed(
    request: Request, page: Page, scope: str, *, path: str | None = None, params: dict[str, str] | None = None
) -> Listed:
    """The page with its `next` link: this list's URL and query with the next cursor, or `path` with `params`
    (a page of another list than the one called, such as the first page of an organizer's events)."""
    next_url = None
    if page.next_key is not None:
        query = dict(params) if params is not None else query_params(request)
        query["cursor"] = encode_cursor(page.next_key, scope, deps.signing_keys().current().secret)
        next_url = page_url(request, query, deps.settings().public_api_origin, path)
    return Listed(page.items, next_url)


def page_of(request: Request, page: Page, scope: str, shape: Shape) -> dict[str, Any]:
    """The DRF-style page body (`shape` is the list's shape) with an absolute `next` link."""
    return shape.render(listed(request, page, scope))
