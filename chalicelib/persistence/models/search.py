"""The search table: the token index of published events (persistence.search)."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.indexes import AllProjection, LocalSecondaryIndex
from pynamodb.models import Model

from chalicelib.persistence.models import table


class _ByStart(LocalSecondaryIndex["SearchModel"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-start"
        projection = AllProjection()

    k = UnicodeAttribute(hash_key=True)
    s = UnicodeAttribute(range_key=True)


class _ByCreated(LocalSecondaryIndex["SearchModel"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-created"
        projection = AllProjection()

    k = UnicodeAttribute(hash_key=True)
    c = UnicodeAttribute(range_key=True)


@table("search")
class SearchModel(Model):
    """One item per (key, event) of a published event, written in the event's own transactions: `k` is a word's
    prefix (`q#dynam`), a facet (`cat#technology`, `tag#aws`, `city#lisbon`, `online`, `free`) or `all`; `id`
    the event. The primary key stays put when the event changes (an edit overwrites its items); the two local
    indexes give each key's events by start (`s`) and by creation (`c`). The other attributes are the filters a
    search checks inside a key's items: `p` the longer prefixes of the event's words under a word key."""

    class Meta:
        table_name = "unbound-search"
        billing_mode = "PAY_PER_REQUEST"

    k = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    s = UnicodeAttribute()
    c = UnicodeAttribute()
    st = UnicodeAttribute(null=True)  # the start time (for a date filter on the creation order)
    cat = UnicodeAttribute(null=True)
    city = UnicodeAttribute(null=True)
    tags = UnicodeSetAttribute(null=True)
    online = BooleanAttribute(default=False)
    free = BooleanAttribute(default=False)
    p = UnicodeSetAttribute(null=True)

    by_start = _ByStart()
    by_created = _ByCreated()
