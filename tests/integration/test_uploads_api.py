"""Uploads through the API on moto's mock: the signed form (its policy read back, since moto does not enforce
one), the file posted to it, the checks when an edit names the upload, what changes and what does not, S3
outages, and the DynamoDB and S3 calls each step makes."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from chalicelib import bootstrap
from chalicelib.adapters.s3 import S3ObjectStore
from chalicelib.domain.enums import Role
from chalicelib.persistence.models.uploads import UploadModel
from chalicelib.persistence.uploads import DynamoUploadRepository
from chalicelib.services.uploads import MEDIA_CACHE_CONTROL, Media
from chalicelib.settings import AwsTimeouts, get_settings
from devstack.bucket import configure_bucket
from devstack.stack import ROOT
from tests.integration.conftest import PASSWORD
from tests.support.faults import dynamodb_fault, dynamodb_timeout, recorded_calls
from tests.support.images import jpeg, png
from tests.support.retry import RETRY_AFTER
from tests.support.uploads import conditions, policy, post_file

BUCKET = get_settings().uploads_bucket
MEDIA = get_settings().media_base_url
PICTURE = png(120, 80)
EVENT = {"title": "T", "description": "D"}


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name="us-east-1")
    configure_bucket(client, BUCKET, ["http://localhost:*"])
    return client


def _start(api, token, **body: Any):
    request = {"purpose": "avatar", "content_type": "image/png", "size": len(PICTURE), **body}
    reply = api.post("/api/uploads/", request, token=token)
    assert reply.status == 201, reply.json
    return reply.json


def _send(api, token, data=PICTURE, content_type="image/png", size=None, **body: Any):
    form = _start(api, token, content_type=content_type, size=size or len(data), **body)
    assert post_file(form, data, content_type).status_code == 204
    return form


def _media(s3) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="media/").get("Contents", [])]


def _user_id(api, token) -> str:
    return str(api.get("/api/me/", token=token).json["id"])


# Starting an upload.


def test_an_upload_is_a_presigned_post_for_one_key_one_type_and_at_most_the_declared_size(api, s3, user_token):
    # The request's own bounds in time, not a margin: under load it may take any time at all.
    before = datetime.now(UTC).replace(microsecond=0)
    form = _start(api, user_token, content_type="image/webp", size=123_456)
    after = datetime.now(UTC)
    user_id = _user_id(api, user_token)
    key = f"uploads/{user_id}/{form['id']}"
    assert sorted(form) == ["expires_at", "fields", "id", "url"]
    assert form["url"] == f"https://{BUCKET}.s3.amazonaws.com/"
    assert {k: form["fields"][k] for k in ("key", "Content-Type", "x-amz-algorithm")} == {
        "key": key,
        "Content-Type": "image/webp",
        "x-amz-algorithm": "AWS4-HMAC-SHA256",
    }
    assert {"x-amz-credential", "x-amz-date", "x-amz-signature", "policy"} <= set(form["fields"])
    # moto accepts a POST whatever its policy says: what S3 would enforce is read from the policy itself.
    assert conditions(form) == sorted(
        [
            [("bucket", BUCKET)],
            [("key", key)],
            [("Content-Type", "image/webp")],
            ["content-length-range", 1, 123_456],
            [("x-amz-algorithm", "AWS4-HMAC-SHA256")],
            [("x-amz-credential", form["fields"]["x-amz-credential"])],
            [("x-amz-date", form["fields"]["x-amz-date"])],
        ],
        key=str,
    )
    expires = datetime.fromisoformat(policy(form)["expiration"].replace("Z", "+00:00"))
    answered = datetime.fromisoformat(form["expires_at"].replace("Z", "+00:00"))
    # The answer never promises longer than S3 would accept; both are ten minutes from within the request.
    assert before + timedelta(seconds=600) <= answered <= expires <= after + timedelta(seconds=600)
    record = UploadModel.get(form["id"], consistent_read=True)
    assert (record.owner, record.purpose, record.content_type, record.size, record.object_key) == (
        user_id,
        "avatar",
        "image/webp",
        123_456,
        key,
    )
    assert record.claimed_at is None
    assert before.timestamp() + 86_400 <= record.expires_at.timestamp() <= after.timestamp() + 86_400


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"purpose": "banner"}, {"purpose": ['"banner" is not a valid choice.']}),
        ({"content_type": "image/gif"}, {"content_type": ['"image/gif" is not a valid choice.']}),
        ({"content_type": "image/svg+xml"}, {"content_type": ['"image/svg+xml" is not a valid choice.']}),
        ({"size": 0}, {"size": ["Ensure this value is greater than or equal to 1."]}),
        ({"size": 5 * 1024 * 1024 + 1}, {"size": ["Ensure this value is less than or equal to 5242880."]}),
        ({"size": True}, {"size": ["A valid integer is required."]}),
        ({"size": "lots"}, {"size": ["A valid integer is required."]}),
        ({"event": "01M8DJKSQ4WJA7GH71FHCTVASD"}, {"event": ["Only an event image belongs to an event."]}),
        ({"purpose": "event_image"}, {"event": ["This field is required."]}),
        ({"key": "uploads/someone-else/x"}, {"key": ["Unknown field."]}),
    ],
)
def test_a_bad_declaration_is_400_and_records_nothing(api, s3, user_token, body, errors):
    request = {"purpose": "avatar", "content_type": "image/png", "size": 10, **body}
    reply = api.post("/api/uploads/", request, token=user_token)
    assert (reply.status, reply.json) == (400, errors)
    assert list(UploadModel.scan()) == []


def test_an_event_image_upload_is_for_whoever_may_edit_the_event(api, s3, make_user, creator_token, staff_token):
    event = api.post("/api/events/", EVENT, token=creator_token).json
    draft = api.post("/api/events/", {**EVENT, "status": "draft"}, token=creator_token).json
    make_user("rival", Role.CREATOR)
    rival = api.token("rival", PASSWORD)
    request = {"purpose": "event_image", "content_type": "image/png", "size": 10}
    reply = api.post("/api/uploads/", {**request, "event": event["id"]}, token=rival)
    assert (reply.status, reply.json) == (403, {"detail": "You do not have permission to perform this action."})
    for unseen in (draft["id"], "01M8DJKSQ4WJA7GH71FHCTVASD", "nope"):
        reply = api.post("/api/uploads/", {**request, "event": unseen}, token=rival)
        assert (reply.status, reply.json) == (404, {"detail": "Not found."})
    assert list(UploadModel.scan()) == []
    assert api.post("/api/uploads/", {**request, "event": draft["id"]}, token=creator_token).status == 201
    assert api.post("/api/uploads/", {**request, "event": event["id"]}, token=staff_token).status == 201


# Using an upload.


def test_a_posted_picture_becomes_the_avatar_served_from_an_immutable_media_key(api, s3, user_token):
    form = _send(api, user_token)
    reply = api.patch("/api/me/", {"avatar": form["id"]}, token=user_token)
    assert reply.status == 200, reply.json
    avatar = reply.json["avatar"]
    assert avatar.startswith(f"{MEDIA}/media/avatars/") and avatar.endswith(".png")
    assert api.get("/api/me/", token=user_token).json["avatar"] == avatar
    key = avatar.removeprefix(f"{MEDIA}/")
    assert _media(s3) == [key]
    stored = s3.get_object(Bucket=BUCKET, Key=key)
    assert (stored["Body"].read(), stored["ContentType"], stored["CacheControl"]) == (
        PICTURE,
        "image/png",
        MEDIA_CACHE_CONTROL,
    )
    served = requests.get(avatar, timeout=10)  # anyone may read media/ (the local stand-in for CloudFront)
    assert (served.status_code, served.content) == (200, PICTURE)
    upload = requests.get(f"{MEDIA}/{form['fields']['key']}", timeout=10)
    assert upload.status_code == 403  # the file as posted is never served
    assert UploadModel.get(form["id"], consistent_read=True).claimed_at is not None


def test_a_text_file_a_larger_file_and_someone_elses_upload_are_refused_and_change_nothing(
    api, s3, make_user, user_token
):
    make_user("other")
    other = api.token("other", PASSWORD)
    before = api.get("/api/me/", token=user_token).json
    text = _send(api, user_token, b"I am not a picture, whatever my name says\n", "image/png")
    larger = _start(api, user_token, size=len(PICTURE) - 1)
    assert post_file(larger, PICTURE, "image/png").status_code == 204  # S3 would refuse it; moto does not
    theirs = _send(api, other)
    cases = [
        (text, "The file is not a PNG image."),
        (larger, f"The uploaded file is larger than declared ({len(PICTURE)} bytes, {len(PICTURE) - 1} declared)."),
        (theirs, "Unknown upload."),
    ]
    for form, message in cases:
        body = {"avatar": form["id"], "email": "changed@example.com", "current_password": PASSWORD}
        reply = api.patch("/api/me/", body, token=user_token)
        assert (reply.status, reply.json) == (400, {"avatar": [message]})
        assert UploadModel.get(form["id"], consistent_read=True).claimed_at is None
    assert api.get("/api/me/", token=user_token).json == before
    assert _media(s3) == []
    # The other user's upload is still theirs to use.
    assert api.patch("/api/me/", {"avatar": theirs["id"]}, token=other).status == 200


def test_an_upload_is_used_once_and_a_replaced_or_removed_avatar_leaves_the_bucket(api, s3, user_token):
    first = _send(api, user_token)
    avatar = api.patch("/api/me/", {"avatar": first["id"]}, token=user_token).json["avatar"]
    again = api.patch("/api/me/", {"avatar": first["id"]}, token=user_token)
    assert (again.status, again.json) == (400, {"avatar": ["This upload has already been used."]})
    second = _send(api, user_token, jpeg(8, 8), "image/jpeg")
    replaced = api.patch("/api/me/", {"avatar": second["id"]}, token=user_token).json["avatar"]
    assert replaced.endswith(".jpg") and _media(s3) == [replaced.removeprefix(f"{MEDIA}/")]
    assert requests.get(avatar, timeout=10).status_code in (403, 404)
    removed = api.patch("/api/me/", {"avatar": None}, token=user_token)
    assert (removed.status, removed.json["avatar"]) == (200, None)
    assert _media(s3) == []


def test_an_events_image_is_an_upload_for_it_shown_in_the_lists_and_deleted_with_it(api, s3, creator_token):
    created = api.post("/api/events/", {**EVENT, "image": "https://elsewhere.example/x.png"}, token=creator_token)
    assert (created.status, created.json) == (
        400,
        {"image": ["An event's image is added once it exists: POST /api/uploads/ for it, then PATCH it."]},
    )
    event = api.post("/api/events/", {**EVENT, "image": None}, token=creator_token).json
    other = api.post("/api/events/", EVENT, token=creator_token).json
    form = _send(api, creator_token, purpose="event_image", event=event["id"])
    wrong = api.patch(f"/api/events/{other['id']}/", {"image": form["id"]}, token=creator_token)
    assert (wrong.status, wrong.json) == (400, {"image": ["This upload is for another event's image."]})
    avatar = _send(api, creator_token)
    wrong = api.patch(f"/api/events/{event['id']}/", {"image": avatar["id"]}, token=creator_token)
    assert (wrong.status, wrong.json) == (400, {"image": ["This upload is not an event image."]})
    link = api.patch(f"/api/events/{event['id']}/", {"image": "https://elsewhere.example/x.png"}, token=creator_token)
    assert (link.status, link.json) == (400, {"image": ["Enter the id of an upload (POST /api/uploads/)."]})
    reply = api.patch(f"/api/events/{event['id']}/", {"image": form["id"]}, token=creator_token)
    assert reply.status == 200 and reply.json["image"].startswith(f"{MEDIA}/media/events/")
    assert api.get(f"/api/events/{event['id']}/").json["image"] == reply.json["image"]
    listed = {e["id"]: e["image"] for e in api.get("/api/events/").json["results"]}
    assert listed == {event["id"]: reply.json["image"], other["id"]: None}
    assert api.delete(f"/api/events/{event['id']}/", token=creator_token).status == 204
    assert _media(s3) == []


# What each step calls.


def test_the_file_is_read_once_in_part_copied_only_if_unchanged_and_claimed_in_the_edits_transaction(
    api, s3, user_token
):
    form = _send(api, user_token)
    etag = s3.head_object(Bucket=BUCKET, Key=form["fields"]["key"])["ETag"]
    calls: list[tuple[str, dict[str, Any]]] = []
    with recorded_calls(calls):
        assert api.patch("/api/me/", {"avatar": form["id"]}, token=user_token).status == 200
    names = [name for name, _ in calls]
    # The authorizer's user read, the upload, the ranged read, the copy, the user, one transaction.
    assert names == ["GetItem", "GetItem", "GetObject", "CopyObject", "GetItem", "TransactWriteItems"]
    read, copy, transaction = calls[2][1], calls[3][1], calls[5][1]
    assert (read["Key"], read["Range"]) == (form["fields"]["key"], "bytes=0-262143")
    assert (copy["CopySource"], copy["CopySourceIfMatch"]) == (f"{BUCKET}/{form['fields']['key']}", etag)
    assert (copy["ContentType"], copy["CacheControl"], copy["MetadataDirective"]) == (
        "image/png",
        MEDIA_CACHE_CONTROL,
        "REPLACE",
    )
    tables = sorted(next(iter(item.values()))["TableName"] for item in transaction["TransactItems"])
    assert tables == sorted([get_settings().tables.users, get_settings().tables.uploads])


def test_a_public_read_makes_no_s3_call_and_starting_an_upload_signs_without_one(api, s3, user_token):
    with recorded_calls() as calls:
        api.get("/api/events/")
        api.post("/api/uploads/", {"purpose": "avatar", "content_type": "image/png", "size": 10}, token=user_token)
    assert calls == ["Query", "GetItem", "PutItem"]  # the list; the authorizer's user read; the upload record


# Outages.


def test_s3_failing_or_timing_out_is_a_503_with_retry_after_and_changes_nothing(api, s3, user_token):
    form = _send(api, user_token)
    before = api.get("/api/me/", token=user_token).json
    for fault in (dynamodb_timeout("GetObject"), dynamodb_fault("CopyObject", "SlowDown")):
        with fault as failed:
            reply = api.patch("/api/me/", {"avatar": form["id"]}, token=user_token)
        assert failed and (reply.status, reply.json) == (
            503,
            {"detail": "Service temporarily unavailable, try again later."},
        )
        assert reply.headers["retry-after"] in RETRY_AFTER
    assert api.get("/api/me/", token=user_token).json == before and _media(s3) == []
    assert api.patch("/api/me/", {"avatar": form["id"]}, token=user_token).status == 200  # the same upload, later


def test_a_hung_s3_is_a_503_within_the_configured_timeouts(api, s3, user_token, monkeypatch):
    form = _send(api, user_token)
    store = S3ObjectStore(get_settings())
    config = store.client().meta.config
    timeouts = get_settings().aws  # the stage's: the client must not fall back to botocore's minute-long defaults
    assert (config.connect_timeout, config.read_timeout, config.retries["total_max_attempts"]) == (
        timeouts.connect_seconds,
        timeouts.read_seconds,
        timeouts.max_attempts,
    )
    # A server that accepts connections and never answers (mock_aws does not intercept a custom endpoint).
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{hung.getsockname()[1]}")
        quick = AwsTimeouts(connect_seconds=0.5, read_seconds=0.5, max_attempts=2)
        media = Media(DynamoUploadRepository(), S3ObjectStore(get_settings()._replace(aws=quick)))
        monkeypatch.setattr(bootstrap, "media", lambda: media)
        reply = api.patch("/api/me/", {"avatar": form["id"]}, token=user_token)
    assert reply.status == 503 and reply.headers["retry-after"] in RETRY_AFTER
    assert api.get("/api/me/", token=user_token).json["avatar"] is None


def test_a_missing_bucket_is_an_outage_not_a_client_error(api, aws, user_token):
    form = _start(api, user_token)  # signing needs no bucket; reading the file does
    reply = api.patch("/api/me/", {"avatar": form["id"]}, token=user_token)
    assert reply.status == 503
    with pytest.raises(ClientError):
        boto3.client("s3", region_name="us-east-1").head_bucket(Bucket=BUCKET)


def test_the_app_loads_no_upload_code_until_an_upload_route_needs_it():
    # A fresh interpreter, as a cold start: the header reader, the S3 adapter and the upload schema stay out.
    script = (
        "import sys, app; "
        "print(sorted(m for m in sys.modules if m.startswith(('chalicelib.services.images', "
        "'chalicelib.adapters.s3', 'chalicelib.schemas'))))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
