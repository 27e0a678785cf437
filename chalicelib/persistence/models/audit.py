"""The audit table: staff writes."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

from chalicelib.persistence.models import index, table


@table("audit")
class AuditModel(Model):
    """One staff write per item, newest first in every index (`at_sk` is `<at>#<id>`): all of them, by actor,
    by object, and by both (`actor_object` is `<actor>#<object>`)."""

    class Meta:
        table_name = "unbound-audit"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute()
    actor_id = UnicodeAttribute()
    actor_username = UnicodeAttribute()
    action = UnicodeAttribute()
    object_type = UnicodeAttribute()
    object_id = UnicodeAttribute()
    changes = UnicodeAttribute()  # JSON: {"field": [old, new]}
    at_sk = UnicodeAttribute()
    all_key = UnicodeAttribute()
    actor_object = UnicodeAttribute()

    by_time = index("by-time", "all_key", "at_sk")
    by_actor = index("by-actor", "actor_id", "at_sk")
    by_object = index("by-object", "object_id", "at_sk")
    by_actor_object = index("by-actor-object", "actor_object", "at_sk")
