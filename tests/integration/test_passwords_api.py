"""Changing a password and resetting a forgotten one by e-mail, through the gateway emulation; the e-mail is
read from the .eml files the local mail adapter writes."""

import re
import time
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from chalicelib.domain.enums import Role
from tests.integration.conftest import PASSWORD
from tests.support.faults import recorded_calls

BLACKLISTED = {"detail": "Token is blacklisted", "code": "token_not_valid"}
WRONG_OLD = {"old_password": ["Your old password was entered incorrectly. Please enter it again."]}
SENT = {"detail": "Password reset e-mail has been sent."}
DONE = {"detail": "Password has been reset with the new password."}
NEW_PASSWORD = "brisk-heron-47-quilt"
BAD_CREDENTIALS = {"detail": "No active account found with the given credentials"}


@pytest.fixture
def account(api, make_user):
    """A user (`alice`, alice@example.com) signed in once: its user, and the token pair."""
    user = make_user("alice", email="alice@example.com")
    pair = api.post("/api/token/", {"username": "alice", "password": PASSWORD}).json
    return user, pair


def _sign_in(api, password: str):
    return api.post("/api/token/", {"username": "alice", "password": password})


def _change(api, access: str, old: str, new: str):
    return api.post("/api/me/password/", {"old_password": old, "new_password": new}, token=access)


# --- change -------------------------------------------------------------------------------------------------


def test_password_change_revokes_every_token_and_the_new_password_signs_in(api, account):
    _, pair = account
    other_session = _sign_in(api, PASSWORD).json
    reply = _change(api, pair["access"], PASSWORD, NEW_PASSWORD)
    assert (reply.status, reply.raw) == (204, b"")
    for session in (pair, other_session):
        assert api.post("/api/token/refresh/", {"refresh": session["refresh"]}).json == BLACKLISTED
        assert api.get("/api/me/", token=session["access"]).status == 401
    old = _sign_in(api, PASSWORD)
    assert (old.status, old.json) == (401, BAD_CREDENTIALS)
    assert _sign_in(api, NEW_PASSWORD).status == 200


def test_wrong_old_password_is_a_field_error_in_djangos_words_and_changes_nothing(api, account):
    _, pair = account
    reply = _change(api, pair["access"], "not-my-password", NEW_PASSWORD)
    assert (reply.status, reply.json) == (400, WRONG_OLD)
    assert api.get("/api/me/", token=pair["access"]).status == 200
    assert _sign_in(api, PASSWORD).status == 200


@pytest.mark.parametrize(
    ("new", "errors"),
    [
        ("short", ["This password is too short. It must contain at least 8 characters."]),
        ("password", ["This password is too common."]),
        ("alice1234", ["The password is too similar to the username."]),
        ("12345678", ["This password is too common.", "This password is entirely numeric."]),
        ("é" * 37, ["Ensure this field has no more than 72 bytes."]),
    ],
)
def test_new_password_goes_through_the_sign_up_validators(api, account, new, errors):
    _, pair = account
    reply = _change(api, pair["access"], PASSWORD, new)
    assert (reply.status, reply.json) == (400, {"new_password": errors})
    assert _sign_in(api, PASSWORD).status == 200


def test_both_passwords_wrong_report_both_fields(api, account):
    _, pair = account
    reply = _change(api, pair["access"], "x" * 200, "short")
    assert (reply.status, reply.json) == (
        400,
        {**WRONG_OLD, "new_password": ["This password is too short. It must contain at least 8 characters."]},
    )


