"""Uploads: their records, the object store behind them, and claiming one for an avatar or an image."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chalicelib.domain.uploads import Upload


class UploadUnavailable(Exception):
    """The upload was used by another request, or expired, after it was checked."""


class ObjectChanged(Exception):
    """The stored object is no longer the version that was checked (replaced or deleted since)."""


@dataclass(frozen=True)
class Claim:
    """Marks an upload as used, in the same transaction as the write that stores its image: only while it is
    unused, `owner`'s, and unexpired at `now` (seconds since the epoch). Raises UploadUnavailable otherwise."""

    upload_id: str
    owner: str
    now: int


class UploadRepository(Protocol):
    """Records of uploads (claimed through the user and event repositories' `save`)."""

    def get(self, upload_id: str) -> Upload | None:
        """The upload, claimed or not, expired or not (None when unknown or deleted by its TTL)."""

    def add(self, upload: Upload) -> None: ...


@dataclass(frozen=True)
class PresignedPost:
    """A form a browser posts, with the file as its last field, to `url`: the storage checks the signed policy
    in `fields` (one key, one content type, a size range, an expiry) and stores the file under that key."""

    url: str
    fields: dict[str, str]


@dataclass(frozen=True)
class ObjectStart:
    """The first bytes of a stored object, its whole size in bytes and its version tag (ETag)."""

    head: bytes
    size: int
    etag: str


class ObjectStore(Protocol):
    """The bucket of uploads and media. Every method raises ServiceUnavailable when the storage fails or hangs."""

    def presigned_post(self, key: str, *, content_type: str, max_bytes: int, expires_seconds: int) -> PresignedPost:
        """A signed form for one object under `key`, of exactly `content_type`, of 1 to `max_bytes` bytes."""

    def read_start(self, key: str, length: int) -> ObjectStart | None:
        """The object's first `length` bytes (one ranged read), or None when there is no object under `key`."""

    def publish(self, source: str, target: str, *, etag: str, content_type: str, cache_control: str) -> None:
        """Copy `source` to `target` inside the storage, with these headers, only if `source` is still the
        version tagged `etag` (ObjectChanged otherwise)."""

    def delete(self, key: str) -> None:
        """Remove the object under `key` (nothing happens when there is none)."""
