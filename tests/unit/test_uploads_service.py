"""Uploads over fakes: who may start one, what the file must be for an edit to use it, that nothing changes when
it is refused, that an upload is used once, and that replaced images are deleted."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.domain.common import utcnow
from chalicelib.domain.enums import EventStatus, Role, UploadPurpose
from chalicelib.errors import Conflict, NotFound, PermissionDenied, ServiceUnavailable, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.ports.uploads import Claim
from chalicelib.services import accounts, events, uploads
from chalicelib.services.uploads import HEADER_BYTES, MEDIA_CACHE_CONTROL, Media
from tests.support.factories import creator, principal
from tests.support.fakes import FakeEvents, FakeObjectStore, FakeUploads, FakeUsers, StoredObject
from tests.support.images import WEBP_LOSSY, app_segment, jpeg, png, png_header

GOOD = png(64, 48)


@pytest.fixture
def media() -> Media:
    return Media(FakeUploads(), FakeObjectStore())


@pytest.fixture
def users(media):
    return FakeUsers(uploads=media.uploads)


@pytest.fixture
def alice(users):
    return accounts.create_user(users, username="alice", email="a@example.com", password="x", rounds=4)


def _who(user, role=Role.USER):
    return principal(role, user_id=user.id, username=user.username)


def _uploaded(media, owner, data, content_type="image/png", size=None, purpose=UploadPurpose.AVATAR, event_id=None):
    """Start an upload and leave `data` where the form would have put it."""
    started = uploads.start(media, owner, purpose, content_type, size or max(len(data), 1), event_id)
    media.store.put(started.upload.key, data, content_type)
    return started.upload


def _avatar(users, media, user, upload_id):
    return accounts.update_profile(users, user.id, {"avatar": upload_id}, media=media)


def _refused(call, field="avatar"):
    with pytest.raises(ValidationFailed) as caught:
        call()
    assert list(caught.value.errors) == [field]
    return caught.value.errors[field]


# Starting an upload.


def test_an_upload_is_one_key_under_the_callers_prefix_for_ten_minutes_and_usable_for_a_day(media, alice):
    before = int(time.time())
    started = uploads.start(media, _who(alice), UploadPurpose.AVATAR, "image/webp", 1234)
    upload = started.upload
    assert upload.key == f"uploads/{alice.id}/{upload.id}"
    assert media.store.forms == [
        {"key": upload.key, "content_type": "image/webp", "max_bytes": 1234, "expires_seconds": 600}
    ]
    assert started.expires_at == upload.created_at.replace(microsecond=0) + timedelta(seconds=600)
    assert before + 86400 <= upload.expires_at <= int(time.time()) + 86400
    assert media.uploads.get(upload.id) == upload
    assert (upload.owner, upload.purpose, upload.content_type, upload.size, upload.claimed) == (
        alice.id,
        UploadPurpose.AVATAR,
        "image/webp",
        1234,
        False,
    )


def test_an_event_image_names_its_event_and_an_avatar_none(media, alice):
    with pytest.raises(ValidationFailed) as caught:
        uploads.start(media, _who(alice), UploadPurpose.AVATAR, "image/png", 10, new_id())
    assert caught.value.errors == {"event": ["Only an event image belongs to an event."]}
    with pytest.raises(ValidationFailed) as caught:
        events.start_image_upload(FakeEvents(), media, creator(), None, "image/png", 10)
    assert caught.value.errors == {"event": ["This field is required."]}
    assert media.store.forms == [] and media.uploads.by_id == {}


def test_only_whoever_may_change_the_event_may_upload_its_image(media):
    repo, owner = FakeEvents(uploads=media.uploads), creator()
    event = events.create_event(repo, owner, {"title": "T", "description": "D"})
    draft = events.create_event(repo, owner, {"title": "T", "description": "D", "status": "draft"})
    with pytest.raises(PermissionDenied):
        events.start_image_upload(repo, media, creator(), event.id, "image/png", 10)
    for unseen in (draft.id, new_id(), "not-an-id"):
        with pytest.raises(NotFound):
            events.start_image_upload(repo, media, creator(), unseen, "image/png", 10)
    assert media.uploads.by_id == {}
    staff = events.start_image_upload(repo, media, principal(staff=True), event.id, "image/png", 10)
    own = events.start_image_upload(repo, media, owner, draft.id, "image/jpeg", 10)
    assert (staff.upload.event_id, own.upload.event_id) == (event.id, draft.id)
    events.update_event(repo, owner, event.id, {"status": "cancelled"}, media=media)
    with pytest.raises(Conflict) as caught:
        events.start_image_upload(repo, media, owner, event.id, "image/png", 10)
    assert caught.value.code == "event_cancelled"


# Using an upload: the good case.


def test_a_good_upload_is_published_under_an_immutable_key_and_used_up(users, media, alice):
    upload = _uploaded(media, _who(alice), GOOD)
    updated = _avatar(users, media, alice, upload.id)
    assert (
        updated.avatar is not None and updated.avatar.startswith("media/avatars/") and updated.avatar.endswith(".png")
    )
    assert users.get(alice.id).avatar == updated.avatar
    assert media.store.objects[updated.avatar] == StoredObject(GOOD, "image/png", MEDIA_CACHE_CONTROL)
    assert media.uploads.get(upload.id).claimed
    assert media.store.reads == [(upload.key, HEADER_BYTES)]  # one ranged read, never the whole file


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (jpeg(640, 480, before_frame=app_segment(30_000)), "image/jpeg"),
        (WEBP_LOSSY, "image/webp"),
        (png(4096, 4096), "image/png"),
    ],
)
def test_every_accepted_type_up_to_the_largest_size_is_published(users, media, alice, data, content_type):
    upload = _uploaded(media, _who(alice), data, content_type)
    key = _avatar(users, media, alice, upload.id).avatar
    extension = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}[content_type]
    assert key.endswith(f".{extension}") and media.store.objects[key].content_type == content_type


# Using an upload: refusals, and nothing changed by them.


def _unchanged(users, media, alice, upload=None):
    assert users.get(alice.id) == alice
    assert media.store.keys("media/") == []
    if upload is not None:
        assert not media.uploads.get(upload.id).claimed


def test_someone_elses_upload_is_as_unknown_as_one_that_never_was(users, media, alice):
    bob = accounts.create_user(users, username="bob", email="b@example.com", password="x", rounds=4)
    theirs = _uploaded(media, _who(bob), GOOD)
    for upload_id in (theirs.id, new_id(), "not-an-id"):
        assert _refused(lambda: _avatar(users, media, alice, upload_id)) == ["Unknown upload."]  # noqa: B023
    _unchanged(users, media, alice, theirs)
    assert media.store.reads == []


@pytest.mark.parametrize(
    ("data", "content_type", "size", "message"),
    [
        (b"hello, I am a text file\n", "image/png", None, "The file is not a PNG image."),
        (jpeg(8, 8), "image/png", None, "The file is not a PNG image."),
        (GOOD, "image/jpeg", None, "The file is not a JPEG image."),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/webp", None, "The file is not a WebP image."),
        (GOOD, "image/png", len(GOOD) - 1, f"The uploaded file is larger than declared ({len(GOOD)} bytes, "
         f"{len(GOOD) - 1} declared)."),
        (b"", "image/png", 10, "The uploaded file is empty."),
        (png(4097, 1), "image/png", None, "The image is 4097 x 1 pixels; at most 4096 x 4096 are allowed."),
        (png(1, 4097), "image/png", None, "The image is 1 x 4097 pixels; at most 4096 x 4096 are allowed."),
        (png_header(30_000, 30_000), "image/png", None,
         "The image is 30000 x 30000 pixels; at most 4096 x 4096 are allowed."),
        (jpeg(65_000, 65_000), "image/jpeg", None,
         "The image is 65000 x 65000 pixels; at most 4096 x 4096 are allowed."),
        (GOOD[:20], "image/png", None, "The PNG image is cut short before its size."),
        (b"\xff\xd8\xff\xd9", "image/jpeg", None, "The JPEG image is damaged (no frame header before its data)."),
        (jpeg(10, 10, before_frame=app_segment(65_535) * 5), "image/jpeg", None,
         f"The JPEG image does not state its size within its first {HEADER_BYTES} bytes."),
    ],
)  # fmt: skip
def test_a_bad_file_is_refused_on_the_field_and_changes_nothing(users, media, alice, data, content_type, size, message):
    upload = _uploaded(media, _who(alice), data, content_type, size)
    assert _refused(lambda: _avatar(users, media, alice, upload.id)) == [message]
    _unchanged(users, media, alice, upload)


def test_an_upload_is_for_its_purpose_and_event_once_and_for_a_day(users, media, alice):
    as_image = _uploaded(media, _who(alice), GOOD, purpose=UploadPurpose.EVENT_IMAGE, event_id=new_id())
    assert _refused(lambda: _avatar(users, media, alice, as_image.id)) == ["This upload is not an avatar."]
    nothing = uploads.start(media, _who(alice), UploadPurpose.AVATAR, "image/png", 100).upload
    assert _refused(lambda: _avatar(users, media, alice, nothing.id)) == [
        "No file has been uploaded for this upload yet."
    ]
    old = _uploaded(media, _who(alice), GOOD)
    media.uploads.by_id[old.id] = replace(old, expires_at=int(time.time()) - 1)
    assert _refused(lambda: _avatar(users, media, alice, old.id)) == ["This upload has expired; upload the file again."]
    _unchanged(users, media, alice)
    used = _uploaded(media, _who(alice), GOOD)
    first = _avatar(users, media, alice, used.id)
    assert _refused(lambda: _avatar(users, media, alice, used.id)) == ["This upload has already been used."]
    assert users.get(alice.id) == first and media.store.keys("media/") == [first.avatar]


def test_a_file_posted_again_between_the_check_and_the_copy_is_not_published(users, media, alice):
    upload = _uploaded(media, _who(alice), GOOD)
    read = media.store.read_start

    def read_then_replace(key, length):
        start = read(key, length)
        media.store.put(key, b"<html>not what was checked</html>", "image/png")  # the same form, posted again
        return start

    media.store.read_start = read_then_replace
    assert _refused(lambda: _avatar(users, media, alice, upload.id)) == [
        "The file changed while it was being checked; use a new upload."
    ]
    _unchanged(users, media, alice, upload)


def test_an_upload_used_by_a_concurrent_request_is_refused_and_its_copy_deleted(users, media, alice):
    upload = _uploaded(media, _who(alice), GOOD)
    publish = media.store.publish

    def publish_then_lose_the_race(*args, **kwargs):
        publish(*args, **kwargs)
        media.uploads.claim(Claim(upload.id, alice.id, 0))  # another tab's edit came first

    media.store.publish = publish_then_lose_the_race
    assert _refused(lambda: _avatar(users, media, alice, upload.id)) == ["This upload has already been used."]
    assert users.get(alice.id) == alice and media.store.keys("media/") == []


def test_when_the_rest_of_the_edit_fails_the_published_copy_is_deleted(users, media, alice):
    accounts.create_user(users, username="bob", email="bob@example.com", password="x", rounds=4)
    upload = _uploaded(media, _who(alice), GOOD)
    with pytest.raises(ValidationFailed) as caught:
        accounts.update_profile(users, alice.id, {"email": "BOB@example.com", "avatar": upload.id}, media=media)
    assert caught.value.errors == {"email": ["A user with that email already exists."]}
    _unchanged(users, media, alice, upload)


# Replacing and removing.


def test_a_replaced_or_removed_avatar_is_deleted_from_the_bucket(users, media, alice):
    first = _avatar(users, media, alice, _uploaded(media, _who(alice), GOOD).id).avatar
    second = _avatar(users, media, alice, _uploaded(media, _who(alice), png(2, 2)).id).avatar
    assert media.store.keys("media/") == [second] and first != second
    assert accounts.update_profile(users, alice.id, {"email": "n@example.com"}, media=media).avatar == second
    assert accounts.update_profile(users, alice.id, {"avatar": None}, media=media).avatar is None
    assert media.store.keys("media/") == []


def test_a_link_stored_before_uploads_existed_is_left_alone_and_a_failed_delete_does_not_fail_the_edit(
    users, media, alice
):
    users.by_id[alice.id] = replace(alice, avatar="https://cdn.example.com/a.png")
    key = _avatar(users, media, alice, _uploaded(media, _who(alice), GOOD).id).avatar
    assert media.store.keys("media/") == [key]

    def outage(key):
        raise ServiceUnavailable()

    media.store.delete = outage
    assert accounts.update_profile(users, alice.id, {"avatar": None}, media=media).avatar is None
    assert users.get(alice.id).avatar is None


# Event images.


def test_an_event_image_is_its_creators_upload_for_that_event(media):
    repo, owner = FakeEvents(uploads=media.uploads), creator()
    event = events.create_event(repo, owner, {"title": "T", "description": "D"})
    other = events.create_event(repo, owner, {"title": "U", "description": "D"})
    upload = _uploaded(media, owner, GOOD, purpose=UploadPurpose.EVENT_IMAGE, event_id=event.id)
    with pytest.raises(ValidationFailed) as caught:
        events.update_event(repo, owner, other.id, {"image": upload.id}, media=media)
    assert caught.value.errors == {"image": ["This upload is for another event's image."]}
    with pytest.raises(PermissionDenied):
        events.update_event(repo, creator(), event.id, {"image": upload.id}, media=media)
    assert media.store.reads == []  # refused before the file was read
    avatar = _uploaded(media, owner, GOOD)
    with pytest.raises(ValidationFailed) as caught:
        events.update_event(repo, owner, event.id, {"image": avatar.id}, media=media)
    assert caught.value.errors == {"image": ["This upload is not an event image."]}
    updated = events.update_event(repo, owner, event.id, {"image": upload.id, "title": "New"}, media=media)
    assert updated.image.startswith("media/events/") and updated.title == "New"
    assert repo.get(event.id).image == updated.image and media.uploads.get(upload.id).claimed
    events.delete_event(repo, owner, event.id, media=media)
    assert media.store.keys("media/") == []


def test_staff_may_set_an_image_with_their_own_upload_not_with_the_creators(media):
    repo, owner, staff = FakeEvents(uploads=media.uploads), creator(), principal(staff=True)
    event = events.create_event(repo, owner, {"title": "T", "description": "D", "status": "draft"})
    theirs = _uploaded(media, owner, GOOD, purpose=UploadPurpose.EVENT_IMAGE, event_id=event.id)
    with pytest.raises(ValidationFailed) as caught:
        events.update_event(repo, staff, event.id, {"image": theirs.id}, media=media)
    assert caught.value.errors == {"image": ["Unknown upload."]}
    mine = _uploaded(media, staff, GOOD, purpose=UploadPurpose.EVENT_IMAGE, event_id=event.id)
    updated = events.update_event(repo, staff, event.id, {"image": mine.id}, media=media)
    assert updated.status is EventStatus.DRAFT and updated.image in media.store.objects


def test_an_upload_is_expired_from_its_expiry_second_on_even_if_the_file_is_still_there(media, users, alice):
    upload = _uploaded(media, _who(alice), GOOD)
    media.uploads.by_id[upload.id] = replace(upload, expires_at=int(utcnow().timestamp()))
    assert _refused(lambda: _avatar(users, media, alice, upload.id)) == [
        "This upload has expired; upload the file again."
    ]
