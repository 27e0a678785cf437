"""Response shapes that are not a resource: health, tokens, errors."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, RootModel

from chalicelib.schemas.validation import OutputSchema


class Health(OutputSchema):
    """GET /health/."""

    status: Literal["ok"]


class EmptyObject(OutputSchema):
    """`{}`."""

    model_config = ConfigDict(extra="forbid")


class ErrorDetail(OutputSchema):
    """DRF's non-field error: `detail`, plus simplejwt's `code` and `messages` where it sends them."""

    detail: str
    code: str | None = None
    messages: list[dict[str, Any]] | None = None


class FieldErrors(RootModel[dict[str, list[str]]]):
    """DRF's validation errors: field name (or `non_field_errors`) to messages."""

    model_config = ConfigDict(defer_build=True)


class OpenApiDocument(RootModel[dict[str, Any]]):
    """An OpenAPI 3.1 document."""

    model_config = ConfigDict(defer_build=True)
