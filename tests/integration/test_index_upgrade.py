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
