"""The digest book's items (persistence.digests), kept in the uniques table beside its markers."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.models import Model

from chalicelib.persistence.models import table


@table("uniques", shares=True)
class DigestModel(Model):
    """`DIGEST#<day>#<creator>#<event>`: the booking ids `booked` and `cancelled` that day, and `more_booked`,
    `more_cancelled` counted beside them once the item is full (`#more` item); `DIGEST#<day>#<creator>`: its
    `events`; `DIGESTS#<day>#<shard>`: the `creators` of that day (SHARDS of them); `DIGESTS#<day>#done`:
    `status` once every digest of the day was handled. `owner` is the creator (`-` for a day's items), as the
    uniques table's other items name who holds them; `expires_at` (epoch seconds) ends their use."""

    class Meta:
        table_name = "unbound-uniques"
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()
    booked = UnicodeSetAttribute(null=True)
    cancelled = UnicodeSetAttribute(null=True)
    more_booked = NumberAttribute(null=True)
    more_cancelled = NumberAttribute(null=True)
    events = UnicodeSetAttribute(null=True)
    creators = UnicodeSetAttribute(null=True)
    status = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
