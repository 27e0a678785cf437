"""Edges the mutation run found untested in the account, security and upload rules: exact expiries, exact texts,
and the cases where two conditions meet (an inactive account inside the hour, a ticket used up meanwhile)."""

import hashlib
import logging
import struct
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from chalicelib import metrics
from chalicelib.domain.enums import Access, EventStatus, Role, UploadPurpose
from chalicelib.domain.events import Settlement
from chalicelib.domain.limits import Rate, RateLimits
from chalicelib.domain.users import PendingEmail
from chalicelib.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.ports.tokens import RefreshToken, ResetTicket
from chalicelib.ports.uploads import Claim
from chalicelib.security import tokens
from chalicelib.security.access import declare
from chalicelib.services import accounts, admin, credentials, events, password_rules, uploads
from chalicelib.services.audit import diff
from chalicelib.services.images import JPEG, PNG, WEBP, DamagedImage, dimensions
from chalicelib.services.throttling import Guard
from chalicelib.services.uploads import Media
from tests.support.factories import creator, principal
from tests.support.fakes import (
    FakeAudit,
    FakeCounters,
    FakeEvents,
    FakeFamilies,
    FakeMailer,
    FakeObjectStore,
    FakeResets,
    FakeUploads,
    FakeUsers,
    fail_first,
)
from tests.support.images import WEBP_LOSSY, app_segment, png, png_chunk, png_header

GOOD = "vivid-otter-92-lamp"
NEW = "brisk-heron-47-quilt"
WEB = "http://127.0.0.1:3000"
IP = "192.0.2.1"
INVALID_TOKEN = {"token": ["Invalid value"]}
LIMITS = RateLimits(
    sign_in_client=Rate(5, 900),
    sign_in_username=Rate(20, 900),
    sign_in_paced=Rate(1, 30),
    sign_in_ip=Rate(100, 900),
    sign_up_ip=Rate(20, 3600),
    reset_ip=Rate(10, 3600),
    reset_email=Rate(5, 3600),
)
CONCURRENT = ("The account changed during the update; try again.", "concurrent_update")


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _guard():
    return Guard(FakeCounters(), LIMITS)


@pytest.fixture
def users():
    users = FakeUsers()
    accounts.register(users, username="alice", email="alice@example.com", password=GOOD, rounds=4)
    return users


def _alice(users):
    return users.get_by_username("alice")


def _link_query(message):
    [line] = [line for line in message.text.splitlines() if line.startswith(WEB)]
    return {k: v for k, [v] in parse_qs(urlsplit(line).query).items()}


class ReadCountingUsers(FakeUsers):
    """A FakeUsers that notes every read by id: a malformed id must never reach the store."""

    def __init__(self, by_id):
        super().__init__()
        self.by_id, self.reads = by_id, []

    def get(self, user_id):
        self.reads.append(user_id)
        return super().get(user_id)


# Metrics


def test_a_metric_line_is_the_embedded_metric_format_of_the_stage_at_this_millisecond(monkeypatch):
    monkeypatch.setattr(metrics, "time", SimpleNamespace(time=lambda: 1_700_000_000.25))
    assert metrics.metric_fields("PaymentMismatch", 3) == {
        "_aws": {
            "Timestamp": 1_700_000_000_250,
            "CloudWatchMetrics": [
                {
                    "Namespace": "SessionsMarketplace",
                    "Dimensions": [["Stage"]],
                    "Metrics": [{"Name": "PaymentMismatch", "Unit": "Count"}],
                }
            ],
        },
        "Stage": "local",
        "PaymentMismatch": 3,
    }


# Password reset


def _request_reset(users, resets, mailer, *, now=None, clock=None, slept=None):
    return credentials.request_reset(
        users,
        resets,
        mailer,
        _guard(),
        email="alice@example.com",
        client_ip=IP,
        web_app_url=WEB,
        min_seconds=1.0,
        now=now,
        clock=clock,
        sleep=slept.append if slept is not None else (lambda _: None),
    )


