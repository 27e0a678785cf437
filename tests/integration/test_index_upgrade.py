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
    assert backfill_index_keys() == {"users": 1, "events": 1, "bookings": 0}
    assert backfill_index_keys() == {"users": 0, "events": 0, "bookings": 0}

    listed = api.get("/api/admin/users/?role=USER", token=staff_token).json["results"]
    assert [u["username"] for u in listed] == ["admin", "old_timer"]
    assert [e["id"] for e in api.get("/api/admin/events/", token=staff_token).json["results"]] == [event["id"]]


def test_bookings_stored_before_the_index_by_part_get_their_part_and_stay_listed(api, creator_token, users):
    """The bookings' by-event-part index added to a table that holds bookings: each booking gets the part of the
    seat counter it holds (none recorded: 0), and an event whose counters went down since gets as many parts as
    its bookings sit in."""
    from tests.support.invariants import check_booking_invariants

    client = boto3.client("dynamodb")
    client.update_table(
        TableName="sessions-local-bookings", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-event-part"}}]
    )
    event = api.post(
        "/api/events/", {"title": "Old", "description": "D", "capacity": 6, "seat_shards": 3}, token=creator_token
    ).json
    url = f"/api/events/{event['id']}/bookings/"
    tokens = users(3)
    gone = [api.post(url, {}, token=token).json["id"] for token in tokens[:2]]
    for booking_id, token in zip(gone, tokens, strict=False):
        assert api.post(f"/api/bookings/{booking_id}/cancel/", {}, token=token).status == 200
    assert api.patch(f"/api/events/{event['id']}/", {"seat_shards": 1}, token=creator_token).status == 200
    kept = api.post(url, {}, token=tokens[2]).json["id"]
    # As stored before the index: no parts anywhere, and the first cancelled booking on counter 2 (gone since).
    for item in client.scan(TableName="sessions-local-bookings")["Items"]:
        _strip("sessions-local-bookings", item["id"]["S"], ["event_part"])
    client.update_item(
        TableName="sessions-local-bookings",
        Key={"id": {"S": gone[0]}},
        UpdateExpression="SET seat_shard = :two",
        ExpressionAttributeValues={":two": {"N": "2"}},
    )
    _strip("sessions-local-events", event["id"], ["booking_parts"])

    assert create_tables(wait=False) == ["sessions-local-bookings/by-event-part"]
    assert backfill_index_keys() == {"users": 0, "events": 0, "bookings": 3}
    assert backfill_index_keys() == {"users": 0, "events": 0, "bookings": 0}
    stored = {i["id"]["S"]: i for i in client.scan(TableName="sessions-local-bookings")["Items"]}
    assert {i: item["event_part"]["S"] for i, item in stored.items()} == {
        gone[0]: f"{event['id']}#2",
        gone[1]: f"{event['id']}#{stored[gone[1]].get('seat_shard', {'N': '0'})['N']}",
        kept: f"{event['id']}#0",
    }
    item = client.get_item(TableName="sessions-local-events", Key={"id": {"S": event["id"]}})["Item"]
    assert (item["seat_shards"]["N"], item["booking_parts"]["N"]) == ("1", "3")
    listed = api.get(url, token=creator_token).json["results"]
    assert [b["id"] for b in listed] == [kept, gone[1], gone[0]]
    check_booking_invariants()


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
