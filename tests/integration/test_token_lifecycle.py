"""Refresh rotation with reuse detection, sign-out (one session and everywhere) and verification, through the
gateway emulation, with simplejwt's exact answers."""

import time

import boto3
import pytest

from chalicelib.security import tokens
from tests.conftest import TEST_SIGNING_KEY
from tests.integration.conftest import PASSWORD
from tests.support.faults import recorded_calls

KEY = TEST_SIGNING_KEY.encode()
BLACKLISTED = {"detail": "Token is blacklisted", "code": "token_not_valid"}


def not_valid(message: str) -> dict:
    return {
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{"token_class": "AccessToken", "token_type": "access", "message": message}],
    }


@pytest.fixture
def sign_in(api, make_user):
    make_user("someone")

    def pair() -> dict:
        reply = api.post("/api/token/", {"username": "someone", "password": PASSWORD})
        assert reply.status == 200, reply.json
        return reply.json

    return pair


def _refresh(api, refresh: str):
    return api.post("/api/token/refresh/", {"refresh": refresh})


def test_refresh_answers_a_new_pair_and_blacklists_the_token_sent(api, sign_in):
    first = sign_in()
    reply = _refresh(api, first["refresh"])
    assert reply.status == 200 and list(reply.json) == ["access", "refresh"]
    assert reply.headers["cache-control"] == "no-store"
    assert api.get("/api/me/", token=reply.json["access"]).status == 200
    again = _refresh(api, first["refresh"])
    assert (again.status, again.json) == (401, BLACKLISTED)
    assert again.headers["www-authenticate"] == 'Bearer realm="api"'


def test_refreshed_tokens_belong_to_the_same_family_and_live_a_full_lifetime(api, sign_in):
    first = sign_in()
    second = _refresh(api, first["refresh"]).json
    old = tokens.decode(first["refresh"], KEY, tokens.Lifetimes(300, 86400))
    new = tokens.decode(second["refresh"], KEY, tokens.Lifetimes(300, 86400))
    assert new.family == old.family == old.jti and new.jti != old.jti
    assert new.exp - new.iat == 86400


def test_a_chain_of_refreshes_works_link_by_link(api, sign_in):
    refresh = sign_in()["refresh"]
    for _ in range(4):
        reply = _refresh(api, refresh)
        assert reply.status == 200
        refresh = reply.json["refresh"]


def test_reusing_a_rotated_token_revokes_every_token_of_its_sign_in_and_nothing_else(api, sign_in):
    stolen = sign_in()
    other_session = sign_in()
    victim = _refresh(api, stolen["refresh"]).json
    victim = _refresh(api, victim["refresh"]).json
    # The thief replays the token it stole: refused, and the whole family with it.
    replay = _refresh(api, stolen["refresh"])
    assert (replay.status, replay.json) == (401, BLACKLISTED)
    assert _refresh(api, victim["refresh"]).json == BLACKLISTED
    assert _refresh(api, other_session["refresh"]).status == 200


def test_two_refreshes_of_one_token_give_at_most_one_new_pair_and_leave_the_family_revoked(api, sign_in):
    # The order a race resolves to: one refresh wins the conditional update, the other finds the token already
    # rotated, which is reuse. (tests/e2e/test_account_security.py races them for real over HTTP.)
    refresh = sign_in()["refresh"]
    first, second = _refresh(api, refresh), _refresh(api, refresh)
    assert (first.status, second.status, second.json) == (200, 401, BLACKLISTED)
    assert _refresh(api, first.json["refresh"]).json == BLACKLISTED


def test_blacklist_signs_out_one_session(api, sign_in):
    session, other = sign_in(), sign_in()
    reply = api.post("/api/token/blacklist/", {"refresh": session["refresh"]})
    assert (reply.status, reply.json) == (200, {})
    assert reply.headers["cache-control"] == "no-store"
    assert _refresh(api, session["refresh"]).json == BLACKLISTED
    again = api.post("/api/token/blacklist/", {"refresh": session["refresh"]})
    assert (again.status, again.json) == (401, BLACKLISTED)
    assert _refresh(api, other["refresh"]).status == 200


