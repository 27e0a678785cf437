"""Throttling and transaction conflicts: 503 or 409 with Retry-After, and nothing half-written."""

import boto3
import pytest

from tests.integration.conftest import PASSWORD
from tests.support.faults import dynamodb_fault, dynamodb_timeout

EVENT = {"title": "T", "description": "D"}


def _items(table: str) -> list:
    return boto3.client("dynamodb").scan(TableName=table)["Items"]


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError"]
)
def test_throttled_sign_up_is_503_with_retry_after_and_writes_nothing(api, code):
    with dynamodb_fault("TransactWriteItems", code) as failed:
        reply = api.post("/api/register/", {"username": "late", "email": "late@example.com", "password": PASSWORD})
    assert failed
    assert (reply.status, reply.json) == (503, {"detail": "Service temporarily unavailable, try again later."})
    assert reply.headers["retry-after"] == "1"
    assert _items("sessions-local-users") == [] and _items("sessions-local-uniques") == []


def test_conflicting_sign_up_transaction_is_409_with_retry_after_and_writes_nothing(api):
    reasons = ["None", "TransactionConflict", "None"]
    with dynamodb_fault("TransactWriteItems", "TransactionCanceledException", reasons):
        reply = api.post("/api/register/", {"username": "late", "email": "late@example.com", "password": PASSWORD})
    assert (reply.status, reply.headers["retry-after"], reply.json["code"]) == (409, "1", "conflict")
    assert _items("sessions-local-users") == []


def test_throttled_read_is_503(api, creator_token):
    event = api.post("/api/events/", EVENT, token=creator_token).json
    with dynamodb_fault("GetItem", "ProvisionedThroughputExceededException"):
        reply = api.get(f"/api/events/{event['id']}/")
    assert reply.status == 503 and reply.headers["retry-after"] == "1"


def test_throttled_event_edit_leaves_the_event_unchanged(api, creator_token):
    event = api.post("/api/events/", EVENT, token=creator_token).json
    with dynamodb_fault("UpdateItem", "ThrottlingException"):
        reply = api.patch(f"/api/events/{event['id']}/", {"title": "Changed"}, token=creator_token)
    assert reply.status == 503
    assert api.get(f"/api/events/{event['id']}/").json == event


def test_authorizer_failure_from_a_throttled_user_read_is_503_not_401(api, creator_token):
    with dynamodb_fault("GetItem", "ProvisionedThroughputExceededException"):
        reply = api.get("/api/me/", token=creator_token)
    assert reply.status == 503 and reply.headers["retry-after"] == "1"


UNAVAILABLE = {"detail": "Service temporarily unavailable, try again later."}


@pytest.mark.parametrize(
    ("operation", "method", "path", "body"),
    [
        ("Query", "GET", "/api/events/", None),
        ("GetItem", "GET", "/api/me/", None),
        ("TransactWriteItems", "POST", "/api/events/{event}/bookings/", {}),
        ("BatchGetItem", "GET", "/api/me/bookings/", None),
        ("UpdateItem", "PATCH", "/api/events/{event}/", {"title": "Renamed"}),
    ],
)
def test_a_hung_dynamodb_is_a_503_with_retry_after_never_a_500(
    api, creator_token, user_token, operation, method, path, body
):
    event = api.post("/api/events/", EVENT, token=creator_token).json
    api.post(f"/api/events/{event['id']}/bookings/", token=user_token)
    token = creator_token if method == "PATCH" else user_token
    with dynamodb_timeout(operation) as failed:
        reply = api.request(method, path.format(event=event["id"]), body, token=token)
    assert failed == [operation]
    assert (reply.status, reply.json, reply.headers["retry-after"]) == (503, UNAVAILABLE, "1")
