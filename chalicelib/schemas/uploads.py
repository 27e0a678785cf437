"""Schema of a new upload."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from chalicelib.schemas.fields import FileSize
from chalicelib.schemas.validation import InputSchema


class UploadCreateIn(InputSchema):
    """POST /api/uploads/: what will be sent (type and size in bytes), and for what (an event image names its
    event)."""

    purpose: Literal["avatar", "event_image"]
    content_type: Literal["image/jpeg", "image/png", "image/webp"]
    size: FileSize
    event: Annotated[str, Field(max_length=26)] | None = None