def test_blacklisting_the_latest_token_of_a_rotated_session_ends_it(api, sign_in):
    first = sign_in()
    latest = _refresh(api, first["refresh"]).json
    assert api.post("/api/token/blacklist/", {"refresh": latest["refresh"]}).json == {}
    assert _refresh(api, latest["refresh"]).json == BLACKLISTED


def test_blacklisting_an_already_rotated_token_revokes_its_family(api, sign_in):
    first = sign_in()
    latest = _refresh(api, first["refresh"]).json
    assert api.post("/api/token/blacklist/", {"refresh": first["refresh"]}).json == BLACKLISTED
    assert _refresh(api, latest["refresh"]).json == BLACKLISTED


def test_verify_refuses_revoked_tokens(api, sign_in):
    first = sign_in()
    latest = _refresh(api, first["refresh"]).json
    assert (api.post("/api/token/verify/", {"token": latest["refresh"]}).json) == {}
    assert (api.post("/api/token/verify/", {"token": latest["access"]}).json) == {}
    stale = api.post("/api/token/verify/", {"token": first["refresh"]})
    assert (stale.status, stale.json) == (401, BLACKLISTED)
    # Verifying is a read: the old token is not taken for its reuse.
    assert _refresh(api, latest["refresh"]).status == 200


def test_logout_all_revokes_every_refresh_and_access_token_of_the_caller(api, sign_in, make_user):
    one, two = sign_in(), sign_in()
    make_user("bystander")
    bystander = api.post("/api/token/", {"username": "bystander", "password": PASSWORD}).json
    reply = api.post("/api/me/logout-all/", token=one["access"])
    assert (reply.status, reply.raw) == (204, b"")
    for session in (one, two):
        assert _refresh(api, session["refresh"]).json == BLACKLISTED
        refused = api.get("/api/me/", token=session["access"])
        assert (refused.status, refused.json) == (401, not_valid("Token is blacklisted"))
        assert api.post("/api/token/verify/", {"token": session["access"]}).json == BLACKLISTED
    assert _refresh(api, bystander["refresh"]).status == 200
    fresh = sign_in()
    assert api.get("/api/me/", token=fresh["access"]).status == 200
    assert _refresh(api, fresh["refresh"]).status == 200


def test_logout_all_needs_a_signed_in_caller(api):
    reply = api.post("/api/me/logout-all/")
    assert (reply.status, reply.json) == (401, {"detail": "Authentication credentials were not provided."})


def _expired(token_type: str, user_id: str) -> str:
    return tokens.issue(user_id, token_type, 60, KEY, now=time.time() - 3600)


@pytest.mark.parametrize("path", ["/api/token/refresh/", "/api/token/blacklist/"])
def test_refresh_token_endpoints_refuse_bad_tokens_with_simplejwts_bodies(api, sign_in, path):
    pair = sign_in()
    user_id = tokens.decode(pair["access"], KEY, tokens.Lifetimes(300, 86400)).user_id
    cases = [
        ("garbage", "Token is invalid"),
        ("eyJhbGciOiJub25lIn0.e30.", "Token is invalid"),
        (_expired(tokens.REFRESH, user_id), "Token is expired"),
        (pair["access"], "Token has wrong type"),
    ]
    for token, message in cases:
        reply = api.post(path, {"refresh": token})
        assert (reply.status, reply.json) == (401, {"detail": message, "code": "token_not_valid"}), token
        assert reply.headers["www-authenticate"] == 'Bearer realm="api"'
    assert api.post(path, {}).json == {"refresh": ["This field is required."]}
    assert api.post(path, {"refresh": ""}).json == {"refresh": ["This field may not be blank."]}


def test_verify_refuses_garbage_and_expired_tokens_of_either_type(api, sign_in):
    user_id = tokens.decode(sign_in()["access"], KEY, tokens.Lifetimes(300, 86400)).user_id
    for token, message in [
        ("garbage", "Token is invalid"),
        (_expired(tokens.ACCESS, user_id), "Token is expired"),
        (_expired(tokens.REFRESH, user_id), "Token is expired"),
    ]:
        reply = api.post("/api/token/verify/", {"token": token})
        assert (reply.status, reply.json) == (401, {"detail": message, "code": "token_not_valid"})


