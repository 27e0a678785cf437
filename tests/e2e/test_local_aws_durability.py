"""The local AWS keeps every write it acknowledged, even when killed at once (security follow-ups, item 6):
acknowledged requests are journaled to disk before their answer, and replayed after the last snapshot on start.

The first test kills the real stack's local AWS right after 201s; the others run the local AWS in this process
to stop it at chosen points (between the two files of a snapshot, in the middle of a record)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from devstack.aws import LocalAws
from devstack.stack import LocalStack, free_port
from tests.support.images import png
from tests.support.stack import bearer, sign_up, token
from tests.support.uploads import post_file

PASSWORD = "kept-through-a-kill-9"


def test_writes_answered_just_before_the_local_aws_is_killed_survive_it(tmp_path):
    ports = {"port": free_port(), "aws_port": free_port()}  # the same ports again: media URLs name the AWS port
    first = LocalStack(**ports, data_dir=tmp_path, extra_env={"BCRYPT_ROUNDS": "4"}, quiet=True)
    first.start()
    try:
        access = sign_up(first.url, "durable", PASSWORD)  # 201
        creator = token(first.url, "creator_user")
        events = []
        for n in range(3):
            body = {"title": f"Kept {n}", "description": "answered 201, then kill -9"}
            reply = requests.post(f"{first.url}/api/events/", json=body, headers=bearer(creator), timeout=10)
            assert reply.status_code == 201
            events.append(reply.json())
        picture = png(24, 24)
        started = {"purpose": "avatar", "content_type": "image/png", "size": len(picture)}
        form = requests.post(f"{first.url}/api/uploads/", json=started, headers=bearer(access), timeout=10).json()
        assert post_file(form, picture, "image/png").status_code == 204
        claimed = requests.patch(
            f"{first.url}/api/me/", json={"avatar": form["id"]}, headers=bearer(access), timeout=30
        )
        assert claimed.status_code == 200  # an S3 copy and a DynamoDB transaction, answered
        assert first.aws is not None
        first.aws.send_signal(signal.SIGKILL)  # no final snapshot, and (before the journal) none for 2 s
        first.aws.wait()
    finally:
        first.stop()
    second = LocalStack(**ports, data_dir=tmp_path, extra_env={"BCRYPT_ROUNDS": "4"}, quiet=True)
    second.start()
    try:
        for event in events:
            assert requests.get(f"{second.url}/api/events/{event['id']}/", timeout=10).json() == event
        assert requests.get(claimed.json()["avatar"], timeout=10).content == picture
        again = token(second.url, "durable", PASSWORD)
        me = requests.get(f"{second.url}/api/me/", headers=bearer(again), timeout=10).json()
        assert me["avatar"] == claimed.json()["avatar"]
    finally:
        second.stop()


# --- the local AWS in this process -------------------------------------------------------------------------

TABLE = "counters"
BUCKET = "kept"


@pytest.fixture
def local_aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Start a local AWS on `tmp_path` (again after `crash`), as `python -m devstack.aws` does."""
    monkeypatch.setenv("MOTO_DISABLE_GLOBAL_CORS", "true")  # LocalAws sets it; restored after the test
    running: list[LocalAws] = []

    def start() -> LocalAws:
        aws = LocalAws(free_port(), tmp_path)
        aws.open()
        running.append(aws)
        return aws

    yield start
    for aws in running:
        if aws.journal.fd is not None:
            aws.close()
            os.close(aws.lock_fd)
    _forget_everything()


def _forget_everything() -> None:
    # moto's state lives in this process: a new "process" starts from nothing, as after a real kill.
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


def crash(aws: LocalAws) -> None:
    """What kill -9 leaves: the files as they are, no final snapshot, moto's memory gone."""
    aws.public.shutdown()
    aws.private.shutdown()
    aws.public.server_close()
    aws.private.server_close()
    assert aws.journal.fd is not None
    os.close(aws.journal.fd)
    aws.journal.fd = None
    os.close(aws.lock_fd)  # the kernel releases the folder's lock with the process
    _forget_everything()


