"""The uploads table: upload records."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.persistence.models import table


@table("uploads")
class UploadModel(Model):
    """One upload a user may send to the bucket and then use once; `claimed_at` is set by the write that uses it.
    TTL deletes the record a day after it was made (S3's lifecycle rule deletes the unused file then too)."""

    class Meta:
        table_name = "unbound-uploads"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()
    purpose = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size = NumberAttribute()
    object_key = UnicodeAttribute()
    event_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    claimed_at = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()
