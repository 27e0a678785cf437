"""What each operation accepts and answers, declared beside its route: the OpenAPI document is built from this.

Request schemas (pydantic) are named here, not imported: a route's module loads pydantic only when a request
with a body is validated, so the public reads never pay for it at a cold start."""

from __future__ import annotations

import importlib
import re
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from chalicelib.http.views import Shape

if TYPE_CHECKING:
    from chalicelib.domain.enums import Access
    from chalicelib.schemas.validation import InputSchema

MediaType = Literal["text/html", "text/javascript", "text/css", "text/calendar"]
HTML: MediaType = "text/html"
JAVASCRIPT: MediaType = "text/javascript"
CSS: MediaType = "text/css"
CALENDAR: MediaType = "text/calendar"
# A success answer: a JSON shape, a non-JSON media type, or None for an empty body.
Answer = Shape | MediaType | None

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


# The declarations below are NamedTuples, not frozen dataclasses: every route's module creates them at import,
# and a NamedTuple class costs about a quarter of a dataclass's (whose methods are each compiled by exec).
class InputRef(NamedTuple):
    """A request schema by module (under chalicelib.schemas) and class name, imported on first use."""

    module: str
    name: str

    def load(self) -> type[InputSchema]:
        """The pydantic model."""
        return _load(self.module, self.name)


@cache
def _load(module: str, name: str) -> type[InputSchema]:
    loaded: type[InputSchema] = getattr(importlib.import_module(f"chalicelib.schemas.{module}"), name)
    return loaded


class Parameter(NamedTuple):
    """A query-string parameter or a request header an operation reads."""

    name: str
    schema: dict[str, Any]
    description: str
    required: bool = False


class RawBody(NamedTuple):
    """A body the view reads as the bytes sent, unvalidated by a request schema (a signed webhook, whose
    signature covers exactly those bytes): its media type and the JSON schema it is documented with."""

    media_type: str
    schema: dict[str, Any]
    description: str


class Operation(NamedTuple):
    """One documented operation (a Chalice route and method)."""

    path: str
    method: str
    summary: str
    access: Access
    responses: dict[int, Answer]
    body: InputRef | None = None
    body_required: bool = True
    raw_body: RawBody | None = None
    query: tuple[Parameter, ...] = ()
    headers: tuple[Parameter, ...] = ()
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
    Parameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        "Page size.",
    ),
    Parameter("cursor", {"type": "string"}, "Opaque cursor from the previous page's `next` link."),
)
IDEMPOTENCY_KEY = Parameter(
    "Idempotency-Key",
    {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
    "A retry with the same key, by the same user, for the same resource and body, gets the first answer back "
    "(with `Idempotent-Replayed: true`) for 24 hours; the same key for anything else is a 409.",
)


def declare_operation(operation: Operation) -> None:
    """Record an operation for the OpenAPI document."""
    OPERATIONS.append(operation)
