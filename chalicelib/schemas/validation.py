"""Run a pydantic schema over client input and report failures in DRF's shapes and wording."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from chalicelib.errors import ValidationFailed
from chalicelib.schemas.fields import excerpt

NON_FIELD = "non_field_errors"
M = TypeVar("M", bound="InputSchema")


class InputSchema(BaseModel):
    """Base of every request schema: unknown fields are refused, read-only ones named as such."""

    # defer_build: validators are compiled on first use, not at import (cold start).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    read_only_fields: ClassVar[frozenset[str]] = frozenset()
    # Optional in a partial update, yet never null: `{"title": null}` is an error, not "no change".
    not_null_fields: ClassVar[frozenset[str]] = frozenset()


def _message(error: ErrorDetails, model: type[InputSchema]) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    field = str(error["loc"][0]) if error["loc"] else ""
    if kind == "drf":
        return str(ctx.get("message", error["msg"]))
    if kind == "missing":
        return "This field is required."
    if kind == "extra_forbidden":
        return "This field is read-only." if field in model.read_only_fields else "Unknown field."
    if error.get("input", "") is None:
        return "This field may not be null."
    if kind == "string_too_long":
        return f"Ensure this field has no more than {ctx['max_length']} characters."
    if kind == "string_type":
        return "Not a valid string."
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "A valid integer is required."
    if kind == "greater_than_equal":
        return f"Ensure this value is greater than or equal to {ctx['ge']}."
    if kind == "less_than_equal":
        return f"Ensure this value is less than or equal to {ctx['le']}."
    if kind in ("bool_type", "bool_parsing"):
        return "Must be a valid boolean."
    if kind in ("literal_error", "enum"):
        return f'"{excerpt(error.get("input"))}" is not a valid choice.'
    return "Invalid value."


def validate(model: type[M], data: Any) -> M:
    """An instance of `model` built from `data`, or ValidationFailed with DRF-style field errors."""
    if not isinstance(data, dict):
        raise ValidationFailed({NON_FIELD: [f"Invalid data. Expected a dictionary, but got {_type_name(data)}."]})
    errors: dict[str, list[str]] = {
        field: ["This field may not be null."]
        for field in sorted(model.not_null_fields)
        if field in data and data[field] is None
    }
    try:
        instance = model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            # An unknown field's name is the client's own text: quote no more than an excerpt of it.
            field = excerpt(str(error["loc"][0])) if error["loc"] else NON_FIELD
            message = _message(error, model)
            if message not in errors.setdefault(field, []):
                errors[field].append(message)
        raise ValidationFailed(errors) from exc
    if errors:
        raise ValidationFailed(errors)
    return instance


def _type_name(value: Any) -> str:
    return {list: "list", str: "str", int: "int", float: "float", bool: "bool"}.get(type(value), type(value).__name__)