def _client(aws: LocalAws, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=f"http://127.0.0.1:{aws.public.port}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def _count(aws: LocalAws) -> int:
    item = _client(aws, "dynamodb").get_item(TableName=TABLE, Key={"id": {"S": "hits"}}, ConsistentRead=True)
    return int(item["Item"]["n"]["N"])


def _hit(aws: LocalAws) -> None:
    # Not idempotent: applied twice on replay, it would count twice.
    _client(aws, "dynamodb").update_item(
        TableName=TABLE,
        Key={"id": {"S": "hits"}},
        UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )


def _prepare(aws: LocalAws) -> None:
    dynamodb = _client(aws, "dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    _client(aws, "s3").create_bucket(Bucket=BUCKET)


def test_a_crash_between_the_two_files_of_a_snapshot_neither_loses_nor_repeats_a_write(local_aws, monkeypatch):
    aws = local_aws()
    _prepare(aws)
    for _ in range(3):
        _hit(aws)
    _client(aws, "s3").put_object(Bucket=BUCKET, Key="a", Body=b"first")

    def crash_before_s3_json(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt  # as if killed once dynamodb.json is written

    monkeypatch.setattr(aws.buckets, "write", crash_before_s3_json)
    with pytest.raises(KeyboardInterrupt):
        aws.snapshot()  # dynamodb.json now holds the 3 hits; s3.json does not hold "a"
    for _ in range(2):
        _hit(aws)
    _client(aws, "s3").put_object(Bucket=BUCKET, Key="b", Body=b"second")
    crash(aws)

    again = local_aws()
    assert _count(again) == 5
    s3 = _client(again, "s3")
    assert [s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() for k in ("a", "b")] == [b"first", b"second"]
    _hit(again)
    again.snapshot()  # folds the journal in: one segment is left, empty
    assert len(again.journal.segments()) == 1
    crash(again)
    assert _count(local_aws()) == 6


def test_a_record_cut_short_by_the_crash_is_ignored_and_the_rest_kept(local_aws, capfd):
    aws = local_aws()
    _prepare(aws)
    _hit(aws)
    segment = aws.journal.path
    crash(aws)
    assert segment is not None
    with segment.open("ab") as journal:
        journal.write(b"LAJ1\x00\x00\x01\x00")  # the start of a record whose answer was never sent
    again = local_aws()
    assert _count(again) == 1
    assert f"ignoring 8 bytes at the end of {segment}" in capfd.readouterr().err
    _hit(again)  # appended to a new segment, not behind the torn record
    crash(again)
    assert _count(local_aws()) == 2


def test_a_reset_through_motos_api_is_kept_too(local_aws):
    aws = local_aws()
    _prepare(aws)
    _hit(aws)
    aws.snapshot()
    assert requests.post(f"http://127.0.0.1:{aws.public.port}/moto-api/reset", timeout=10).status_code == 200
    crash(aws)
    again = local_aws()
    assert _client(again, "dynamodb").list_tables()["TableNames"] == []
    assert _client(again, "s3").list_buckets()["Buckets"] == []


def test_a_completed_multipart_upload_is_kept_though_its_parts_were_sent_before_a_snapshot(local_aws):
    aws = local_aws()
    _prepare(aws)
    s3 = _client(aws, "s3")
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="big")["UploadId"]
    parts = [b"a" * 5 * 1024 * 1024, b"b" * 10]  # S3's smallest part, then the last
    etags = [
        s3.upload_part(Bucket=BUCKET, Key="big", UploadId=upload, PartNumber=n, Body=body)["ETag"]
        for n, body in enumerate(parts, start=1)
    ]
    aws.snapshot()  # snapshots keep objects, not uploads in progress: the journal before it is gone
    s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key="big",
        UploadId=upload,
        MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": n} for n, etag in enumerate(etags, start=1)]},
    )
    crash(aws)
    again = local_aws()
    assert _client(again, "s3").get_object(Bucket=BUCKET, Key="big")["Body"].read() == b"".join(parts)


SEARCH = "search"
SEARCH_INDEXES = [
    {
        "IndexName": name,
        "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}, {"AttributeName": sort, "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "ALL"},
    }
    for name, sort in (("by-start", "s"), ("by-created", "c"))
]


def _index_order(aws: LocalAws, index: str) -> list[str]:
    answer = _client(aws, "dynamodb").query(
        TableName=SEARCH,
        IndexName=index,
        KeyConditionExpression="k = :k",
        ExpressionAttributeValues={":k": {"S": "all"}},
    )
    return [item["id"]["S"] for item in answer["Items"]]


def test_a_table_with_a_range_key_and_local_indexes_survives_a_snapshot_and_the_journal(local_aws):
    # The search table's shape (deploy/template.py): its local indexes can only be made with the table, so a
    # restore that dropped them would leave a table the app's queries fail on.
    aws = local_aws()
    dynamodb = _client(aws, "dynamodb")
    dynamodb.create_table(
        TableName=SEARCH,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}, {"AttributeName": "id", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("k", "id", "s", "c")],
        LocalSecondaryIndexes=SEARCH_INDEXES,
        BillingMode="PAY_PER_REQUEST",
    )

    def put(event: str, starts: str, created: str) -> dict[str, Any]:
        item = {"k": {"S": "all"}, "id": {"S": event}, "s": {"S": starts}, "c": {"S": created}}
        return {"Put": {"TableName": SEARCH, "Item": item}}

    dynamodb.transact_write_items(TransactItems=[put("a", "2030-03", "2024-01"), put("b", "2030-01", "2024-02")])
    aws.snapshot()
    dynamodb.transact_write_items(TransactItems=[put("c", "2030-02", "2024-03")])  # in the journal only
    crash(aws)

    again = local_aws()
    table = _client(again, "dynamodb").describe_table(TableName=SEARCH)["Table"]
    assert [{k: i[k] for k in ("IndexName", "KeySchema", "Projection")} for i in table["LocalSecondaryIndexes"]] == (
        SEARCH_INDEXES
    )
    assert table["KeySchema"] == [
        {"AttributeName": "k", "KeyType": "HASH"},
        {"AttributeName": "id", "KeyType": "RANGE"},
    ]
    assert (_index_order(again, "by-start"), _index_order(again, "by-created")) == (["b", "c", "a"], ["a", "b", "c"])
    again.snapshot()  # now the snapshot alone holds the table, the journal nothing
    crash(again)
    last = local_aws()
    assert (_index_order(last, "by-start"), _index_order(last, "by-created")) == (["b", "c", "a"], ["a", "b", "c"])