def test_a_reset_ticket_lasts_an_hour_from_the_given_now_and_holds_the_digest_of_a_256_bit_token(users):
    resets, mailer = FakeResets(users), FakeMailer()
    _request_reset(users, resets, mailer, now=1000)
    query = _link_query(mailer.sent[0])
    ticket = resets.get(_alice(users).id)
    assert (ticket.user_id, ticket.digest, ticket.expires_at) == (_alice(users).id, _digest(query["token"]), 4600)
    assert len(query["token"]) == 43  # 32 random bytes, base64url without padding


def test_a_reset_request_that_took_exactly_the_minimum_time_does_not_sleep(users):
    ticks, slept = iter([10.0, 11.0]), []
    _request_reset(users, FakeResets(users), FakeMailer(), clock=lambda: next(ticks), slept=slept)
    assert slept == []


def _ticket(users, resets, *, expires_at=4600, token="the-token"):
    alice = _alice(users)
    resets.put(ResetTicket(alice.id, _digest(token), credentials._binding(alice), expires_at))
    return alice


def _confirm_reset(users, resets, uid, *, token="the-token", password=NEW, now=4599):
    return credentials.confirm_reset(users, resets, uid=uid, token=token, new_password=password, rounds=4, now=now)


def test_a_reset_ticket_works_until_the_second_before_its_expiry_and_not_at_it(users):
    resets = FakeResets(users)
    alice = _ticket(users, resets)
    with pytest.raises(ValidationFailed) as caught:
        _confirm_reset(users, resets, alice.id, now=4600)
    assert caught.value.errors == INVALID_TOKEN
    assert _confirm_reset(users, resets, alice.id, now=4599) == "Password has been reset with the new password."
    assert _alice(users).token_generation == 1 and resets.get(alice.id) is None


def test_a_reset_token_that_is_not_valid_unicode_is_refused_like_any_wrong_token(users):
    resets = FakeResets(users)
    alice = _ticket(users, resets)
    with pytest.raises(ValidationFailed) as caught:
        _confirm_reset(users, resets, alice.id, token="\ud800")
    assert caught.value.errors == INVALID_TOKEN


def test_a_malformed_uid_is_refused_without_reading_the_store(users):
    counting = ReadCountingUsers(users.by_id)
    for confirm in (
        lambda uid: _confirm_reset(counting, FakeResets(counting), uid),
        lambda uid: credentials.confirm_email_change(counting, uid=uid, token="t", now=1000),
    ):
        for uid in ("", "not-an-id"):
            with pytest.raises(ValidationFailed) as caught:
                confirm(uid)
            assert caught.value.errors == {"uid": ["Invalid value"]}
    assert counting.reads == []


def test_a_new_password_like_the_email_but_not_the_username_is_refused_at_reset_and_at_change():
    users = FakeUsers()
    accounts.register(users, username="alice", email="zanzibarquokka@example.com", password=GOOD, rounds=4)
    resets = FakeResets(users)
    alice = _ticket(users, resets)
    refused = {"new_password": ["The password is too similar to the email address."]}
    with pytest.raises(ValidationFailed) as caught:
        _confirm_reset(users, resets, alice.id, password="zanzibarquokka1")
    assert caught.value.errors == refused
    with pytest.raises(ValidationFailed) as caught:
        credentials.change_password(
            users, _guard(), alice.id, old_password=GOOD, new_password="zanzibarquokka1", client_ip=IP, rounds=4
        )
    assert caught.value.errors == refused
    assert _alice(users).password_hash == alice.password_hash


def test_a_reset_ticket_used_up_by_a_concurrent_confirm_is_refused(users):
    resets = FakeResets(users)
    alice = _ticket(users, resets)
    real_redeem = resets.redeem

    def redeem_after_the_other(ticket, old, new):
        del resets.by_user[ticket.user_id]  # the other confirm's transaction won
        real_redeem(ticket, old, new)

    resets.redeem = redeem_after_the_other
    with pytest.raises(ValidationFailed) as caught:
        _confirm_reset(users, resets, alice.id)
    assert caught.value.errors == INVALID_TOKEN
    assert _alice(users).token_generation == 0


