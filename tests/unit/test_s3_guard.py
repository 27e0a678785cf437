"""The local S3's checks (devstack/s3_guard.py) in front of a fake moto: SigV4 signatures recomputed from what
botocore sends, POST policies enforced as S3 enforces them, copies refused when their source changed, and the
media distribution's security headers on every S3 answer."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import make_server

from chalicelib.adapters.s3 import S3ObjectStore
from chalicelib.settings import load_settings
from deploy.template import _media
from devstack.files import STOP_POLL_SECONDS
from devstack.s3_guard import SECURITY_HEADERS, S3Guard, copy_refusal

BUCKET = "sessions-local-uploads"
KEY = "uploads/01USER/01UPLOAD"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 92  # 100 bytes


class FakeMoto:
    """Stands for moto: notes what reaches it and answers as S3 does when all goes well."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.seen.append(
            {
                "method": environ["REQUEST_METHOD"],
                "path": environ["PATH_INFO"],
                "content_type": environ.get("CONTENT_TYPE", ""),
                "body": body,
            }
        )
        form = environ.get("CONTENT_TYPE", "").startswith("multipart/form-data")
        status = "204 No Content" if form else "200 OK"
        start_response(status, [("Content-Type", "text/html"), ("ETag", '"abc"')])
        if environ["REQUEST_METHOD"] == "PUT" and environ.get("HTTP_X_AMZ_COPY_SOURCE"):
            return [
                b'<CopyObjectResult><ETag>"abc"</ETag><LastModified>2026-01-01T00:00:00Z</LastModified></CopyObjectResult>'
            ]
        return [b"" if status.startswith("204") else b"<html>stored</html>"]


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return datetime.now(UTC).timestamp() + self.offset


@pytest.fixture
def moto() -> FakeMoto:
    return FakeMoto()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def url(moto: FakeMoto, clock: Clock) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, S3Guard(moto, clock=clock), threaded=False, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": STOP_POLL_SECONDS}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    server.server_close()


def _s3(url: str, secret: str = "local", **config: Any) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key=secret,
        config=Config(signature_version="s3v4", retries={"total_max_attempts": 1}, **config),
    )


def _error(reply: requests.Response) -> tuple[int, str, str]:
    code = reply.text.split("<Code>")[1].split("</Code>")[0]
    message = reply.text.split("<Message>")[1].split("</Message>")[0]
    return reply.status_code, code, message.replace("&quot;", '"')


# --- signed requests ---------------------------------------------------------------------------------------


def test_the_apps_and_the_tools_signed_calls_pass_as_sent(url, moto):
    s3 = _s3(url)
    s3.put_object(Bucket=BUCKET, Key="media/a b+c~é.png", Body=PNG, ContentType="image/png", Metadata={"a_b": "c"})
    s3.copy_object(
        Bucket=BUCKET,
        Key="media/avatars/x.png",
        CopySource={"Bucket": BUCKET, "Key": KEY},
        MetadataDirective="REPLACE",
        ContentType="image/png",
        CacheControl="public, max-age=31536000, immutable",
    )
    s3.delete_object(Bucket=BUCKET, Key="media/avatars/x.png")
    s3.put_bucket_cors(
        Bucket=BUCKET, CORSConfiguration={"CORSRules": [{"AllowedMethods": ["POST"], "AllowedOrigins": ["*"]}]}
    )
    s3.list_objects_v2(Bucket=BUCKET, Prefix="a b/", StartAfter="x=y&z")
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "a"}]})
    presigned = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "k k"}, ExpiresIn=60)
    assert requests.put(presigned, data=b"x", timeout=10).status_code == 200
    assert [(r["method"], r["path"]) for r in moto.seen] == [
        ("PUT", f"/{BUCKET}/media/a b+c~é.png".encode().decode("latin-1")),
        ("PUT", f"/{BUCKET}/media/avatars/x.png"),
        ("DELETE", f"/{BUCKET}/media/avatars/x.png"),
        ("PUT", f"/{BUCKET}"),
        ("GET", f"/{BUCKET}"),
        ("POST", f"/{BUCKET}"),
        ("PUT", f"/{BUCKET}/k k"),
    ]
    assert moto.seen[0]["body"] == PNG


