"""The queue table: the on-sale queues' entries and sharded counters (persistence.queue)."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.persistence.models import table


@table("queue")
class QueueModel(Model):
    """Two kinds of item, each its own partition key so that a crowd's writes spread over many partitions:
    `e#<event>#<user>`, a user's entry (`early`, `shard`, `number`, `joined_at`), and `c#<event>#<line>#<shard>`,
    a counter (`n`). No index; TTL deletes both once the event is long past."""

    class Meta:
        table_name = "unbound-queue"
        billing_mode = "PAY_PER_REQUEST"

    k = UnicodeAttribute(hash_key=True)
    joined_at = UnicodeAttribute(null=True)
    early = BooleanAttribute(null=True)
    shard = NumberAttribute(null=True)
    number = NumberAttribute(null=True)
    n = NumberAttribute(null=True)
    expires_at = TTLAttribute(null=True)