def test_a_reset_that_loses_every_race_is_a_conflict(users):
    resets = FakeResets(users)
    alice = _ticket(users, resets)
    calls = fail_first(resets, "redeem", 3)
    with pytest.raises(Conflict) as caught:
        _confirm_reset(users, resets, alice.id)
    assert (caught.value.detail, caught.value.code) == CONCURRENT
    assert calls == [1, 2, 3]


# E-mail address change


def _ask(users, mailer, email, *, now=1000, password=GOOD):
    proven = credentials.prove_email_change(
        users, _guard(), _alice(users).id, email=email, current_password=password, client_ip=IP, rounds=4
    )
    return credentials.request_email_change(users, mailer, proven, email=email, web_app_url=WEB, now=now)


def test_an_address_change_mails_an_hours_link_to_the_new_address_and_a_masked_note_to_the_old(users):
    mailer = FakeMailer()
    updated = _ask(users, mailer, "jo@example.com")
    confirmation, note = mailer.sent
    query = _link_query(confirmation)
    assert query["uid"] == updated.id and len(query["token"]) == 43
    assert updated.email == "alice@example.com"
    assert updated.pending_email == PendingEmail("jo@example.com", _digest(query["token"]), 4600)
    assert _alice(users) == updated
    assert (confirmation.to, confirmation.subject) == (
        "jo@example.com",
        "Confirm your new e-mail address on Sessions Marketplace",
    )
    assert (note.to, note.subject) == ("alice@example.com", "Your e-mail address on Sessions Marketplace")
    # One letter before the @ shows, and at least one bullet hides the rest, however short it is.
    assert "its password: a change of its e-mail address to j•@example.com was asked for." in note.text


def test_removing_the_address_takes_effect_at_once_drops_a_pending_change_and_tells_the_old_address(users):
    _ask(users, FakeMailer(), "jo@example.com")
    mailer = FakeMailer()
    updated = _ask(users, mailer, "")
    assert (updated.email, updated.pending_email) == ("", None)
    assert _alice(users) == updated
    [note] = mailer.sent
    assert (note.to, note.subject) == ("alice@example.com", "Your e-mail address on Sessions Marketplace")
    assert note.text == (
        "Hello alice,\n\nSomeone signed in to your account at Sessions Marketplace with its password: its e-mail "
        "address was removed.\n\nIf it was not you, change your password now (it also cancels a change not yet "
        "confirmed), and sign out everywhere from your profile.\n\nThe Sessions Marketplace team\n"
    )


def test_an_address_change_proven_by_a_password_changed_since_is_refused(users):
    proven = credentials.prove_email_change(
        users, _guard(), _alice(users).id, email="jo@example.com", current_password=GOOD, client_ip=IP, rounds=4
    )
    credentials.change_password(users, _guard(), proven.id, old_password=GOOD, new_password=NEW, client_ip=IP, rounds=4)
    mailer = FakeMailer()
    with pytest.raises(ValidationFailed) as caught:
        credentials.request_email_change(users, mailer, proven, email="jo@example.com", web_app_url=WEB, now=1000)
    assert caught.value.errors == {"current_password": [credentials.WRONG_PASSWORD]}
    assert mailer.sent == [] and _alice(users).pending_email is None


def test_an_over_long_current_password_is_a_wrong_one(users):
    with pytest.raises(ValidationFailed) as caught:
        _ask(users, FakeMailer(), "jo@example.com", password="x" * 73)
    assert caught.value.errors == {"current_password": [credentials.WRONG_PASSWORD]}


def test_an_address_change_whose_mail_fails_is_recorded_and_each_failure_logged(users, caplog):
    with caplog.at_level(logging.ERROR, logger="sessions_marketplace.credentials"):
        updated = _ask(users, FakeMailer(failing=True), "jo@example.com")
    assert updated.pending_email.address == "jo@example.com"
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["e-mail address change message not sent"] * 2


def _asked(users, *, is_active=True):
    mailer = FakeMailer()
    _ask(users, mailer, "jo@example.com")
    if not is_active:
        accounts.change_account(users, "alice", is_active=False)
    return _link_query(mailer.sent[0])


def _confirm_email(users, query, *, now=4599):
    return credentials.confirm_email_change(users, uid=query["uid"], token=query["token"], now=now)