def test_password_change_needs_both_fields_and_a_signed_in_caller(api, account):
    _, pair = account
    missing = api.post("/api/me/password/", {}, token=pair["access"])
    assert missing.json == {"old_password": ["This field is required."], "new_password": ["This field is required."]}
    anonymous = api.post("/api/me/password/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert anonymous.status == 401


# --- reset --------------------------------------------------------------------------------------------------


def _link(message) -> tuple[str, str, str]:
    """The reset link of an e-mail, and its uid and token."""
    text = message.get_content()
    [link] = re.findall(r"http://\S+", text)
    query = parse_qs(urlsplit(link).query)
    return link, query["uid"][0], query["token"][0]


def _request(api, email: str = "alice@example.com"):
    return api.post("/api/password/reset/", {"email": email})


def _confirm(api, uid: str, token: str, new_password: str = NEW_PASSWORD):
    return api.post("/api/password/reset/confirm/", {"uid": uid, "token": token, "new_password": new_password})


def test_reset_request_mails_a_link_to_the_web_apps_reset_page(api, account, mailbox):
    user, _ = account
    reply = _request(api, "ALICE@example.com")
    assert (reply.status, reply.json) == (200, SENT)
    [message] = mailbox.messages()
    assert (message["To"], message["Subject"]) == ("alice@example.com", "Password reset on Sessions Marketplace")
    assert message["From"] == "Sessions Marketplace <no-reply@sessions.localhost>"
    link, uid, token = _link(message)
    assert link.startswith("http://127.0.0.1:3000/reset-password?uid=")
    assert uid == user.id and len(token) >= 40
    assert "alice" in message.get_content()  # the username, as Django's e-mail says it


def test_reset_answers_alike_for_unknown_addresses_and_sends_nothing(api, account, mailbox, make_user):
    make_user("gone", email="gone@example.com")
    from chalicelib import bootstrap
    from chalicelib.services import accounts

    accounts.change_account(bootstrap.users(), "gone", is_active=False)
    for address in ("nobody@example.com", "gone@example.com"):
        reply = _request(api, address)
        assert (reply.status, reply.json) == (200, SENT)
    assert mailbox.messages() == []


def test_reset_request_validates_the_address(api):
    assert _request(api, "not-an-address").json == {"email": ["Enter a valid email address."]}
    assert api.post("/api/password/reset/", {}).json == {"email": ["This field is required."]}


def test_reset_confirm_sets_the_password_and_revokes_every_token(api, account, mailbox):
    _, pair = account
    _request(api)
    _, uid, token = _link(mailbox.messages()[0])
    reply = _confirm(api, uid, token)
    assert (reply.status, reply.json) == (200, DONE)
    assert api.post("/api/token/refresh/", {"refresh": pair["refresh"]}).json == BLACKLISTED
    assert api.get("/api/me/", token=pair["access"]).status == 401
    assert _sign_in(api, PASSWORD).status == 401
    assert _sign_in(api, NEW_PASSWORD).status == 200


def test_reset_link_works_once(api, account, mailbox):
    _request(api)
    _, uid, token = _link(mailbox.messages()[0])
    assert _confirm(api, uid, token).status == 200
    again = _confirm(api, uid, token, "another-fine-passphrase-3")
    assert (again.status, again.json) == (400, {"token": ["Invalid value"]})
    assert _sign_in(api, NEW_PASSWORD).status == 200


def test_only_the_latest_link_works(api, account, mailbox):
    _request(api)
    _request(api)
    first, second = (_link(m) for m in mailbox.messages())
    assert _confirm(api, first[1], first[2]).json == {"token": ["Invalid value"]}
    assert _confirm(api, second[1], second[2]).json == DONE


def test_reset_link_expires_after_an_hour(api, account, mailbox):
    user, _ = account
    before = int(time.time())
    _request(api)
    after = time.time()
    _, uid, token = _link(mailbox.messages()[0])
    ticket = boto3.client("dynamodb").get_item(TableName="sessions-local-tokens", Key={"key": {"S": f"RESET#{uid}"}})
    issued_expiry = int(ticket["Item"]["expires_at"]["N"])
    assert before + 3600 <= issued_expiry <= after + 3600
    # An hour later (TTL deletion lags, so the item may still be there).
    boto3.client("dynamodb").update_item(
        TableName="sessions-local-tokens",
        Key={"key": {"S": f"RESET#{uid}"}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )
    assert _confirm(api, uid, token).json == {"token": ["Invalid value"]}
    assert _sign_in(api, PASSWORD).status == 200


def test_reset_link_is_refused_once_the_password_changed_another_way(api, account, mailbox):
    _, pair = account
    _request(api)
    _, uid, token = _link(mailbox.messages()[0])
    assert _change(api, pair["access"], PASSWORD, NEW_PASSWORD).status == 204
    reply = _confirm(api, uid, token, "another-fine-passphrase-3")
    assert (reply.status, reply.json) == (400, {"token": ["Invalid value"]})
    assert _sign_in(api, NEW_PASSWORD).status == 200


def test_reset_link_is_refused_once_the_address_changed(api, account, mailbox):
    _, pair = account
    _request(api)
    _, uid, token = _link(mailbox.messages()[0])
    _change_email(api, pair["access"], "elsewhere@example.com", mailbox)
    assert _confirm(api, uid, token).json == {"token": ["Invalid value"]}


# --- e-mail address ------------------------------------------------------------------------------------------


def _ask_email(api, access: str, email: str, password: str | None = PASSWORD):
    body = {"email": email, **({"current_password": password} if password is not None else {})}
    return api.patch("/api/me/", body, token=access)


def _change_email(api, access: str, email: str, mailbox) -> None:
    asked = _ask_email(api, access, email)
    assert asked.status == 200, asked.json
    [confirmation] = [m for m in mailbox.messages() if m["To"] == email]
    _, uid, token = _link(confirmation)
    assert api.post("/api/email/confirm/", {"uid": uid, "token": token}).status == 200


def test_changing_the_email_needs_the_password_a_link_from_the_new_address_and_tells_the_old_one(api, account, mailbox):
    _, pair = account
    missing = _ask_email(api, pair["access"], "new@example.com", password=None)
    assert (missing.status, missing.json) == (
        400,
        {"current_password": ["Enter your current password to change your e-mail address."]},
    )
    wrong = _ask_email(api, pair["access"], "new@example.com", password="not-my-password")
    assert wrong.json == {"current_password": ["Your password was entered incorrectly. Please enter it again."]}
    assert mailbox.messages() == []

    asked = _ask_email(api, pair["access"], "new@example.com")
    assert (asked.status, asked.json["email"], asked.json["email_pending"]) == (
        200,
        "alice@example.com",
        "new@example.com",
    )
    assert api.get("/api/me/", token=pair["access"]).json["email_pending"] == "new@example.com"
    confirmation, notice = sorted(mailbox.messages(), key=lambda m: m["To"] != "new@example.com")
    assert confirmation["To"] == "new@example.com" and notice["To"] == "alice@example.com"
    link, uid, token = _link(confirmation)
    assert link.startswith("http://127.0.0.1:3000/confirm-email?uid=")
    assert "n••@example.com" in notice.get_content() and "http" not in notice.get_content()
    # Until the link is opened, resets still go to the old address, and the new one is not the account's.
    assert api.post("/api/password/reset/", {"email": "new@example.com"}).status == 200
    assert [m["To"] for m in mailbox.messages()].count("new@example.com") == 1

    bad = api.post("/api/email/confirm/", {"uid": uid, "token": token + "x"})
    assert (bad.status, bad.json) == (400, {"token": ["Invalid value"]})
    done = api.post("/api/email/confirm/", {"uid": uid, "token": token})
    assert (done.status, done.json) == (200, {"detail": "Your e-mail address has been changed."})
    me = api.get("/api/me/", token=pair["access"]).json
    assert (me["email"], me["email_pending"]) == ("new@example.com", None)
    again = api.post("/api/email/confirm/", {"uid": uid, "token": token})
    assert again.json == {"token": ["Invalid value"]}  # single use
    # The old address is free again.
    reply = api.post("/api/register/", {"username": "late", "email": "alice@example.com", "password": PASSWORD})
    assert reply.status == 201


def test_a_pending_email_change_lapses_when_the_password_changes(api, account, mailbox):
    _, pair = account
    _ask_email(api, pair["access"], "thief@example.com")
    [confirmation] = [m for m in mailbox.messages() if m["To"] == "thief@example.com"]
    _, uid, token = _link(confirmation)
    assert _change(api, pair["access"], PASSWORD, NEW_PASSWORD).status == 204
    assert api.post("/api/email/confirm/", {"uid": uid, "token": token}).json == {"token": ["Invalid value"]}


def test_an_email_change_to_a_taken_address_or_for_another_account_is_refused(api, account, make_user, mailbox):
    _, pair = account
    make_user("other", email="other@example.com")
    taken = _ask_email(api, pair["access"], "OTHER@example.com")
    assert (taken.status, taken.json) == (400, {"email": ["A user with that email already exists."]})
    _ask_email(api, pair["access"], "free@example.com")
    [confirmation] = [m for m in mailbox.messages() if m["To"] == "free@example.com"]
    _, uid, token = _link(confirmation)
    other = make_user("third", email="third@example.com")
    assert api.post("/api/email/confirm/", {"uid": other.id, "token": token}).json == {"token": ["Invalid value"]}


def test_wrong_current_passwords_count_towards_the_sign_in_lock(api, account, mailbox):
    _, pair = account
    for _ in range(5):
        assert _ask_email(api, pair["access"], "x@example.com", password="guess").status == 400
    assert _ask_email(api, pair["access"], "x@example.com").status == 429
    assert _sign_in(api, PASSWORD).status == 429


def test_bad_reset_confirmations_are_400_and_leave_the_link_usable(api, account, mailbox):
    _request(api)
    _, uid, token = _link(mailbox.messages()[0])
    assert _confirm(api, "01M8DJKSQ4WJA7GH71FHCTVASD", token).json == {"uid": ["Invalid value"]}
    assert _confirm(api, "../../etc", token).json == {"uid": ["Invalid value"]}
    assert _confirm(api, uid, token[:-1] + ("A" if token[-1] != "A" else "B")).json == {"token": ["Invalid value"]}
    assert _confirm(api, uid, "x" * 201).json == {"token": ["Ensure this field has no more than 200 characters."]}
    weak = _confirm(api, uid, token, "alice12")
    assert (weak.status, weak.json) == (
        400,
        {
            "new_password": [
                "This password is too short. It must contain at least 8 characters.",
                "The password is too similar to the username.",
            ]
        },
    )
    assert _confirm(api, uid, token, "é" * 37).json == {
        "new_password": ["Ensure this field has no more than 72 bytes."]
    }
    assert _confirm(api, uid, token).json == DONE


def test_reset_of_an_account_made_without_an_address_is_impossible(api, make_user, mailbox):
    make_user("staffmade", role=Role.CREATOR, email="")
    assert _request(api, "staffmade@example.com").json == SENT
    assert mailbox.messages() == []


def test_reset_requests_make_these_dynamodb_requests_either_way(api, account, mailbox):
    with recorded_calls() as known:
        _request(api)
    with recorded_calls() as unknown:
        _request(api, "nobody@example.com")
    # Throttles (client IP, then address), the address's marker; for an account also the user and its ticket.
    assert known == ["UpdateItem", "UpdateItem", "GetItem", "GetItem", "PutItem"]
    assert unknown == ["UpdateItem", "UpdateItem", "GetItem"]
    _, uid, token = _link(mailbox.messages()[0])
    with recorded_calls() as confirm:
        _confirm(api, uid, token)
    assert confirm == ["GetItem", "GetItem", "TransactWriteItems"]  # user, ticket, ticket used + new password


def test_every_reset_request_takes_at_least_the_configured_time(api, account, mailbox, monkeypatch):
    # Not a speed test: the padding that keeps a known address from answering faster or slower than an unknown
    # one is observed through the sleep it asks for.

    import chalicelib.services.credentials as credentials
    from chalicelib import bootstrap
    from chalicelib.settings import get_settings

    padded = get_settings()._replace(password_reset_min_seconds=5.0)  # far longer than the work, however slow
    monkeypatch.setattr(bootstrap, "get_settings", lambda: padded)
    slept: list[float] = []
    monkeypatch.setattr(credentials.time, "sleep", slept.append)
    _request(api)
    _request(api, "nobody@example.com")
    assert len(slept) == 2 and all(4 < s <= 5 for s in slept)
    assert len(mailbox.messages()) == 1
