"""Throttling and transaction conflicts: 503 or 409 with Retry-After, and nothing half-written."""

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import PASSWORD
from tests.support.faults import dynamodb_fault, dynamodb_timeout, intercepted_calls
from tests.support.retry import RETRY_AFTER

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
    assert reply.headers["retry-after"] in RETRY_AFTER
    assert _items("sessions-local-users") == [] and _items("sessions-local-uniques") == []


def test_a_sign_up_transaction_conflicting_on_every_attempt_is_503_with_retry_after_and_writes_nothing(api):
    # Contention is not an outcome the client must accept (409 is for those): it sends the request again.
    reasons = ["None", "TransactionConflict", "None"]
    with dynamodb_fault("TransactWriteItems", "TransactionCanceledException", reasons) as failed:
        reply = api.post("/api/register/", {"username": "late", "email": "late@example.com", "password": PASSWORD})
    assert (reply.status, reply.json) == (
        503,
        {"detail": "Busy with other requests for the same thing; try again in a moment."},
    )
    assert reply.headers["retry-after"] in RETRY_AFTER
    assert failed == ["TransactWriteItems"] * 4  # sent again three times before the 503
    assert _items("sessions-local-users") == []


CONFLICT = ["None", "TransactionConflict", "None", "None"]


@pytest.mark.parametrize("conflicts", [1, 3])
def test_a_booking_whose_transaction_meets_a_conflict_is_sent_again_and_booked(
    api, creator_token, user_token, conflicts
):
    event = api.post("/api/events/", {**EVENT, "capacity": 2}, token=creator_token).json
    with dynamodb_fault("TransactWriteItems", "TransactionCanceledException", CONFLICT, times=conflicts) as failed:
        reply = api.post(f"/api/events/{event['id']}/bookings/", token=user_token)
    assert (reply.status, reply.json["status"]) == (201, "confirmed"), reply.json
    assert len(failed) == conflicts
    assert api.get(f"/api/events/{event['id']}/").json["seats_booked"] == 1


def test_a_transaction_sent_again_after_a_conflict_carries_a_new_client_request_token(api, creator_token, user_token):
    event = api.post("/api/events/", EVENT, token=creator_token).json
    tokens: list[str] = []

    def conflict_once(name, params, proceed):
        if name != "TransactWriteItems":
            return proceed(name, params)
        tokens.append(params["ClientRequestToken"])
        if len(tokens) == 1:
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "injected"},
                    "CancellationReasons": [{"Code": c} for c in CONFLICT],
                },
                name,
            )
        return proceed(name, params)

    with intercepted_calls(conflict_once):
        reply = api.post(f"/api/events/{event['id']}/bookings/", token=user_token)
    assert reply.status == 201
    assert len(tokens) == 2 and tokens[0] != tokens[1]


def test_throttled_read_is_503(api, creator_token):
    event = api.post("/api/events/", EVENT, token=creator_token).json
    # The event and its seat counter are one BatchGetItem.
    with dynamodb_fault("BatchGetItem", "ProvisionedThroughputExceededException"):
        reply = api.get(f"/api/events/{event['id']}/")
    assert reply.status == 503 and reply.headers["retry-after"] in RETRY_AFTER


def test_throttled_event_edit_leaves_the_event_unchanged(api, creator_token):
    event = api.post("/api/events/", EVENT, token=creator_token).json
    # The time zone is neither searched for nor copied on the seat counters: its edit is one UpdateItem.
    with dynamodb_fault("UpdateItem", "ThrottlingException"):
        reply = api.patch(f"/api/events/{event['id']}/", {"timezone": "Europe/Paris"}, token=creator_token)
    assert reply.status == 503
    assert api.get(f"/api/events/{event['id']}/").json == event


def test_throttled_capacity_edit_leaves_the_event_and_its_seat_counters_unchanged(api, creator_token, users):
    event = api.post("/api/events/", {**EVENT, "capacity": 2}, token=creator_token).json
    # The capacity is split over the seat counters: the event and its counters change in one transaction.
    with dynamodb_fault("TransactWriteItems", "ThrottlingException"):
        reply = api.patch(f"/api/events/{event['id']}/", {"capacity": 1}, token=creator_token)
    assert reply.status == 503
    assert api.get(f"/api/events/{event['id']}/").json == event
    # Both seats are still there to book: the counter's share did not shrink without the event.
    for token in users(2, "seat"):
        assert api.post(f"/api/events/{event['id']}/bookings/", token=token).json["status"] == "confirmed"


def test_throttled_edit_of_searched_words_leaves_the_event_and_its_index_unchanged(api, creator_token):
    event = api.post("/api/events/", {**EVENT, "title": "Kayak basics"}, token=creator_token).json
    with dynamodb_fault("TransactWriteItems", "ThrottlingException"):
        reply = api.patch(f"/api/events/{event['id']}/", {"title": "Canoe basics"}, token=creator_token)
    assert reply.status == 503
    assert api.get(f"/api/events/{event['id']}/").json == event
    assert [e["id"] for e in api.get("/api/events/?q=kayak").json["results"]] == [event["id"]]
    assert api.get("/api/events/?q=canoe").json["results"] == []


def test_authorizer_failure_from_a_throttled_user_read_is_503_not_401(api, creator_token):
    with dynamodb_fault("GetItem", "ProvisionedThroughputExceededException"):
        reply = api.get("/api/me/", token=creator_token)
    assert reply.status == 503 and reply.headers["retry-after"] in RETRY_AFTER


UNAVAILABLE = {"detail": "Service temporarily unavailable, try again later."}


@pytest.mark.parametrize(
    ("operation", "method", "path", "body"),
    [
        ("Query", "GET", "/api/events/", None),
        ("GetItem", "GET", "/api/me/", None),
        ("TransactWriteItems", "POST", "/api/events/{event}/bookings/", {}),
        ("BatchGetItem", "GET", "/api/me/bookings/", None),
        ("UpdateItem", "PATCH", "/api/events/{event}/", {"timezone": "Asia/Tokyo"}),
        ("TransactWriteItems", "PATCH", "/api/events/{event}/", {"capacity": 9}),
        ("TransactWriteItems", "PATCH", "/api/events/{event}/", {"title": "Renamed"}),
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
    assert (reply.status, reply.json) == (503, UNAVAILABLE) and reply.headers["retry-after"] in RETRY_AFTER