def test_an_address_link_works_until_the_second_before_its_expiry_and_not_at_it(users):
    query = _asked(users)
    with pytest.raises(ValidationFailed) as caught:
        _confirm_email(users, query, now=4600)
    assert caught.value.errors == INVALID_TOKEN
    assert _confirm_email(users, query, now=4599) == "Your e-mail address has been changed."
    assert (_alice(users).email, _alice(users).pending_email) == ("jo@example.com", None)


@pytest.mark.parametrize(("is_active", "now"), [(True, 4601), (False, 1001)])
def test_an_address_link_is_refused_expired_for_an_active_account_and_in_time_for_a_deactivated_one(
    users, is_active, now
):
    query = _asked(users, is_active=is_active)
    with pytest.raises(ValidationFailed) as caught:
        _confirm_email(users, query, now=now)
    assert caught.value.errors == INVALID_TOKEN
    assert _alice(users).email == "alice@example.com"


def test_an_address_link_with_a_token_that_is_not_valid_unicode_is_refused(users):
    query = _asked(users)
    with pytest.raises(ValidationFailed) as caught:
        _confirm_email(users, {**query, "token": "\udfff"})
    assert caught.value.errors == INVALID_TOKEN


def test_an_address_link_of_an_unknown_account_names_the_uid(users):
    with pytest.raises(ValidationFailed) as caught:
        _confirm_email(users, {"uid": new_id(), "token": "t"})
    assert caught.value.errors == {"uid": ["Invalid value"]}


def test_an_address_taken_by_another_account_meanwhile_is_refused_at_confirmation(users):
    query = _asked(users)
    accounts.register(users, username="bob", email="JO@example.com", password=GOOD, rounds=4)
    with pytest.raises(ValidationFailed) as caught:
        _confirm_email(users, query)
    assert caught.value.errors == {"email": ["A user with that email already exists."]}
    assert _alice(users).email == "alice@example.com"


def test_an_address_confirmation_retries_a_lost_race_and_gives_up_after_three(users):
    query = _asked(users)
    calls = fail_first(users, "save", 3)
    with pytest.raises(Conflict) as caught:
        _confirm_email(users, query)
    assert (caught.value.detail, caught.value.code) == CONCURRENT
    assert calls == [1, 2, 3]
    users = FakeUsers()
    accounts.register(users, username="alice", email="alice@example.com", password=GOOD, rounds=4)
    query = _asked(users)
    calls = fail_first(users, "save", 1)
    assert _confirm_email(users, query) == "Your e-mail address has been changed."
    assert calls == [1, 2] and _alice(users).email == "jo@example.com"


# Tokens


POLICY = accounts.TokenPolicy(key=b"k" * 32, lifetimes=tokens.Lifetimes(access_seconds=300, refresh_seconds=86400))


def _claims(token):
    return jwt.decode(token, options={"verify_signature": False})


class RecordingFamilies(FakeFamilies):
    def __init__(self):
        super().__init__()
        self.rotated = []

    def rotate(self, token, successor, expires_at):
        self.rotated.append((token, successor, expires_at))
        super().rotate(token, successor, expires_at)


def test_a_refresh_at_a_given_second_issues_both_tokens_from_it_and_names_the_owner_of_the_family(users):
    pair = accounts.obtain_tokens(users, POLICY, username="alice", password=GOOD, rounds=4)
    held, families = _claims(pair["refresh"]), RecordingFamilies()
    at = held["iat"] + 600
    answer = accounts.refresh(users, families, POLICY, refresh=pair["refresh"], now=at)
    access, fresh = _claims(answer["access"]), _claims(answer["refresh"])
    assert (access["iat"], access["exp"], access["user_id"]) == (at, at + 300, _alice(users).id)
    assert (fresh["iat"], fresh["exp"], fresh["fam"]) == (at, at + 86400, held["fam"])
    owner = RefreshToken(user_id=_alice(users).id, jti=held["jti"], family=held["fam"], expires_at=held["exp"])
    assert families.rotated == [(owner, fresh["jti"], at + 86400)]


