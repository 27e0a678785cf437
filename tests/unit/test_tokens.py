import base64
import json
import time

import jwt
import pytest

from chalicelib.security import tokens

KEY = b"k" * 32
LIFETIMES = tokens.Lifetimes(access_seconds=300, refresh_seconds=86_400)


def _claims(**changes: object) -> dict:
    now = int(time.time())
    claims = {"token_type": "access", "exp": now + 300, "iat": now, "jti": "x", "user_id": "01ABC"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def test_access_token_round_trips_with_simplejwt_claims():
    token = tokens.issue("01ABC", tokens.ACCESS, 300, KEY)
    claims = tokens.decode(token, KEY, LIFETIMES, expected_type=tokens.ACCESS)
    assert (claims.user_id, claims.token_type, claims.exp - claims.iat) == ("01ABC", "access", 300)
    payload = jwt.decode(token, KEY, algorithms=["HS256"])
    assert set(payload) == {"token_type", "exp", "iat", "jti", "user_id"}
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "kid": tokens.key_id(KEY), "typ": "JWT"}


def test_refresh_token_is_refused_where_an_access_token_is_expected():
    token = tokens.issue("01ABC", tokens.REFRESH, 300, KEY)
    with pytest.raises(tokens.TokenError, match="^Token has wrong type$"):
        tokens.decode(token, KEY, LIFETIMES, expected_type=tokens.ACCESS)


def test_expired_token_is_reported_as_expired():
    token = tokens.issue("01ABC", tokens.ACCESS, 10, KEY, now=time.time() - 100)
    with pytest.raises(tokens.TokenError, match="^Token is expired$"):
        tokens.decode(token, KEY, LIFETIMES)


def test_token_signed_with_another_key_is_invalid():
    token = tokens.issue("01ABC", tokens.ACCESS, 300, b"x" * 32)
    with pytest.raises(tokens.TokenError, match="^Token is invalid$"):
        tokens.decode(token, KEY, LIFETIMES)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_alg_none_token_is_invalid():
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."
    with pytest.raises(tokens.TokenError, match="^Token is invalid$"):
        tokens.decode(forged, KEY, LIFETIMES)


@pytest.mark.parametrize("missing", ["exp", "iat", "jti", "token_type"])
def test_token_without_a_required_claim_is_invalid(missing):
    token = jwt.encode(_claims(**{missing: None}), KEY, algorithm="HS256")
    with pytest.raises(tokens.TokenError, match="^Token is invalid$"):
        tokens.decode(token, KEY, LIFETIMES)


@pytest.mark.parametrize("user_id", [None, 42, ["01ABC"]])
def test_token_without_a_string_user_id_identifies_nobody(user_id):
    token = jwt.encode(_claims(user_id=user_id), KEY, algorithm="HS256")
    with pytest.raises(tokens.TokenError, match="^Token contained no recognizable user identification$"):
        tokens.decode(token, KEY, LIFETIMES)


def test_token_living_longer_than_its_type_is_refused_even_with_the_real_key():
    now = int(time.time())
    longer = jwt.encode(_claims(iat=now, exp=now + 301), KEY, algorithm="HS256")
    with pytest.raises(tokens.TokenError, match="^Token is invalid$"):
        tokens.decode(longer, KEY, LIFETIMES)
    exact = jwt.encode(_claims(iat=now, exp=now + 300), KEY, algorithm="HS256")
    assert tokens.decode(exact, KEY, LIFETIMES).exp == now + 300


def test_token_issued_in_the_future_is_refused():
    later = int(time.time()) + 3600
    token = jwt.encode(_claims(iat=later, exp=later + 300), KEY, algorithm="HS256")
    with pytest.raises(tokens.TokenError, match="^Token is invalid$"):
        tokens.decode(token, KEY, LIFETIMES)


def test_token_of_a_type_this_api_does_not_issue_is_refused():
    token = jwt.encode(_claims(token_type="sliding"), KEY, algorithm="HS256")
    with pytest.raises(tokens.TokenError, match="^Token is invalid$"):
        tokens.decode(token, KEY, LIFETIMES)


def test_garbage_is_invalid():
    with pytest.raises(tokens.TokenError, match="^Token is invalid$"):
        tokens.decode("not-a-token", KEY, LIFETIMES)


def test_generation_and_family_claims_round_trip():
    token = tokens.issue("01ABC", tokens.REFRESH, 300, KEY, jti="j2", generation=3, family="j1")
    claims = tokens.decode(token, KEY, LIFETIMES, expected_type=tokens.REFRESH)
    assert (claims.jti, claims.generation, claims.family) == ("j2", 3, "j1")
    assert jwt.decode(token, KEY, algorithms=["HS256"])["gen"] == 3


def test_tokens_without_generation_or_family_are_generation_0_and_their_own_family():
    claims = tokens.decode(jwt.encode(_claims(jti="only"), KEY, algorithm="HS256"), KEY, LIFETIMES)
    assert (claims.generation, claims.family) == (0, "only")


@pytest.mark.parametrize("changes", [{"gen": "1"}, {"gen": True}, {"gen": 1.5}, {"fam": 7}, {"fam": ""}, {"jti": ""}])
def test_malformed_generation_or_family_is_invalid(changes):
    token = jwt.encode(_claims(**changes), KEY, algorithm="HS256")
    with pytest.raises(tokens.TokenError, match="^Token is invalid$"):
        tokens.decode(token, KEY, LIFETIMES)


def test_a_clock_ahead_by_up_to_the_allowed_skew_is_tolerated_and_no_more():
    now = int(time.time())
    for ahead, accepted in ((10, True), (tokens.CLOCK_SKEW_SECONDS, True), (tokens.CLOCK_SKEW_SECONDS + 1, False)):
        token = jwt.encode(_claims(iat=now + ahead, exp=now + ahead + 300), KEY, algorithm="HS256")
        if accepted:
            assert tokens.decode(token, KEY, LIFETIMES, now=now).iat == now + ahead
        else:
            with pytest.raises(tokens.TokenError, match="^Token is invalid$"):
                tokens.decode(token, KEY, LIFETIMES, now=now)
    assert tokens.CLOCK_SKEW_SECONDS == 30


@pytest.mark.parametrize("iat", [True, 1.5, "1"])
def test_an_issue_time_that_is_not_an_integer_is_invalid(iat):
    token = jwt.encode(_claims(iat=iat), KEY, algorithm="HS256")
    with pytest.raises(tokens.TokenError, match="^Token is invalid$"):
        tokens.decode(token, KEY, LIFETIMES)


def test_issued_tokens_carry_exactly_simplejwts_claims():
    token = tokens.issue("01ABC", tokens.REFRESH, 600, KEY, now=1_000_000)
    payload = jwt.decode(token, KEY, algorithms=["HS256"], options={"verify_exp": False})
    assert {k: v for k, v in payload.items() if k != "jti"} == {
        "token_type": "refresh",
        "exp": 1_000_600,
        "iat": 1_000_000,
        "user_id": "01ABC",
    }
    assert len(payload["jti"]) == 32 and int(payload["jti"], 16) >= 0
