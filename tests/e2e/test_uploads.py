"""Uploads over HTTP on the local stack, as a browser on the web app's origin does them: the preflight and the
POST straight to the local S3 (CORS from the bucket's rules), the edit that names the upload, the image fetched
back from the answered URL; the refusals; and the published images surviving a restart at the same URL."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
import requests

from devstack.stack import LocalStack, free_port
from tests.support.images import WEBP_LOSSY, app_segment, jpeg, png
from tests.support.stack import bearer, token
from tests.support.uploads import conditions, post_file

WEB_APP = "http://127.0.0.1:3000"
ELSEWHERE = "https://evil.example"


def _form(base: str, access: str, content_type: str, size: int, **extra: str) -> dict:
    body = {"purpose": "avatar", "content_type": content_type, "size": size, **extra}
    reply = requests.post(f"{base}/api/uploads/", json=body, headers={**bearer(access), "Origin": WEB_APP}, timeout=10)
    assert reply.status_code == 201, reply.text
    assert reply.headers["Access-Control-Allow-Origin"] == WEB_APP
    return reply.json()


def _upload(base: str, access: str, data: bytes, content_type: str, size: int | None = None, **extra: str) -> dict:
    """What the web app does: ask for a form, preflight (a page may send one), post the file from its origin."""
    form = _form(base, access, content_type, size or len(data), **extra)
    preflight = requests.options(
        form["url"], headers={"Origin": WEB_APP, "Access-Control-Request-Method": "POST"}, timeout=10
    )
    assert preflight.status_code == 200
    assert (preflight.headers["Access-Control-Allow-Origin"], preflight.headers["Access-Control-Allow-Methods"]) == (
        WEB_APP,
        "POST",
    )
    posted = post_file(form, data, content_type, origin=WEB_APP)
    assert (posted.status_code, posted.headers.get("Access-Control-Allow-Origin")) == (204, WEB_APP)
    return form


def _claim(base: str, access: str, path: str, field: str, upload_id: str | None) -> requests.Response:
    return requests.patch(f"{base}{path}", json={field: upload_id}, headers=bearer(access), timeout=30)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (png(300, 200), "image/png"),
        (jpeg(8, 8, before_frame=app_segment(20_000)), "image/jpeg"),
        (WEBP_LOSSY, "image/webp"),
    ],
)
def test_an_avatar_posted_to_the_local_s3_is_checked_published_and_served_at_the_answered_url(base, data, content_type):
    access = token(base, "user")
    form = _upload(base, access, data, content_type)
    reply = _claim(base, access, "/api/me/", "avatar", form["id"])
    assert reply.status_code == 200, reply.text
    avatar = reply.json()["avatar"]
    assert requests.get(f"{base}/api/me/", headers=bearer(access), timeout=10).json()["avatar"] == avatar
    served = requests.get(avatar, timeout=10)  # a plain GET, as an <img> makes it
    assert (served.status_code, served.content, served.headers["Content-Type"]) == (200, data, content_type)
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # The file as it was posted is never served: only the checked copy is.
    assert requests.get(f"{form['url']}/{form['fields']['key']}", timeout=10).status_code == 403


def test_an_event_image_is_served_to_anyone_from_the_events_answer(base):
    creator = token(base, "creator_user")
    event = requests.post(f"{base}/api/events/", json={"title": "T", "description": "D"}, headers=bearer(creator))
    event_id = event.json()["id"]
    picture = png(1600, 900)
    form = _upload(base, creator, picture, "image/png", purpose="event_image", event=event_id)
    reply = _claim(base, creator, f"/api/events/{event_id}/", "image", form["id"])
    assert reply.status_code == 200, reply.text
    public = requests.get(f"{base}/api/events/{event_id}/", timeout=10).json()
    assert public["image"] == reply.json()["image"]
    assert requests.get(public["image"], timeout=10).content == picture


def test_the_form_carries_the_policy_s3_enforces(base):
    access = token(base, "user")
    form = _form(base, access, "image/png", 4321)
    assert [c for c in conditions(form) if isinstance(c, list) and c and c[0] in ("content-length-range",)] == [
        ["content-length-range", 1, 4321]
    ]
    assert [("Content-Type", "image/png")] in conditions(form)
    assert [("key", form["fields"]["key"])] in conditions(form)
    me = requests.get(f"{base}/api/me/", headers=bearer(access), timeout=10).json()
    assert form["fields"]["key"] == f"uploads/{me['id']}/{form['id']}"


def test_a_page_from_another_origin_is_refused_by_the_preflight_and_cannot_read_the_answer(base):
    access = token(base, "user")
    form = _form(base, access, "image/png", 100)
    preflight = requests.options(
        form["url"], headers={"Origin": ELSEWHERE, "Access-Control-Request-Method": "POST"}, timeout=10
    )
    assert preflight.status_code == 403 and "Access-Control-Allow-Origin" not in preflight.headers
    asked_put = requests.options(
        form["url"], headers={"Origin": WEB_APP, "Access-Control-Request-Method": "PUT"}, timeout=10
    )
    assert asked_put.status_code == 403
    posted = post_file(form, png(2, 2), "image/png", origin=ELSEWHERE)
    assert "Access-Control-Allow-Origin" not in posted.headers


def test_a_text_file_a_larger_file_and_someone_elses_upload_are_refused_and_change_nothing(base):
    access, other = token(base, "user"), token(base, "admin")
    before = requests.get(f"{base}/api/me/", headers=bearer(access), timeout=10).json()
    picture = png(40, 40)
    size = len(picture)
    text = _upload(base, access, b"just some text, not a picture at all\n", "image/png")
    # The local S3, as S3, refuses a form whose file is larger than its policy allows; the API's own check of
    # the size is reached by writing the file with the stack's credentials instead.
    larger = _form(base, access, "image/png", size - 10)
    refused = post_file(larger, picture, "image/png", origin=WEB_APP)
    assert refused.status_code == 400 and "<Code>EntityTooLarge</Code>" in refused.text
    bucket_url, bucket = larger["url"].rsplit("/", 1)
    s3 = boto3.client(
        "s3", endpoint_url=bucket_url, region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local"
    )
    s3.put_object(Bucket=bucket, Key=larger["fields"]["key"], Body=picture, ContentType="image/png")
    theirs = _upload(base, other, picture, "image/png")
    refusals = {
        text["id"]: "The file is not a PNG image.",
        larger["id"]: f"The uploaded file is larger than declared ({size} bytes, {size - 10} declared).",
        theirs["id"]: "Unknown upload.",
    }
    for upload_id, message in refusals.items():
        reply = _claim(base, access, "/api/me/", "avatar", upload_id)
        assert (reply.status_code, reply.json()) == (400, {"avatar": [message]})
    after = requests.get(f"{base}/api/me/", headers=bearer(access), timeout=10).json()
    assert after == before


def test_published_images_stay_at_the_same_url_across_a_restart(tmp_path: Path):
    ports = {"port": free_port(), "aws_port": free_port()}
    env = {"BCRYPT_ROUNDS": "4"}
    first = LocalStack(**ports, data_dir=tmp_path, extra_env=env, quiet=True)
    first.start()
    try:
        access = token(first.url, "user")
        picture = png(64, 64)
        form = _upload(first.url, access, picture, "image/png")
        avatar = _claim(first.url, access, "/api/me/", "avatar", form["id"]).json()["avatar"]
    finally:
        first.stop()
    second = LocalStack(**ports, data_dir=tmp_path, extra_env=env, quiet=True)
    second.start()
    try:
        me = requests.get(f"{second.url}/api/me/", headers=bearer(token(second.url, "user")), timeout=10).json()
        assert me["avatar"] == avatar
        served = requests.get(avatar, timeout=10)
        assert (served.status_code, served.content) == (200, picture)
    finally:
        second.stop()