def test_a_signed_token_naming_a_malformed_user_id_reads_no_account(users):
    counting = ReadCountingUsers(users.by_id)
    token = tokens.issue("not-an-id", tokens.ACCESS, 300, POLICY.key, generation=0)
    accounts.verify(counting, FakeFamilies(), POLICY, token=token)
    assert counting.reads == []


# Profile images


def _media():
    return Media(FakeUploads(), FakeObjectStore())


def _uploaded(media, owner, data=None, purpose=UploadPurpose.AVATAR, event_id=None):
    data = data or png(4, 4)
    started = uploads.start(media, owner, purpose, "image/png", len(data), event_id)
    media.store.put(started.upload.key, data, "image/png")
    return started.upload


def test_an_email_only_edit_keeps_the_avatar_in_the_bucket():
    media = _media()
    users = FakeUsers(uploads=media.uploads)
    alice = accounts.create_user(users, username="alice", email="a@example.com", password="x", rounds=4)
    owner = principal(user_id=alice.id, username="alice")
    key = accounts.update_profile(users, alice.id, {"avatar": _uploaded(media, owner).id}, media=media).avatar
    after = accounts.update_profile(users, alice.id, {"email": "n@example.com"}, media=media)
    assert after.avatar == key and media.store.keys("media/") == [key]


def test_a_malformed_upload_id_reads_no_upload_record():
    media = _media()
    reads = []
    real_get = media.uploads.get
    media.uploads.get = lambda upload_id: reads.append(upload_id) or real_get(upload_id)
    with pytest.raises(ValidationFailed) as caught:
        uploads.verify(media, "avatar", "not-an-id", new_id(), UploadPurpose.AVATAR)
    assert caught.value.errors == {"avatar": ["Unknown upload."]}
    assert reads == []


def test_an_image_that_could_not_be_deleted_is_logged_by_its_key(caplog):
    media = _media()

    def outage(key):
        raise ServiceUnavailable()

    media.store.delete = outage
    with caplog.at_level(logging.WARNING, logger="sessions_marketplace"):
        uploads.discard(media, "media/avatars/01ABC.png")
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "could not delete media/avatars/01ABC.png; it is no longer referenced"
    ]


# Staff administration


def _staff(users):
    boss = accounts.create_user(users, username="boss", email="boss@example.com", password=GOOD, rounds=4)
    return principal(staff=True, user_id=boss.id, username="boss")


@pytest.mark.parametrize(
    ("username", "email", "password", "problem"),
    [
        ("quokkazanzibar", "", "quokkazanzibar1", "The password is too similar to the username."),
        ("bob", "quokkazanzibar@example.com", "quokkazanzibar1", "The password is too similar to the email address."),
    ],
)
def test_staff_creating_an_account_cannot_give_it_a_password_like_its_username_or_email(
    username, email, password, problem
):
    users = FakeUsers()
    staff = _staff(users)
    with pytest.raises(ValidationFailed) as caught:
        admin.create_user(
            users, staff, username=username, email=email, password=password, role=Role.USER, is_staff=False, rounds=4
        )
    assert caught.value.errors == {"password": [problem]}
    assert users.get_by_username(username) is None


def test_looking_up_a_malformed_user_id_reads_nothing(users):
    counting = ReadCountingUsers(users.by_id)
    with pytest.raises(NotFound):
        admin.find_user(counting, "not-an-id")
    assert counting.reads == []


@pytest.mark.parametrize(
    ("actor", "object_id"), [("not-an-id", None), (None, "not-an-id"), ("bad", "01M8ZC98G2WSAS5FKVHTGVNV4F")]
)
def test_the_audit_log_by_a_malformed_actor_or_object_is_empty_without_a_query(actor, object_id):
    log = FakeAudit()
    queries = []
    log.list = lambda **kwargs: queries.append(kwargs)
    page = admin.list_log(log, actor=actor, object_id=object_id, limit=10, start=None)
    assert (page.items, page.next_key, queries) == ([], None, [])


