"""Sign-up, tokens and the authorizer through the gateway emulation, with simplejwt's exact answers."""

import time

import jwt
import pytest

from chalicelib.security import tokens
from tests.conftest import TEST_SIGNING_KEY
from tests.integration.conftest import PASSWORD

KEY = TEST_SIGNING_KEY.encode()


def test_health_answers_ok(api):
    reply = api.get("/health/")
    assert (reply.status, reply.json) == (200, {"status": "ok"})


def test_sign_up_creates_a_user_without_exposing_the_password(api):
    reply = api.post("/api/register/", {"username": "newbie", "email": "newbie@example.com", "password": PASSWORD})
    assert reply.status == 201
    assert reply.json["role"] == "USER" and reply.json["is_staff"] is False
    assert not {"password", "password_hash"} & set(reply.json)
    assert api.token("newbie", PASSWORD)


def test_sign_up_cannot_choose_a_role_or_staff(api):
    reply = api.post(
        "/api/register/",
        {"username": "sneaky", "email": "s@example.com", "password": PASSWORD, "role": "CREATOR", "is_staff": True},
    )
    assert reply.status == 400
    assert reply.json == {"role": ["This field is read-only."], "is_staff": ["This field is read-only."]}


def test_duplicate_username_in_another_case_is_a_field_error(api):
    api.post("/api/register/", {"username": "dup", "email": "a@example.com", "password": PASSWORD})
    reply = api.post("/api/register/", {"username": "DUP", "email": "b@example.com", "password": PASSWORD})
    assert (reply.status, reply.json) == (400, {"username": ["A user with that username already exists."]})


def test_password_over_72_bytes_is_400_at_sign_up_and_401_at_login(api, make_user):
    reply = api.post("/api/register/", {"username": "long", "email": "l@example.com", "password": "é" * 40})
    assert reply.status == 400 and list(reply.json) == ["password"]
    make_user("known")
    reply = api.post("/api/token/", {"username": "known", "password": "x" * 500})
    assert (reply.status, reply.json) == (401, {"detail": "No active account found with the given credentials"})


def test_token_answers_match_simplejwt(api, make_user):
    make_user("creator_user")
    ok = api.post("/api/token/", {"username": "creator_user", "password": PASSWORD})
    assert ok.status == 200 and set(ok.json) == {"refresh", "access"}
    bad = api.post("/api/token/", {"username": "creator_user", "password": "nope"})
    assert (bad.status, bad.json) == (401, {"detail": "No active account found with the given credentials"})
    assert bad.headers["www-authenticate"] == 'Bearer realm="api"'
    missing = api.post("/api/token/", {})
    assert (missing.status, missing.json) == (
        400,
        {"username": ["This field is required."], "password": ["This field is required."]},
    )
    blank = api.post("/api/token/", {"username": "", "password": ""})
    assert blank.json == {"username": ["This field may not be blank."], "password": ["This field may not be blank."]}
    get = api.get("/api/token/")
    assert (get.status, get.json) == (405, {"detail": 'Method "GET" not allowed.'})


def test_refresh_and_verify_answers_match_simplejwt(api, make_user):
    make_user("creator_user")
    pair = api.post("/api/token/", {"username": "creator_user", "password": PASSWORD}).json
    refreshed = api.post("/api/token/refresh/", {"refresh": pair["refresh"]})
    assert refreshed.status == 200 and list(refreshed.json) == ["access", "refresh"]
    wrong = api.post("/api/token/refresh/", {"refresh": pair["access"]})
    assert (wrong.status, wrong.json) == (401, {"detail": "Token has wrong type", "code": "token_not_valid"})
    garbage = api.post("/api/token/refresh/", {"refresh": "garbage"})
    assert garbage.json == {"detail": "Token is invalid", "code": "token_not_valid"}
    assert api.post("/api/token/refresh/", {}).json == {"refresh": ["This field is required."]}
    assert (api.post("/api/token/verify/", {"token": pair["access"]}).json) == {}
    bad = api.post("/api/token/verify/", {"token": "garbage"})
    assert (bad.status, bad.json) == (401, {"detail": "Token is invalid", "code": "token_not_valid"})


def test_me_shows_the_caller(api, creator_token):
    reply = api.get("/api/me/", token=creator_token)
    assert reply.status == 200
    assert {k: reply.json[k] for k in ("username", "email", "role", "avatar")} == {
        "username": "creator_user",
        "email": "creator_user@example.com",
        "role": "CREATOR",
        "avatar": None,
    }


NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}
TWO_VALUES = {
    "detail": "Authorization header must contain two space-delimited values",
    "code": "bad_authorization_header",
}


def not_valid(message: str) -> dict:
    """simplejwt's answer for an access token that cannot be used."""
    return {
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{"token_class": "AccessToken", "token_type": "access", "message": message}],
    }


@pytest.mark.parametrize(
    ("header", "body"),
    [
        (None, NOT_PROVIDED),
        ("Token abc", NOT_PROVIDED),
        ("Bearer", TWO_VALUES),
        ("Bearer a b", TWO_VALUES),
        ("Bearer garbage", not_valid("Token is invalid")),
        ("Bearer eyJhbGciOiJub25lIn0.e30.", not_valid("Token is invalid")),
    ],
)
def test_protected_route_answers_simplejwts_bodies_for_missing_or_bad_credentials(api, header, body):
    reply = api.get("/api/me/", headers={"Authorization": header} if header else {})
    assert (reply.status, reply.json) == (401, body)
    assert reply.headers["www-authenticate"] == 'Bearer realm="api"'


