"""Response shapes that are not a resource: health, tokens, errors."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, RootModel


class Health(BaseModel):
    """GET /health/."""

    status: Literal["ok"]


class EmptyObject(BaseModel):
    """`{}`."""

    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    """DRF's non-field error: `detail`, plus simplejwt's `code` and `messages` where it sends them."""

    detail: str
    code: str | None = None
    messages: list[dict[str, Any]] | None = None


class FieldErrors(RootModel[dict[str, list[str]]]):
    """DRF's validation errors: field name (or `non_field_errors`) to messages."""


class OpenApiDocument(RootModel[dict[str, Any]]):
    """An OpenAPI 3.1 document."""