def test_staff_setting_the_address_voids_a_pending_change_and_other_edits_keep_it(users):
    _asked(users)
    staff = _staff(users)
    pending = _alice(users).pending_email
    assert admin.update_user(users, staff, _alice(users).id, {"role": "CREATOR"}).pending_email == pending
    updated = admin.update_user(users, staff, _alice(users).id, {"email": "set@example.com"})
    assert (updated.email, updated.pending_email) == ("set@example.com", None)


def test_a_diff_against_nothing_has_none_on_the_missing_side():
    user = SimpleNamespace(email="a@example.com", role=Role.CREATOR)
    assert diff(None, user, ("email", "role")) == {"email": (None, "a@example.com"), "role": (None, "CREATOR")}
    assert diff(user, None, ("email",)) == {"email": ("a@example.com", None)}


# Events


def _event(repo, owner, **fields):
    return events.create_event(repo, owner, {"title": "T", "description": "D", **fields})


def test_an_event_id_that_is_malformed_reads_no_event():
    repo, reads = FakeEvents(), []
    real_get = repo.get
    repo.get = lambda event_id: reads.append(event_id) or real_get(event_id)
    with pytest.raises(NotFound):
        events.delete_event(repo, creator(), "not-an-id", media=_media())
    assert reads == []


def test_changing_only_the_currency_checks_the_price_against_the_new_one():
    repo, owner = FakeEvents(), creator()
    event = _event(repo, owner, price=Decimal("10.50"), currency="USD")
    with pytest.raises(ValidationFailed) as caught:
        events.update_event(repo, owner, event.id, {"currency": "JPY"}, media=_media())
    assert caught.value.errors == {"price": ["JPY is charged in whole units: the price must be a whole number."]}
    assert repo.get(event.id).currency == "USD"


def test_cancelling_starts_the_settlement_at_the_moment_of_the_cancel(monkeypatch):
    repo, owner = FakeEvents(), creator()
    event = _event(repo, owner)
    moment = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
    monkeypatch.setattr(events, "utcnow", lambda: moment)
    cancelled = events.update_event(repo, owner, event.id, {"status": "cancelled"}, media=_media())
    assert cancelled.status is EventStatus.CANCELLED
    assert repo.by_id[event.id].settlement == Settlement(bookings=0, started_at=moment)


def test_an_event_still_being_settled_cannot_be_deleted_and_says_why():
    repo, owner = FakeEvents(), creator()
    event = _event(repo, owner)
    events.update_event(repo, owner, event.id, {"status": "cancelled"}, media=_media())
    with pytest.raises(Conflict) as caught:
        events.delete_event(repo, owner, event.id, media=_media())
    assert (caught.value.detail, caught.value.code) == (
        "This cancelled event's bookings are still being settled; delete it once that is done.",
        "settlement_in_progress",
    )


def _event_image(repo, media, owner, event, data=None):
    upload = _uploaded(media, owner, data, UploadPurpose.EVENT_IMAGE, event.id)
    return events.update_event(repo, owner, event.id, {"image": upload.id}, media=media).image


def test_an_event_image_used_by_a_concurrent_edit_is_refused_and_its_copy_deleted():
    media, owner = _media(), creator()
    repo = FakeEvents(uploads=media.uploads)
    event = _event(repo, owner)
    upload = _uploaded(media, owner, purpose=UploadPurpose.EVENT_IMAGE, event_id=event.id)
    publish = media.store.publish

    def publish_then_lose_the_race(*args, **kwargs):
        publish(*args, **kwargs)
        media.uploads.claim(Claim(upload.id, owner.user_id, 0))  # another tab's edit came first

    media.store.publish = publish_then_lose_the_race
    with pytest.raises(ValidationFailed) as caught:
        events.update_event(repo, owner, event.id, {"image": upload.id, "title": "New"}, media=media)
    assert caught.value.errors == {"image": ["This upload has already been used."]}
    assert repo.get(event.id).image is None and media.store.keys("media/") == []


def test_an_event_image_survives_other_edits_and_is_deleted_when_replaced_or_removed():
    media, owner = _media(), creator()
    repo = FakeEvents(uploads=media.uploads)
    event = _event(repo, owner)
    first = _event_image(repo, media, owner, event)
    assert events.update_event(repo, owner, event.id, {"title": "Renamed"}, media=media).image == first
    assert media.store.keys("media/") == [first]
    second = _event_image(repo, media, owner, event, png(2, 2))
    assert media.store.keys("media/") == [second] and first != second
    assert events.update_event(repo, owner, event.id, {"image": None}, media=media).image is None
    assert media.store.keys("media/") == []