def test_refresh_token_does_not_work_as_an_access_token(api, make_user):
    make_user("someone")
    pair = api.post("/api/token/", {"username": "someone", "password": PASSWORD}).json
    reply = api.get("/api/me/", token=pair["refresh"])
    assert (reply.status, reply.json) == (401, not_valid("Token has wrong type"))


def test_expired_access_token_is_refused_with_token_not_valid(api, make_user):
    user = make_user("someone")
    expired = tokens.issue(user.id, tokens.ACCESS, 10, KEY, now=time.time() - 60)
    reply = api.get("/api/me/", token=expired)
    assert (reply.status, reply.json) == (401, not_valid("Token is expired"))


def _forged(**claims: object) -> str:
    now = int(time.time())
    payload = {"token_type": "access", "exp": now + 300, "iat": now, "jti": "forged", "user_id": "", **claims}
    return jwt.encode(payload, KEY, algorithm="HS256")


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"user_id": ""}, "Token contained no recognizable user identification"),
        ({"user_id": "../../etc"}, "Token contained no recognizable user identification"),
        ({"user_id": "01M8DJKSQ4WJA7GH71FHCTVASD", "exp": int(time.time()) + 10 * 365 * 86400}, "Token is invalid"),
    ],
)
def test_tokens_forged_with_the_real_key_are_401_not_503(api, claims, message):
    reply = api.get("/api/me/", token=_forged(**claims))
    assert (reply.status, reply.json) == (401, not_valid(message))


def test_deactivated_and_deleted_users_are_refused(api, make_user):
    from chalicelib import bootstrap
    from chalicelib.persistence.models.users import UserModel
    from chalicelib.services import accounts

    make_user("leaving")
    token = api.token("leaving", PASSWORD)
    assert api.get("/api/me/", token=token).status == 200
    accounts.change_account(bootstrap.users(), "leaving", is_active=False)
    reply = api.get("/api/me/", token=token)
    assert (reply.status, reply.json) == (401, {"detail": "User is inactive", "code": "user_inactive"})
    login = api.post("/api/token/", {"username": "leaving", "password": PASSWORD})
    assert (login.status, login.json) == (401, {"detail": "No active account found with the given credentials"})
    gone = make_user("gone")
    token = api.token("gone", PASSWORD)
    UserModel(id=gone.id).delete()
    reply = api.get("/api/me/", token=token)
    assert (reply.status, reply.json) == (401, {"detail": "User not found", "code": "user_not_found"})


def test_me_patch_changes_email_and_avatar_only(api, user_token, mailbox):
    body = {"email": "fresh@example.com", "avatar": None, "current_password": PASSWORD}
    ok = api.patch("/api/me/", body, token=user_token)
    # The new address takes effect once confirmed from it (tests/integration/test_passwords_api.py).
    assert (ok.status, ok.json["email"], ok.json["email_pending"]) == (200, "user@example.com", "fresh@example.com")
    for field, value in (("role", "CREATOR"), ("is_staff", True), ("username", "renamed"), ("password", "x")):
        reply = api.patch("/api/me/", {field: value}, token=user_token)
        assert (reply.status, reply.json) == (400, {field: ["This field is read-only."]})
    assert api.get("/api/me/", token=user_token).json["role"] == "USER"
    # The avatar is an upload of the caller's (tests/integration/test_uploads_api.py), never a link elsewhere.
    for link in ("http://insecure.example.com/a.png", "https://cdn.example.com/a.png"):
        reply = api.patch("/api/me/", {"avatar": link}, token=user_token)
        assert (reply.status, reply.json) == (400, {"avatar": ["Enter the id of an upload (POST /api/uploads/)."]})


def test_email_change_frees_the_old_address_and_takes_the_new_one(api, make_user, user_token, mailbox):
    import re
    from urllib.parse import parse_qs, urlsplit

    make_user("other")
    body = {"email": "OTHER@example.com", "current_password": PASSWORD}
    taken = api.patch("/api/me/", body, token=user_token)
    assert (taken.status, taken.json) == (400, {"email": ["A user with that email already exists."]})
    body = {"email": "moved@example.com", "current_password": PASSWORD}
    assert api.patch("/api/me/", body, token=user_token).status == 200
    [confirmation] = [m for m in mailbox.messages() if m["To"] == "moved@example.com"]
    query = parse_qs(urlsplit(re.findall(r"http://\S+", confirmation.get_content())[0]).query)
    done = api.post("/api/email/confirm/", {"uid": query["uid"][0], "token": query["token"][0]})
    assert done.status == 200
    reply = api.post("/api/register/", {"username": "late", "email": "user@example.com", "password": PASSWORD})
    assert reply.status == 201
    reply = api.post("/api/register/", {"username": "later", "email": "moved@example.com", "password": PASSWORD})
    assert reply.json == {"email": ["A user with that email already exists."]}


@pytest.mark.parametrize("user_id", ["", "not-an-id"])
def test_a_signed_refresh_token_naming_no_possible_user_is_refused_before_any_read(api, user_id):
    # DynamoDB refuses an empty key: an id this API never issues must be answered without asking it.
    refresh = tokens.issue(user_id, tokens.REFRESH, 300, KEY)
    reply = api.post("/api/token/refresh/", {"refresh": refresh})
    assert (reply.status, reply.json) == (
        401,
        {"detail": "No active account found for the given token.", "code": "no_active_account"},
    )
