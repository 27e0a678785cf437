"""Uploads: a browser sends an image straight to the bucket under a policy signed here, then names the upload in
an edit (`avatar`, an event's `image`). The file is checked where it landed (owner, size, magic bytes, pixel
size) and copied, unchanged since the check, to an immutable key under `media/`: only that copy is ever served.

Keys: `uploads/<user>/<upload>` (private, deleted by the bucket's lifecycle rule a day later, used or not) and
`media/<avatars|events>/<new id>.<ext>` (public through the media distribution, cached for a year). A replaced or
removed image is deleted from the bucket at once."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain.common import utcnow
from chalicelib.domain.enums import UploadPurpose
from chalicelib.domain.uploads import Upload
from chalicelib.errors import ServiceUnavailable, ValidationFailed
from chalicelib.ids import is_valid_id, new_id
from chalicelib.logs import get_logger
from chalicelib.ports.uploads import (
    Claim,
    ObjectChanged,
    ObjectStore,
    PresignedPost,
    UploadRepository,
    UploadUnavailable,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chalicelib.domain.access import Principal

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS_PER_SIDE = 4096
POST_SECONDS = 10 * 60
# An upload can be used for a day: the bucket's lifecycle rule deletes what is under uploads/ after one day.
CLAIMABLE_SECONDS = 24 * 3600
UNCLAIMED_DAYS = 1
# How much of a file is read to find its type and size: a JPEG's frame header may follow metadata segments.
HEADER_BYTES = 256 * 1024
UPLOAD_PREFIX = "uploads/"
MEDIA_PREFIX = "media/"
# Media keys are never reused for other content, so browsers and the CDN may keep them as long as they like.
MEDIA_CACHE_CONTROL = "public, max-age=31536000, immutable"
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
FOLDERS = {UploadPurpose.AVATAR: "avatars", UploadPurpose.EVENT_IMAGE: "events"}
WHAT = {UploadPurpose.AVATAR: "an avatar", UploadPurpose.EVENT_IMAGE: "an event image"}

log = get_logger()


@dataclass(frozen=True)
class Media:
    """What using an upload needs: the upload records and the bucket."""

    uploads: UploadRepository
    store: ObjectStore


@dataclass(frozen=True)
class StartedUpload:
    """A new upload and the form to post its file with, valid until `expires_at`."""

    upload: Upload
    post: PresignedPost
    expires_at: datetime


def is_media_key(value: str | None) -> bool:
    """True for an image this API published (stored as its key), False for nothing or a link from elsewhere."""
    return value is not None and value.startswith(MEDIA_PREFIX)


def check_target(purpose: UploadPurpose, event_id: str | None) -> None:
    """An event image names its event; an avatar names none."""
    if purpose is UploadPurpose.EVENT_IMAGE and event_id is None:
        raise ValidationFailed({"event": ["This field is required."]})
    if purpose is not UploadPurpose.EVENT_IMAGE and event_id is not None:
        raise ValidationFailed({"event": ["Only an event image belongs to an event."]})


def start(
    media: Media, owner: Principal, purpose: UploadPurpose, content_type: str, size: int, event_id: str | None = None
) -> StartedUpload:
    """Record an upload and sign the form for it: one key under the caller's prefix, the declared type only, at
    most the declared size. Whether the caller may add an image to the event is decided by the events service."""
    check_target(purpose, event_id)
    upload_id, created = new_id(), utcnow()
    upload = Upload(
        id=upload_id,
        owner=owner.user_id,
        purpose=purpose,
        content_type=content_type,
        size=size,
        key=f"{UPLOAD_PREFIX}{owner.user_id}/{upload_id}",
        created_at=created,
        expires_at=int(created.timestamp()) + CLAIMABLE_SECONDS,
        event_id=event_id,
    )
    post = media.store.presigned_post(
        upload.key, content_type=content_type, max_bytes=size, expires_seconds=POST_SECONDS
    )
    media.uploads.add(upload)
    # The policy S3 enforces is signed after `created` and its expiration rounded down to the second: counted
    # from `created` rounded down too, the time answered is never later than the form's real end.
    return StartedUpload(upload, post, created.replace(microsecond=0) + timedelta(seconds=POST_SECONDS))


@dataclass(frozen=True)
class Verified:
    """An upload found good and copied to `key`; `claim` marks it used, in the write that stores `key`."""

    key: str
    claim: Claim


def _refuse(field: str, message: str) -> ValidationFailed:
    return ValidationFailed({field: [message]})


def _usable(
    media: Media, field: str, upload_id: str, owner: str, purpose: UploadPurpose, event_id: str | None, now: int
) -> Upload:
    upload = media.uploads.get(upload_id) if is_valid_id(upload_id) else None
    if upload is None or upload.owner != owner:
        # Someone else's upload is as unknown as one that never existed.
        raise _refuse(field, "Unknown upload.")
    if upload.purpose is not purpose:
        raise _refuse(field, f"This upload is not {WHAT[purpose]}.")
    if upload.event_id != event_id:
        raise _refuse(field, "This upload is for another event's image.")
    if upload.claimed:
        raise _refuse(field, "This upload has already been used.")
    if upload.expires_at <= now:
        raise _refuse(field, "This upload has expired; upload the file again.")
    return upload


def verify(
    media: Media, field: str, upload_id: str, owner: str, purpose: UploadPurpose, event_id: str | None = None
) -> Verified:
    """Check the upload and the file it received, then copy the file to its media key. Raises ValidationFailed
    on `field` for anything wrong with either; nothing is changed then."""
    from chalicelib.services import images

    now = int(time.time())
    upload = _usable(media, field, upload_id, owner, purpose, event_id, now)
    start = media.store.read_start(upload.key, HEADER_BYTES)
    if start is None:
        raise _refuse(field, "No file has been uploaded for this upload yet.")
    if start.size == 0:
        raise _refuse(field, "The uploaded file is empty.")
    if start.size > upload.size:
        # S3 refuses these itself (content-length-range); a storage that does not, such as moto, relies on this.
        raise _refuse(field, f"The uploaded file is larger than declared ({start.size} bytes, {upload.size} declared).")
    kind = images.sniff(start.head)
    if kind != upload.content_type:
        raise _refuse(field, f"The file is not a {images.LABELS[upload.content_type]} image.")
    try:
        width, height = images.dimensions(start.head, kind, whole=start.size <= len(start.head))
    except images.DamagedImage as exc:
        raise _refuse(field, str(exc)) from None
    if width > MAX_PIXELS_PER_SIDE or height > MAX_PIXELS_PER_SIDE:
        limit = f"{MAX_PIXELS_PER_SIDE} x {MAX_PIXELS_PER_SIDE}"
        raise _refuse(field, f"The image is {width} x {height} pixels; at most {limit} are allowed.")
    key = f"{MEDIA_PREFIX}{FOLDERS[purpose]}/{new_id()}.{EXTENSIONS[kind]}"
    try:
        # Only the version checked above is copied: a file posted again to the same form meanwhile is refused.
        media.store.publish(upload.key, key, etag=start.etag, content_type=kind, cache_control=MEDIA_CACHE_CONTROL)
    except ObjectChanged:
        raise _refuse(field, "The file changed while it was being checked; use a new upload.") from None
    return Verified(key=key, claim=Claim(upload_id=upload.id, owner=owner, now=now))


@contextmanager
def claiming(media: Media, field: str, verified: Verified) -> Iterator[None]:
    """Around the write that stores `verified.key` with its claim: when that write fails, the copy (which nobody
    was shown) is deleted; an upload used by another request meanwhile is a refusal on `field`."""
    try:
        yield
    except UploadUnavailable:
        discard(media, verified.key)
        raise _refuse(field, "This upload has already been used.") from None
    except BaseException:
        discard(media, verified.key)
        raise


def discard(media: Media, key: str | None) -> None:
    """Delete a published image nothing shows any more (best effort: a failure leaves an object that no answer
    names, under an unguessable key, and is logged)."""
    if not is_media_key(key):
        return
    assert key is not None
    try:
        media.store.delete(key)
    except ServiceUnavailable:
        log.warning("could not delete %s; it is no longer referenced", key)


def replaced(media: Media, old: str | None, new: str | None) -> None:
    """After an edit was written: delete the image it replaced or removed, if this API published it."""
    if old != new:
        discard(media, old)