# Passwords


def test_a_username_with_an_empty_part_is_compared_whole():
    # "quokka." splits into "quokka" and "": an empty part is skipped, never divided by.
    assert password_rules.password_problems("zanzibar-lamp-9", username="quokka.", email="") == []
    assert password_rules.password_problems("quokka.1", username="quokka.", email="") == [
        "The password is too similar to the username."
    ]


# Access


def test_a_protected_route_the_route_table_lists_with_its_access_is_declared():
    # declare itself, not a Router: a Router would add the probe to the OpenAPI operations of this process.
    assert declare("/api/me", ["GET", "PATCH"], Access.SIGNED_IN) is None
    assert declare("/api/events", ["POST"], Access.CREATOR) is None


# Image headers


def _jpeg_size(data):
    return dimensions(data, JPEG, whole=True)


def _damaged(data, kind):
    with pytest.raises(DamagedImage) as caught:
        dimensions(data, kind, whole=True)
    return str(caught.value)


def test_a_jpeg_frame_header_of_exactly_eight_bytes_and_an_empty_segment_before_it_are_read():
    frame = b"\xff\xc0\x00\x08\x08" + struct.pack(">HH", 3, 5) + b"\x00"
    assert _jpeg_size(b"\xff\xd8" + app_segment(4) + frame) == (5, 3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # A stray byte after the last segment, as the last byte of the file: damaged, not cut short.
        (b"\xff\xd8" + app_segment(4) + b"\x00", "The JPEG image is damaged (a segment does not start with a marker)."),
        # The marker 0x00 is a stuffed byte of image data: nothing declares the size.
        (b"\xff\xd8\xff\x00\x00\x10" + bytes(16), "The JPEG image is damaged (no frame header before its data)."),
        # A length field that ends the file and counts less than itself.
        (b"\xff\xd8\xff\xe1\x00\x01", "The JPEG image is damaged (a segment shorter than its own length field)."),
        (b"\xff\xd8\xff\xc0\x00\x07" + bytes(5), "The JPEG image is damaged (a frame header too short to hold a size)."),  # noqa: E501
    ],
)  # fmt: skip
def test_jpeg_damage_is_named_at_the_byte_where_it_is(data, message):
    assert _damaged(data, JPEG) == message


def _ihdr(compression=0, filtering=0, interlace=0):
    fields = struct.pack(">IIBBBBB", 10, 20, 8, 2, compression, filtering, interlace)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", fields)


def test_an_interlaced_png_is_read_and_every_other_non_standard_field_refused():
    assert dimensions(png_header(10, 20, interlace=1), PNG, whole=True) == (10, 20)
    impossible = "The PNG image's header chunk is damaged (an impossible pixel format)."
    for header in (_ihdr(compression=1), _ihdr(filtering=1), _ihdr(interlace=2)):
        assert _damaged(header, PNG) == impossible


def _riff(riff_size, kind, chunk_size, data=b""):
    return b"RIFF" + struct.pack("<I", riff_size) + b"WEBP" + kind + struct.pack("<I", chunk_size) + data


def test_webp_container_sizes_are_unsigned_and_bound_the_chunk_exactly():
    # The smallest container (an empty first chunk) is read as far as its chunk's kind.
    assert _damaged(_riff(12, b"ABCD", 0), WEBP) == "The WebP image is damaged (an unknown first chunk)."
    # A chunk longer than the container, but shorter than the container and its header.
    assert _damaged(_riff(30, b"VP8X", 20, bytes(10)), WEBP) == (
        "The WebP image is damaged (its chunk is larger than its file)."
    )
    # A container size of 2^31 or more is large, not negative.
    huge = WEBP_LOSSY[:4] + struct.pack("<I", 0xFFFFFFF0) + WEBP_LOSSY[8:]
    assert dimensions(huge, WEBP, whole=True) == (1, 1)
