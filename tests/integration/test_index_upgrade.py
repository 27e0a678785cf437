"""Tables made before the staff's indexes: `manage.py createtables` adds the missing indexes, and the items
stored before them get their keys (`manage.py reindex`), so they appear in the staff's lists."""

from __future__ import annotations

from itertools import combinations

import boto3

from chalicelib.persistence.admin import backfill_index_keys, create_tables
from chalicelib.persistence.models import USER_FACETS, facet_attribute

USER_KEYS = [
    "name_sk",
    "email_sk",
    "all_key",
    *(facet_attribute(c) for size in range(1, len(USER_FACETS) + 1) for c in combinations(USER_FACETS, size)),
]


def _strip(table: str, key: str, attributes: list[str]) -> None:
    """Make an item look as the previous version stored it: without these attributes."""
    boto3.client("dynamodb").update_item(
        TableName=table, Key={"id": {"S": key}}, UpdateExpression="REMOVE " + ", ".join(attributes)
    )


def test_missing_indexes_are_added_and_older_items_get_their_keys(api, make_user, creator_token, staff_token):
    client = boto3.client("dynamodb")
    client.update_table(
        TableName="sessions-local-users", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-role"}}]
    )
    old_user = make_user("old_timer")
    _strip("sessions-local-users", old_user.id, USER_KEYS)
    event = api.post("/api/events/", {"title": "Old", "description": "Stored long ago"}, token=creator_token).json
    _strip("sessions-local-events", event["id"], ["all_key", "creator_status"])
    listed = api.get("/api/admin/users/", token=staff_token).json["results"]
    assert [u["username"] for u in listed] == ["admin", "creator_user"]
    assert api.get("/api/admin/events/", token=staff_token).json["results"] == []

    assert create_tables(wait=False) == ["sessions-local-users/by-role"]
    assert create_tables(wait=False) == []
    assert backfill_index_keys() == {"users": 1, "events": 1}
    assert backfill_index_keys() == {"users": 0, "events": 0}

    listed = api.get("/api/admin/users/?role=USER", token=staff_token).json["results"]
    assert [u["username"] for u in listed] == ["admin", "old_timer"]
    assert [e["id"] for e in api.get("/api/admin/events/", token=staff_token).json["results"]] == [event["id"]]


def test_rebuilding_the_search_index_finds_old_events_and_drops_what_is_stale(api, creator_token):
    """Events stored before search existed get their items; items of deleted events and of words an event no
    longer has go; a second run has nothing to do."""
    from chalicelib.persistence.admin import rebuild_search_index
    from chalicelib.persistence.models.search import SearchModel

    kept = api.post("/api/events/", {"title": "Kayak basics", "description": "Paddle"}, token=creator_token).json
    old = api.post("/api/events/", {"title": "Canoe trips", "description": "Rivers"}, token=creator_token).json
    for item in SearchModel.scan(SearchModel.id == old["id"]):
        item.delete()  # as if stored before search existed
    SearchModel(k="q#zzz", id=kept["id"], s="x", c="y").save()  # a key it no longer has
    SearchModel(k="all", id="01J00000000000000000000000", s="x", c="y").save()  # an event since deleted
    assert api.get("/api/events/?q=canoe").json["results"] == []

    counts = rebuild_search_index()
    assert counts == {
        "events": 2,
        "put": len(list(SearchModel.scan(SearchModel.id == old["id"]))),
        "deleted": 2,
        "skipped": 0,
    }
    assert [e["id"] for e in api.get("/api/events/?q=canoe").json["results"]] == [old["id"]]
    assert rebuild_search_index() == {"events": 0, "put": 0, "deleted": 0, "skipped": 0}
