"""Upload records on DynamoDB, and the transaction item that claims one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chalicelib.domain.common import iso
from chalicelib.domain.enums import UploadPurpose
from chalicelib.domain.uploads import Upload
from chalicelib.persistence.common import get_or_none, parse_time
from chalicelib.persistence.errors import translate_errors
from chalicelib.persistence.models.uploads import UploadModel

if TYPE_CHECKING:
    from chalicelib.persistence.transactions import NamedWrite
    from chalicelib.ports.uploads import Claim

CLAIM = "upload"  # the claim's name in the transactions it joins


def _to_domain(item: UploadModel) -> Upload:
    created = parse_time(item.created_at)
    assert created is not None and item.expires_at is not None
    return Upload(
        id=item.id,
        owner=item.owner,
        purpose=UploadPurpose(item.purpose),
        content_type=item.content_type,
        size=int(item.size),
        key=item.object_key,
        created_at=created,
        expires_at=int(item.expires_at.timestamp()),
        event_id=item.event_id,
        claimed=item.claimed_at is not None,
    )


def claim_upload(tx: NamedWrite, claim: Claim) -> None:
    """Add the claim to a transaction: it fails (as CLAIM) unless the upload is unused, the owner's and unexpired
    (TTL deletes expired records late, so the time is checked here as well)."""
    now = datetime.fromtimestamp(claim.now, tz=UTC)
    condition = (
        UploadModel.id.exists()
        & UploadModel.claimed_at.does_not_exist()
        & (UploadModel.owner == claim.owner)
        & (UploadModel.expires_at > now)
    )
    tx.update(CLAIM, UploadModel(id=claim.upload_id), [UploadModel.claimed_at.set(iso(now))], condition=condition)


class DynamoUploadRepository:
    """Implements ports.UploadRepository."""

    def get(self, upload_id: str) -> Upload | None:
        item = get_or_none(UploadModel, upload_id)
        return _to_domain(item) if item else None

    def add(self, upload: Upload) -> None:
        item = UploadModel(
            id=upload.id,
            owner=upload.owner,
            purpose=upload.purpose.value,
            content_type=upload.content_type,
            size=upload.size,
            object_key=upload.key,
            event_id=upload.event_id,
            created_at=iso(upload.created_at),
            expires_at=datetime.fromtimestamp(upload.expires_at, tz=UTC),
        )
        with translate_errors():
            item.save(condition=UploadModel.id.does_not_exist())
