"""The seats table: an event's seat counters, apart from the event's item and its indexes."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.persistence.models import table


@table("seats")
class SeatModel(Model):
    """One item per seat shard of an event (`shard` 0..N-1, N the event's `seat_shards`): its share of the
    capacity (absent: unlimited), the seats it has booked, and copies of the event's `status` and `starts_at`, so
    that a booking's transaction holds only this item, the booking and the user's marker, and never the event's
    item (copied into eight indexes, written by edits). Shard 0 also counts the event's waitlist. No index and
    no stream: a booking writes 2 WCU here and nothing else of the event. Each counter is a partition key of
    its own (`k` = `<event>#<shard>`): items sharing a partition key share its partition's 1,000 WCU and 3,000
    RCU a second, which would cap the event whatever the number of counters."""

    class Meta:
        table_name = "unbound-seats"
        billing_mode = "PAY_PER_REQUEST"

    k = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute()
    shard = NumberAttribute()
    capacity = NumberAttribute(null=True)
    booked = NumberAttribute(default=0)
    waitlisted = NumberAttribute(default=0)
    status = UnicodeAttribute()
    starts_at = UnicodeAttribute(null=True)
