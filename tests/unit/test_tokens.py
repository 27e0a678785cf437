import base64
import json
import time

import jwt
import pytest

from chalicelib.security import tokens

KEY = b"k" * 32


def test_access_token_round_trips_with_simplejwt_claims():
    token = tokens.issue("01ABC", tokens.ACCESS, 300, KEY)
    claims = tokens.decode(token, KEY, expected_type=tokens.ACCESS)
    assert claims.user_id == "01ABC"
    assert claims.exp - claims.iat == 300
    payload = jwt.decode(token, KEY, algorithms=["HS256"])
    assert set(payload) == {"token_type", "exp", "iat", "jti", "user_id"}


def test_refresh_token_is_refused_where_an_access_token_is_expected():
    token = tokens.issue("01ABC", tokens.REFRESH, 300, KEY)
    with pytest.raises(tokens.TokenError, match="Token has wrong type"):
        tokens.decode(token, KEY, expected_type=tokens.ACCESS)


def test_expired_token_is_reported_as_expired():
    token = tokens.issue("01ABC", tokens.ACCESS, 10, KEY, now=time.time() - 100)
    with pytest.raises(tokens.TokenError, match="Token is expired"):
        tokens.decode(token, KEY)


def test_token_signed_with_another_key_is_invalid():
    token = tokens.issue("01ABC", tokens.ACCESS, 300, b"x" * 32)
    with pytest.raises(tokens.TokenError, match="Token is invalid"):
        tokens.decode(token, KEY)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_alg_none_token_is_invalid():
    now = int(time.time())
    claims = {"token_type": "access", "exp": now + 300, "iat": now, "jti": "x", "user_id": "01ABC"}
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    with pytest.raises(tokens.TokenError, match="Token is invalid"):
        tokens.decode(forged, KEY)


def test_token_without_required_claims_is_invalid():
    token = jwt.encode({"user_id": "01ABC", "exp": int(time.time()) + 60}, KEY, algorithm="HS256")
    with pytest.raises(tokens.TokenError, match="Token is invalid"):
        tokens.decode(token, KEY)


def test_garbage_is_invalid():
    with pytest.raises(tokens.TokenError, match="Token is invalid"):
        tokens.decode("not-a-token", KEY)
