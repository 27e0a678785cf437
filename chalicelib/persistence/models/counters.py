"""The throttle table: rate-limit counters."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.persistence.models import table


@table("throttle")
class CounterModel(Model):
    """One throttle counter per key (`signin-client#...`, `signin-ip#...`, ...): uses in the window ending at
    `expires_at`, which TTL then deletes; `lease_until` while a password check of that username from that
    client holds it. Markers (`signin-known#...`) are items whose window is how long they last."""

    class Meta:
        table_name = "unbound-throttle"
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    expires_at = TTLAttribute()
    lease_until = NumberAttribute(null=True)
