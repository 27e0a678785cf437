"""What each operation accepts and answers, declared beside its route: the OpenAPI document is built from this."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from chalicelib.security.access import Access

HTML = "text/html"
JAVASCRIPT = "text/javascript"


@dataclass(frozen=True)
class QueryParam:
    """A query-string parameter of a list."""

    name: str
    schema: dict[str, Any]
    description: str


@dataclass(frozen=True)
class Operation:
    """One documented operation (a Chalice route and method)."""

    path: str
    method: str
    summary: str
    access: Access
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: tuple[QueryParam, ...] = ()
    headers: tuple[QueryParam, ...] = ()
    # Success status -> response model, None for an empty body, or a media type (HTML, JAVASCRIPT).
    responses: dict[int, type[BaseModel] | str | None] = field(default_factory=dict)
    conflicts: bool = False
    errors: tuple[int, ...] = ()  # answers beyond those implied by the other fields
    optional_auth: bool = False
    uses_database: bool = True

    @property
    def path_params(self) -> list[str]:
        """Names of the `{...}` segments."""
        return re.findall(r"\{([^}]+)\}", self.path)


OPERATIONS: list[Operation] = []

PAGINATION = (
    QueryParam("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "Page size."),
    QueryParam("cursor", {"type": "string"}, "Opaque cursor from the previous page's `next` link."),
)
IDEMPOTENCY_KEY = QueryParam(
    "Idempotency-Key",
    {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
    "Retries with the same key, user and body replay the first response for 24 hours.",
)


def declare_operation(operation: Operation) -> None:
    """Record an operation for the OpenAPI document."""
    OPERATIONS.append(operation)