def test_tokens_issued_before_generations_and_families_existed_keep_working(api, sign_in):
    # Tokens minted before this release carry neither `gen` nor `fam`: generation 0, a family of their own.
    user_id = tokens.decode(sign_in()["access"], KEY, tokens.Lifetimes(300, 86400)).user_id
    legacy_refresh = tokens.issue(user_id, tokens.REFRESH, 86400, KEY)
    legacy_access = tokens.issue(user_id, tokens.ACCESS, 300, KEY)
    assert api.get("/api/me/", token=legacy_access).status == 200
    rotated = _refresh(api, legacy_refresh)
    assert rotated.status == 200
    assert _refresh(api, legacy_refresh).json == BLACKLISTED


def _family_items() -> list[dict]:
    items = boto3.client("dynamodb").scan(TableName="sessions-local-tokens")["Items"]
    return [i for i in items if i["key"]["S"].startswith("FAMILY#")]


def test_family_state_expires_with_the_newest_token_of_the_family(api, sign_in):
    first = sign_in()
    assert _family_items() == []  # signing in stores nothing
    latest = _refresh(api, first["refresh"]).json
    claims = tokens.decode(latest["refresh"], KEY, tokens.Lifetimes(300, 86400))
    [item] = _family_items()
    assert item["key"]["S"] == f"FAMILY#{claims.family}"
    assert (item["current"]["S"], int(item["expires_at"]["N"])) == (claims.jti, claims.exp)


def test_each_token_endpoint_makes_these_dynamodb_requests(api, sign_in):
    """The figures docs/benchmarks.md's table lists for the token endpoints (the authorizer's user read of
    protected routes included here, since it runs in process)."""
    sign_in()
    with recorded_calls() as calls:
        pair = api.post("/api/token/", {"username": "someone", "password": PASSWORD}).json
    # The (username, client) lease, the IP's and username's counters, the username's marker, the user,
    # last_login; then the client's counter cleared and the client marked known.
    assert calls == ["UpdateItem", "BatchGetItem", "GetItem", "GetItem", "UpdateItem", "DeleteItem", "PutItem"]
    with recorded_calls() as calls:
        api.post("/api/token/", {"username": "someone", "password": "wrong-password"})
    # A failure: counted on the client (releasing its lease), the IP and the username.
    assert calls == ["UpdateItem", "BatchGetItem", "GetItem", "GetItem", "UpdateItem", "UpdateItem", "UpdateItem"]
    with recorded_calls() as calls:
        latest = _refresh(api, pair["refresh"]).json
    assert calls == ["GetItem", "UpdateItem"]  # the user (generation, active), the family's rotation
    with recorded_calls() as calls:
        _refresh(api, pair["refresh"])
    assert calls == ["GetItem", "UpdateItem", "UpdateItem"]  # reuse: the rotation fails, the family is revoked
    fresh = api.post("/api/token/", {"username": "someone", "password": PASSWORD}).json
    with recorded_calls() as calls:
        api.post("/api/token/verify/", {"token": fresh["access"]})
    assert calls == ["GetItem"]
    with recorded_calls() as calls:
        api.post("/api/token/verify/", {"token": fresh["refresh"]})
    assert calls == ["GetItem", "GetItem"]
    with recorded_calls() as calls:
        api.post("/api/token/blacklist/", {"refresh": fresh["refresh"]})
    assert calls == ["UpdateItem"]
    with recorded_calls() as calls:
        api.post("/api/token/blacklist/", {"refresh": latest["refresh"]})
    assert calls == ["UpdateItem", "UpdateItem"]  # already revoked: the conditional update fails
    with recorded_calls() as calls:
        api.post("/api/me/logout-all/", token=fresh["access"])
    assert calls == ["GetItem", "GetItem", "TransactWriteItems"]  # authorizer, the user, its new generation
