"""The uniques table: markers that make usernames, e-mail addresses and active bookings unique."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

from chalicelib.persistence.models import table


@table("uniques")
class UniqueModel(Model):
    """Uniqueness markers: `USERNAME#<identity>` and `EMAIL#<identity>` point to the user holding them,
    `BOOKING#<event>#<user>` to the active booking of that user for that event (with its status, so that one
    read tells whether the user holds a seat). `SUPPRESSED#<address>` is an address no mail goes to, `owner`
    the feedback that suppressed it (Bounce or Complaint) and `since` when (persistence.suppressions)."""

    class Meta:
        table_name = "unbound-uniques"
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()
    status = UnicodeAttribute(null=True)
    since = UnicodeAttribute(null=True)
