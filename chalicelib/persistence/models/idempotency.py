"""The idempotency table: the stored first result of an idempotent request."""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.persistence.models import table


@table("idempotency")
class IdempotencyModel(Model):
    """The first result of a request sent with an Idempotency-Key, per user and key (`<user id>#<key>`), for
    24 hours; and the payment provider's events already applied (`stripe-event#<event id>`, bound to the
    event's type and booking), for 30 days: the provider's own idempotency key is its event id."""

    class Meta:
        table_name = "unbound-idempotency"
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)
    fingerprint = UnicodeAttribute()
    result = UnicodeAttribute(null=True)  # JSON of the domain result (persistence.snapshots)
    expires_at = TTLAttribute()