def test_an_unsigned_put_delete_or_post_is_refused_and_never_reaches_moto(url, moto):
    html = b"<html><script>alert(document.domain)</script></html>"
    put = requests.put(f"{url}/{BUCKET}/media/x.html", data=html, headers={"Content-Type": "text/html"}, timeout=10)
    delete = requests.delete(f"{url}/{BUCKET}/media/x.png", timeout=10)
    post = requests.post(f"{url}/{BUCKET}?delete", data=b"<Delete/>", timeout=10)
    for reply in (put, delete, post):
        assert _error(reply) == (403, "AccessDenied", "Access Denied")
        assert reply.headers["Content-Type"] == "application/xml"
    assert moto.seen == []


def test_a_made_up_or_wrongly_signed_authorization_is_refused_even_for_a_read(url, moto):
    made_up = "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00"
    reply = requests.get(f"{url}/{BUCKET}/{KEY}", headers={"Authorization": made_up}, timeout=10)
    assert reply.status_code == 403
    with pytest.raises(ClientError) as wrong_secret:
        _s3(url, secret="guessed").get_object(Bucket=BUCKET, Key=KEY)
    assert wrong_secret.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    other = boto3.client(
        "s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="x"
    )
    with pytest.raises(ClientError) as unknown_key:
        other.delete_object(Bucket=BUCKET, Key=KEY)
    assert unknown_key.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    v2 = requests.get(f"{url}/{BUCKET}/{KEY}", headers={"Authorization": "AWS local:c2lnbmF0dXJl"}, timeout=10)
    assert _error(v2)[:2] == (400, "InvalidRequest")
    assert moto.seen == []


def _captured(url: str, call: str, **params: Any) -> Any:
    """The request botocore would send (signed), not sent."""
    s3 = _s3(url)
    sent: list[Any] = []

    def capture(request: Any, **_: Any) -> Any:
        sent.append(request)
        raise RuntimeError("captured")

    s3.meta.events.register("before-send.s3.*", capture)
    with pytest.raises(RuntimeError):
        getattr(s3, call)(**params)
    return sent[0]


def test_a_signed_request_whose_body_or_headers_were_changed_is_refused(url, moto):
    signed = _captured(url, "put_object", Bucket=BUCKET, Key="media/a.png", Body=PNG, ContentType="image/png")
    headers = dict(signed.headers.items())
    other_body = requests.put(signed.url, data=b"<html>", headers=headers, timeout=10)
    assert _error(other_body)[:2] == (400, "XAmzContentSHA256Mismatch")
    other_type = requests.put(signed.url, data=PNG, headers={**headers, "Content-Type": "text/html"}, timeout=10)
    assert _error(other_type)[:2] == (403, "SignatureDoesNotMatch")
    added = requests.put(signed.url, data=PNG, headers={**headers, "x-amz-copy-source": f"{BUCKET}/{KEY}"}, timeout=10)
    assert _error(added) == (403, "AccessDenied", "There were headers present in the request which were not signed")
    assert "<HeadersNotSigned>x-amz-copy-source</HeadersNotSigned>" in added.text
    as_sent = requests.put(signed.url, data=PNG, headers=headers, timeout=10)
    assert as_sent.status_code == 200
    assert [r["body"] for r in moto.seen] == [PNG]


def test_a_signature_from_too_long_ago_and_an_expired_presigned_url_are_refused(url, moto, clock):
    s3 = _s3(url)
    presigned = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=60)
    clock.offset = 16 * 60
    with pytest.raises(ClientError) as skewed:
        s3.head_bucket(Bucket=BUCKET)
    assert skewed.value.response["Error"]["Code"] in ("RequestTimeTooSkewed", "403")
    assert _error(requests.get(presigned, timeout=10)) == (403, "AccessDenied", "Request has expired")
    assert moto.seen == []


