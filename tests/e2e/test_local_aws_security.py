"""The local S3 refuses what S3 refuses (security follow-ups, item 6): an unsigned write, a form without a valid
POST policy or breaking one, a copy whose source changed since it was checked; and it serves published images
with the media distribution's security headers. Against the real local stack, over HTTP."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from devstack.stack import LocalStack
from tests.support.images import png
from tests.support.stack import bearer, token
from tests.support.uploads import post_file

BUCKET = "sessions-local-uploads"
WEB_APP = "http://127.0.0.1:3000"
HTML = b"<!doctype html><script>fetch('/steal?' + document.cookie)</script>"


def _s3(stack: LocalStack) -> Any:
    """A client with the local stack's credentials, as the API and manage.py have them."""
    return boto3.client(
        "s3",
        endpoint_url=stack.aws_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(signature_version="s3v4"),
    )


def _absent(stack: LocalStack, key: str) -> bool:
    try:
        _s3(stack).head_object(Bucket=BUCKET, Key=key)
    except ClientError as exc:
        return exc.response["Error"]["Code"] == "404"
    return False


def _error(reply: requests.Response) -> tuple[int, str, str]:
    code = reply.text.split("<Code>")[1].split("</Code>")[0]
    message = reply.text.split("<Message>")[1].split("</Message>")[0]
    return reply.status_code, code, message.replace("&quot;", '"')


def _api_form(stack: LocalStack, access: str, size: int) -> dict:
    body = {"purpose": "avatar", "content_type": "image/png", "size": size}
    reply = requests.post(f"{stack.url}/api/uploads/", json=body, headers=bearer(access), timeout=10)
    assert reply.status_code == 201, reply.text
    return reply.json()


def test_an_unsigned_put_of_a_page_under_media_is_refused_and_nothing_is_stored(stack):
    key = "media/avatars/attack.html"
    reply = requests.put(
        f"{stack.aws_url}/{BUCKET}/{key}", data=HTML, headers={"Content-Type": "text/html"}, timeout=10
    )
    assert _error(reply) == (403, "AccessDenied", "Access Denied")
    assert _absent(stack, key)
    assert requests.get(f"{stack.aws_url}/{BUCKET}/{key}", timeout=10).status_code in (403, 404)


def test_a_cross_site_form_without_a_policy_is_refused_and_nothing_is_stored(stack):
    key = "media/events/attack.html"
    fields = {"key": (None, key), "Content-Type": (None, "text/html"), "file": ("a.html", HTML, "text/html")}
    reply = requests.post(
        f"{stack.aws_url}/{BUCKET}", files=fields, headers={"Origin": "https://evil.example"}, timeout=10
    )
    assert _error(reply) == (403, "AccessDenied", "Access Denied")
    assert "Access-Control-Allow-Origin" not in reply.headers  # and the page could not even read that
    assert _absent(stack, key)


def test_a_made_up_authorization_header_reads_no_private_upload(stack):
    access = token(stack.url, "user")
    picture = png(8, 8)
    form = _api_form(stack, access, len(picture))
    assert post_file(form, picture, "image/png").status_code == 204
    made_up = "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"
    url = f"{form['url']}/{form['fields']['key']}"
    assert requests.get(url, headers={"Authorization": made_up}, timeout=10).status_code == 403
    assert requests.get(url, timeout=10).status_code == 403  # the bucket policy: uploads are never public


@pytest.mark.parametrize(
    ("data", "content_type", "fields", "expected"),
    [
        (png(40, 40) + b"\0" * 10, "image/png", {}, (400, "EntityTooLarge")),
        (b"", "image/png", {}, (400, "EntityTooSmall")),
        (png(40, 40), "text/html", {"Content-Type": "text/html"}, (403, "AccessDenied")),
        (png(40, 40), "image/png", {"key": "media/avatars/mine.png"}, (403, "AccessDenied")),
    ],
    ids=["larger-than-declared", "empty", "other-content-type", "other-key"],
)
def test_an_api_form_breaking_its_policy_is_refused_with_s3s_answer_and_nothing_is_stored(
    stack, data, content_type, fields, expected
):
    access = token(stack.url, "user")
    form = _api_form(stack, access, len(png(40, 40)))
    changed = {**form, "fields": {**form["fields"], **fields}}
    reply = post_file(changed, data, content_type, origin=WEB_APP)
    assert _error(reply)[:2] == expected
    assert reply.headers["Access-Control-Allow-Origin"] == WEB_APP  # the page can read why
    assert _absent(stack, form["fields"]["key"]) and _absent(stack, changed["fields"]["key"])
    # The form, used as signed, still works.
    assert post_file(form, png(40, 40), "image/png", origin=WEB_APP).status_code == 204


def test_an_expired_form_is_refused(stack):
    key = "uploads/expiry/probe"
    post = _s3(stack).generate_presigned_post(
        BUCKET,
        key,
        Fields={"Content-Type": "image/png"},
        Conditions=[{"Content-Type": "image/png"}, ["content-length-range", 1, 1000]],
        ExpiresIn=1,
    )
    time.sleep(2.1)  # the expiration is written to the second
    reply = post_file(post, png(4, 4), "image/png")
    assert _error(reply) == (403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    assert _absent(stack, key)


def test_a_copy_whose_source_changed_since_its_check_is_a_412_and_the_target_stays_absent(stack):
    s3 = _s3(stack)
    # A key botocore must encode (as the gate must, to read the source moto would copy).
    source, target = "uploads/race/01 SOURCE+é%2F?.png", "media/avatars/01RACE.png"
    s3.put_object(Bucket=BUCKET, Key=source, Body=png(4, 4), ContentType="image/png")
    checked = s3.head_object(Bucket=BUCKET, Key=source)["ETag"]
    s3.put_object(Bucket=BUCKET, Key=source, Body=HTML, ContentType="image/png")  # re-posted during the check
    with pytest.raises(ClientError) as refused:
        s3.copy_object(
            Bucket=BUCKET,
            Key=target,
            CopySource={"Bucket": BUCKET, "Key": source},
            CopySourceIfMatch=checked,
            MetadataDirective="REPLACE",
            ContentType="image/png",
        )
    error = refused.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (412, "PreconditionFailed")
    assert error["Error"]["Condition"] == "x-amz-copy-source-If-Match"
    assert _absent(stack, target)
    current = s3.head_object(Bucket=BUCKET, Key=source)["ETag"]
    s3.copy_object(Bucket=BUCKET, Key=target, CopySource={"Bucket": BUCKET, "Key": source}, CopySourceIfMatch=current)
    assert s3.get_object(Bucket=BUCKET, Key=target)["Body"].read() == HTML


def test_a_published_image_is_served_never_sniffed_and_sandboxed(stack):
    access = token(stack.url, "user")
    picture = png(16, 16)
    form = _api_form(stack, access, len(picture))
    assert post_file(form, picture, "image/png", origin=WEB_APP).status_code == 204
    reply = requests.patch(f"{stack.url}/api/me/", json={"avatar": form["id"]}, headers=bearer(access), timeout=30)
    assert reply.status_code == 200, reply.text
    served = requests.get(reply.json()["avatar"], timeout=10)
    assert (served.status_code, served.content, served.headers["Content-Type"]) == (200, picture, "image/png")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_a_web_page_cannot_reset_the_local_data_through_motos_api(stack):
    reply = requests.post(f"{stack.aws_url}/moto-api/reset", headers={"Origin": "https://evil.example"}, timeout=10)
    assert reply.status_code == 403
    assert requests.get(f"{stack.url}/api/events/", timeout=10).json()["results"]  # the demo data is still there
