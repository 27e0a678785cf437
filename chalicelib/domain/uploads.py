"""Uploads: a file a user sent for an avatar or an event's image."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.enums import UploadPurpose


@dataclass(frozen=True)
class Upload:
    """A file a user was allowed to send straight to the bucket, under `key`, as `content_type` of at most
    `size` bytes; usable once (claimed), by its owner, for its purpose (an event image for its event only),
    until `expires_at` (seconds since the epoch)."""

    id: str
    owner: str
    purpose: UploadPurpose
    content_type: str
    size: int
    key: str
    created_at: datetime
    expires_at: int
    event_id: str | None = None
    claimed: bool = False