def test_plain_reads_pass_and_every_s3_answer_carries_the_media_distributions_security_headers(url, moto):
    served = requests.get(f"{url}/{BUCKET}/media/x.html", timeout=10)
    assert served.status_code == 200 and served.content == b"<html>stored</html>"
    refused = requests.put(f"{url}/{BUCKET}/media/x.html", data=b"x", timeout=10)
    for reply in (served, refused):
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_the_security_headers_are_those_of_the_deployed_media_distribution():
    config = _media("dev")["MediaResponseHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    security = config["SecurityHeadersConfig"]
    assert security["ContentTypeOptions"]["Override"] is True
    assert dict(SECURITY_HEADERS) == {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": security["ContentSecurityPolicy"]["ContentSecurityPolicy"],
    }


def test_other_services_pass_untouched_and_motos_api_takes_no_change_from_a_web_page(url, moto):
    dynamodb = {"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0"}
    assert requests.post(url, data=b"{}", headers=dynamodb, timeout=10).status_code == 200
    page = requests.post(f"{url}/moto-api/reset", headers={"Origin": "https://evil.example"}, timeout=10)
    assert page.status_code == 403
    assert requests.post(f"{url}/moto-api/reset", timeout=10).status_code == 200  # curl, a developer's own
    assert [r["path"] for r in moto.seen] == ["/", "/moto-api/reset"]


# --- POST policies -----------------------------------------------------------------------------------------


def _form(
    url: str, monkeypatch: pytest.MonkeyPatch, *, size: int = len(PNG), key: str = KEY, seconds: int = 600
) -> dict:
    """A form as the API makes it: chalicelib's S3ObjectStore, botocore's generate_presigned_post."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    settings = load_settings({"STAGE": "local", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": url})
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", url)
    post = S3ObjectStore(settings).presigned_post(
        key, content_type="image/png", max_bytes=size, expires_seconds=seconds
    )
    return {"url": post.url, "fields": dict(post.fields)}


def _post(form: dict, data: bytes = PNG, content_type: str = "image/png", *, after: dict | None = None, **fields: str):
    """The form posted as a browser does: its fields (changed as given), the file last, then `after`."""
    parts = [(name, (None, value)) for name, value in {**form["fields"], **fields}.items()]
    parts.append(("file", ("me.png", data, content_type)))
    parts += [(name, (None, value)) for name, value in (after or {}).items()]
    return requests.post(form["url"], files=parts, timeout=10)


def test_the_apis_form_is_accepted_and_moto_gets_exactly_what_was_checked(url, moto, monkeypatch):
    form = _form(url, monkeypatch)
    reply = _post(form, after={"Content-Type": "text/html", "acl": "public-read", "x-amz-meta-late": "1"})
    assert reply.status_code == 204
    [stored] = moto.seen
    assert (stored["method"], stored["path"]) == ("POST", f"/{BUCKET}")
    body = stored["body"].decode("latin-1")
    assert "text/html" not in body and "public-read" not in body and "x-amz-meta-late" not in body  # S3 ignores them
    assert f"\r\n\r\n{KEY}\r\n" in body and PNG.decode("latin-1") in body


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"data": PNG + b"x"}, (400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")),
        ({"data": b""}, (400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")),
        (
            {"fields": {"Content-Type": "text/html"}},
            (
                403,
                "AccessDenied",
                'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/png"]',
            ),
        ),
        (
            {"fields": {"key": "media/x.html"}},
            (403, "AccessDenied", f'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "{KEY}"]'),
        ),
        (
            {"fields": {"success_action_status": "201"}},
            (403, "AccessDenied", "Invalid according to Policy: Extra input fields: success_action_status"),
        ),
        ({"fields": {"x-amz-signature": "0" * 64}}, (403, "SignatureDoesNotMatch", None)),
        (
            {"fields": {"x-amz-credential": "AKIAOTHER/20260101/us-east-1/s3/aws4_request"}},
            (403, "InvalidAccessKeyId", None),
        ),
        ({"fields": {"policy": None}}, (400, "InvalidArgument", None)),
    ],
)
def test_a_form_s3_would_refuse_is_refused_with_s3s_answer_and_nothing_is_stored(
    url, moto, monkeypatch, change, expected
):
    form = _form(url, monkeypatch)
    fields = {k: v for k, v in change.get("fields", {}).items()}
    if fields.get("policy", "") is None:
        del form["fields"]["policy"]
        fields.pop("policy")
    reply = _post(form, change.get("data", PNG), **fields)
    status, code, message = _error(reply)
    assert (status, code) == expected[:2]
    if expected[2] is not None:
        assert message == expected[2]
    assert moto.seen == []


def test_a_policy_rewritten_to_allow_more_no_longer_matches_its_signature(url, moto, monkeypatch):
    form = _form(url, monkeypatch)
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    policy["conditions"] = [
        c for c in policy["conditions"] if not (isinstance(c, list) and c[0] == "content-length-range")
    ]
    forged = base64.b64encode(json.dumps(policy).encode()).decode()
    assert _error(_post(form, PNG * 10, policy=forged))[:2] == (403, "SignatureDoesNotMatch")
    assert moto.seen == []


def test_an_expired_form_is_refused(url, moto, monkeypatch, clock):
    form = _form(url, monkeypatch, seconds=60)
    clock.offset = 61
    assert _error(_post(form)) == (403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    assert moto.seen == []


def test_a_page_of_any_site_posting_without_a_policy_is_refused(url, moto):
    files = {
        "key": (None, "media/x.html"),
        "Content-Type": (None, "text/html"),
        "file": ("x.html", b"<script>", "text/html"),
    }
    reply = requests.post(f"{url}/{BUCKET}", files=files, headers={"Origin": "https://evil.example"}, timeout=10)
    assert _error(reply) == (403, "AccessDenied", "Access Denied")
    assert moto.seen == []


def test_a_field_given_twice_or_a_form_without_its_file_is_refused(url, moto, monkeypatch):
    form = _form(url, monkeypatch)
    parts = [(name, (None, value)) for name, value in form["fields"].items()]
    twice = [*parts, ("content-type", (None, "text/html")), ("file", ("a.png", PNG, "image/png"))]
    assert _error(requests.post(form["url"], files=twice, timeout=10))[:2] == (400, "InvalidArgument")
    no_file = [*parts, ("x-ignore-note", (None, "n"))]
    assert _error(requests.post(form["url"], files=no_file, timeout=10)) == (
        400,
        "InvalidArgument",
        "POST requires exactly one file upload per request.",
    )
    assert moto.seen == []


def test_x_ignore_fields_need_no_condition(url, moto, monkeypatch):
    form = _form(url, monkeypatch)
    assert _post(form, **{"x-ignore-note": "anything"}).status_code == 204


# --- CopySourceIf* -----------------------------------------------------------------------------------------


def _copy(**headers: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "PUT",
        "PATH_INFO": f"/{BUCKET}/media/avatars/x.png",
        "HTTP_X_AMZ_COPY_SOURCE": f"{BUCKET}/uploads/a%20b",
        **{f"HTTP_X_AMZ_COPY_SOURCE_{name.upper()}": value for name, value in headers.items()},
    }


MODIFIED = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


def _head(path: str, query: str) -> tuple[str, datetime] | None:
    assert (path, query) == (f"/{BUCKET}/uploads/a%20b", "")
    return '"current"', MODIFIED


def _http(when: datetime) -> str:
    return when.strftime("%a, %d %b %Y %H:%M:%S GMT")


@pytest.mark.parametrize(
    ("headers", "failed"),
    [
        ({"if_match": '"stale"'}, "x-amz-copy-source-If-Match"),
        ({"if_match": '"current"'}, None),
        ({"if_match": "current"}, None),
        ({"if_unmodified_since": _http(MODIFIED - timedelta(seconds=1))}, "x-amz-copy-source-If-Unmodified-Since"),
        # S3: a matching If-Match wins over a failing If-Unmodified-Since.
        ({"if_match": '"current"', "if_unmodified_since": _http(MODIFIED - timedelta(days=1))}, None),
        ({"if_none_match": '"current"'}, "x-amz-copy-source-If-None-Match"),
        ({"if_modified_since": _http(MODIFIED)}, "x-amz-copy-source-If-Modified-Since"),
        ({}, None),
    ],
)
def test_a_copy_whose_source_conditions_fail_is_a_412(headers, failed):
    refusal = copy_refusal(_copy(**headers), _head)
    if failed is None:
        assert refusal is None
    else:
        assert refusal is not None and (refusal.status, refusal.code) == (
            "412 Precondition Failed",
            "PreconditionFailed",
        )
        assert refusal.extra == {"Condition": failed}


def test_a_copy_of_a_missing_source_is_left_to_moto():
    assert copy_refusal(_copy(if_match='"x"'), lambda path, query: None) is None


def test_fields_before_the_file_too_large_to_be_a_form_are_refused(url, moto, monkeypatch):
    form = _form(url, monkeypatch)
    reply = _post(form, **{"x-ignore-padding": "p" * (2 * 1024 * 1024)})
    assert _error(reply)[:2] == (400, "MaxPostPreDataLengthExceeded")
    assert moto.seen == []
