"""Signing keys with kids: which key verifies which token, the local keys, and the keys read from Secrets Manager
with a maximum age (moto, an injected clock)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import boto3
import jwt
import pytest
from moto import mock_aws

from chalicelib.adapters import secrets as keys
from chalicelib.adapters.secrets import RENEW_SECONDS, RETRY_SECONDS, STALE_GRACE_SECONDS, Expiring
from chalicelib.errors import NotAuthenticated, ServiceUnavailable
from chalicelib.security import tokens
from chalicelib.services.authentication import access_claims
from chalicelib.settings import ConfigurationError, load_settings
from tests.support.faults import recorded_calls
from tests.support.logs import Records, attached

CURRENT = b"c" * 32
PREVIOUS = b"p" * 32
OTHER = b"o" * 32
LIFETIMES = tokens.Lifetimes(access_seconds=300, refresh_seconds=86_400)
RING = tokens.StaticKeys(CURRENT, PREVIOUS)
INVALID = {
    "detail": "Given token not valid for any token type",
    "code": "token_not_valid",
    "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is invalid"}],
}


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _signed(secret: bytes, kid: object = None, **claims: object) -> str:
    now = int(time.time())
    payload = {"token_type": "access", "exp": now + 300, "iat": now, "jti": "j", "user_id": "01ABC", **claims}
    return jwt.encode(payload, secret, algorithm="HS256", headers={"kid": kid} if kid is not None else None)


def _forged_header(header: dict, secret: bytes) -> str:
    def b64(part: dict) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=")

    now = int(time.time())
    signed = (
        b64(header) + b"." + b64({"token_type": "access", "exp": now + 300, "iat": now, "jti": "j", "user_id": "01ABC"})
    )
    signature = base64.urlsafe_b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).rstrip(b"=")
    return (signed + b"." + signature).decode()


def _refusal(token: str) -> dict:
    with pytest.raises(NotAuthenticated) as refused:
        access_claims(f"Bearer {token}", RING, LIFETIMES)
    return {"detail": refused.value.detail, "code": refused.value.code, **refused.value.extra}


# Which key verifies which token.


def test_a_token_names_the_key_that_signed_it_by_a_kid_that_reveals_nothing_of_it():
    token = tokens.issue("01ABC", tokens.ACCESS, 300, RING)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "kid": tokens.key_id(CURRENT), "typ": "JWT"}
    assert jwt.decode(token, CURRENT, algorithms=["HS256"])["user_id"] == "01ABC"
    # HMAC-SHA256 of a fixed label under the key, its first 16 hex digits: the kid says which key, not what it is.
    assert tokens.key_id(CURRENT) == "036992f5da922a4d" and tokens.key_id(PREVIOUS) != tokens.key_id(CURRENT)


def test_the_previous_key_verifies_the_tokens_it_signed_and_never_signs():
    before = tokens.issue("01ABC", tokens.ACCESS, 300, tokens.StaticKeys(PREVIOUS))
    assert tokens.decode(before, RING, LIFETIMES).user_id == "01ABC"
    assert jwt.get_unverified_header(tokens.issue("01ABC", tokens.ACCESS, 300, RING))["kid"] == tokens.key_id(CURRENT)


def test_a_kid_no_key_of_ours_has_is_refused_exactly_as_any_invalid_token():
    for token in (
        _signed(OTHER, tokens.key_id(OTHER)),
        _signed(CURRENT, "0123456789abcdef"),  # our key, but the kid names none: the kid chooses the key
        _signed(PREVIOUS, tokens.key_id(CURRENT)),  # the kid names the current key, which did not sign it
        _forged_header({"alg": "HS256", "typ": "JWT", "kid": 7}, CURRENT),
    ):
        with pytest.raises(tokens.TokenError, match="^Token is invalid$"):
            tokens.decode(token, RING, LIFETIMES)
        assert _refusal(token) == INVALID


def test_a_token_without_kid_issued_before_kids_is_checked_against_both_keys():
    assert tokens.decode(_signed(CURRENT), RING, LIFETIMES).user_id == "01ABC"
    assert tokens.decode(_signed(PREVIOUS), RING, LIFETIMES).user_id == "01ABC"
    assert _refusal(_signed(OTHER)) == INVALID
    with pytest.raises(tokens.TokenError, match="^Token is invalid$"):
        tokens.decode(_signed(PREVIOUS), tokens.StaticKeys(CURRENT), LIFETIMES)


def test_an_expired_token_of_the_previous_key_is_expired_not_invalid():
    now = int(time.time())
    old = _signed(PREVIOUS, tokens.key_id(PREVIOUS), iat=now - 400, exp=now - 100)
    with pytest.raises(tokens.TokenError, match="^Token is expired$"):
        tokens.decode(old, RING, LIFETIMES)
    with pytest.raises(tokens.TokenError, match="^Token is expired$"):
        tokens.decode(_signed(PREVIOUS, iat=now - 400, exp=now - 100), RING, LIFETIMES)


# The local stage's keys.


def test_locally_a_previous_key_can_be_set_for_a_manual_rotation():
    env = {"JWT_SIGNING_KEY": CURRENT.decode(), "JWT_PREVIOUS_SIGNING_KEY": PREVIOUS.decode()}
    settings = load_settings(env)
    ring = keys.signing_keys(settings)
    assert ring.current().kid == tokens.key_id(CURRENT) and keys.signing_key(settings) == CURRENT
    assert tokens.decode(_signed(PREVIOUS, tokens.key_id(PREVIOUS)), ring, LIFETIMES).user_id == "01ABC"
    alone = keys.signing_keys(load_settings({"JWT_SIGNING_KEY": CURRENT.decode()}))
    assert alone.previous() is None
    with pytest.raises(tokens.TokenError, match="^Token is invalid$"):
        tokens.decode(_signed(PREVIOUS, tokens.key_id(PREVIOUS)), alone, LIFETIMES)


@pytest.mark.parametrize(
    "env",
    [
        {"JWT_SIGNING_KEY": "c" * 32, "JWT_PREVIOUS_SIGNING_KEY": "p" * 31},
        {"JWT_SIGNING_KEY": "c" * 32, "JWT_PREVIOUS_SIGNING_KEY": "c" * 32},
        {"JWT_PREVIOUS_SIGNING_KEY": "p" * 32},
    ],
)
def test_a_previous_key_that_is_short_the_same_or_alone_is_refused(env):
    with pytest.raises(ConfigurationError, match="^JWT_PREVIOUS_SIGNING_KEY must be at least 32 bytes"):
        load_settings(env)


def test_the_maximum_ages_are_settings_with_bounds():
    settings = load_settings({"JWT_SIGNING_KEY": "k" * 32})
    assert (settings.signing_key_max_age_seconds, settings.payments.keys_max_age_seconds) == (300, 300)
    chosen = load_settings(
        {"JWT_SIGNING_KEY": "k" * 32, "SIGNING_KEY_MAX_AGE_SECONDS": "60", "STRIPE_KEYS_MAX_AGE_SECONDS": "3600"}
    )
    assert (chosen.signing_key_max_age_seconds, chosen.payments.keys_max_age_seconds) == (60, 3600)
    for name, value in (("SIGNING_KEY_MAX_AGE_SECONDS", "9"), ("STRIPE_KEYS_MAX_AGE_SECONDS", "3601")):
        with pytest.raises(ConfigurationError, match=f"^{name} must be between 10 and 3600"):
            load_settings({"JWT_SIGNING_KEY": "k" * 32, name: value})


# Expiring: a maximum age, and what a failed read does.


@pytest.fixture
def app_log():
    with attached(Records()) as handler:
        yield handler.records


class Source:
    """Answers the values given, in turn; an exception among them is raised."""

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.reads = 0

    def __call__(self) -> object:
        self.reads += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_a_value_is_read_again_once_it_reaches_its_maximum_age():
    clock, source = Clock(), Source("one", "two")
    cached = Expiring(source, 300, ServiceUnavailable, clock)
    assert cached.get() == "one"
    clock.advance(299.9)
    assert (cached.get(), source.reads) == ("one", 1)
    clock.advance(0.1)
    assert (cached.get(), source.reads) == ("two", 2)


def test_a_failed_read_again_keeps_the_value_for_a_grace_retrying_now_and_then_then_is_an_outage():
    clock, source = Clock(), Source("one", ServiceUnavailable(), ServiceUnavailable(), ServiceUnavailable())
    cached = Expiring(source, 300, ServiceUnavailable, clock)
    cached.get()
    clock.advance(300)
    assert (cached.get(), source.reads) == ("one", 2)
    clock.advance(RETRY_SECONDS - 0.1)
    assert (cached.get(), source.reads) == ("one", 2)  # no call while the store just failed
    clock.advance(0.1)
    assert (cached.get(), source.reads) == ("one", 3)
    clock.advance(STALE_GRACE_SECONDS - RETRY_SECONDS - 0.1)  # 0.1 s of grace left: no read due yet either
    assert cached.get() == "one"
    clock.advance(0.1)
    with pytest.raises(ServiceUnavailable):
        cached.get()
    assert source.reads == 4


def test_each_failed_read_again_is_logged_once_with_its_cause_never_each_answer_from_the_old_value(app_log):
    clock = Clock()
    failure = ServiceUnavailable()
    failure.__cause__ = TimeoutError()
    cached = Expiring(Source("one", failure, ServiceUnavailable()), 300, ServiceUnavailable, clock)
    cached.get()
    clock.advance(300)
    for _ in range(3):
        assert cached.get() == "one"
    clock.advance(RETRY_SECONDS)
    cached.get()
    assert [(r.levelname, r.getMessage(), r.fields) for r in app_log] == [
        ("WARNING", "a secret could not be read again: its last value is used", fields)
        for fields in (
            {"error": "ServiceUnavailable", "cause": "TimeoutError"},
            {"error": "ServiceUnavailable", "cause": None},
        )
    ]


def test_a_value_that_cannot_be_read_is_an_outage_tried_again_after_a_pause():
    clock, source = Clock(), Source(ServiceUnavailable(), "one")
    cached = Expiring(source, 300, ServiceUnavailable, clock)
    for _ in range(2):
        with pytest.raises(ServiceUnavailable):
            cached.get()
    assert source.reads == 1
    clock.advance(RETRY_SECONDS)
    assert (cached.get(), source.reads) == ("one", 2)


def test_only_the_stores_failure_is_survived_a_bug_is_raised_at_once():
    clock, source = Clock(), Source("one", KeyError("bug"))
    cached = Expiring(source, 300, ServiceUnavailable, clock)
    cached.get()
    clock.advance(300)
    with pytest.raises(KeyError):
        cached.get()


def test_renew_reads_again_unless_the_value_is_younger_than_asked():
    clock, source = Clock(), Source("one", "two")
    cached = Expiring(source, 300, ServiceUnavailable, clock)
    cached.get()
    clock.advance(29)
    assert (cached.renew(30), source.reads) == ("one", 1)
    clock.advance(1)
    assert (cached.renew(30), source.reads) == ("two", 2)


# The keys of a deployed stage: the secret's AWSCURRENT and AWSPREVIOUS.


@pytest.fixture
def stored():
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        arn = client.create_secret(Name="jwt-signing", SecretString="a" * 64)["ARN"]
        settings = load_settings({"STAGE": "dev", "JWT_SECRET_ARN": arn, "AWS_REGION": "us-east-1"})
        clock = Clock()
        yield client, arn, keys.SecretsManagerKeys(settings, clock=clock), clock


def _stage(client, arn: str, stage: str) -> str:
    return client.get_secret_value(SecretId=arn, VersionStage=stage)["VersionId"]


def _reads(params: list) -> list[str]:
    return [request["VersionStage"] for name, request in params if name == "GetSecretValue"]


def test_the_kid_is_a_hash_of_the_secrets_version_and_a_cold_start_reads_the_current_key_only(stored):
    client, arn, ring, _ = stored
    params: list = []
    with recorded_calls(params):
        token = tokens.issue("01ABC", tokens.ACCESS, 300, ring)
        assert tokens.decode(token, ring, LIFETIMES).user_id == "01ABC"
    kid = keys.version_kid(_stage(client, arn, "AWSCURRENT"))
    assert jwt.get_unverified_header(token)["kid"] == kid and len(kid) == 16 and "a" * 16 not in kid
    assert _reads(params) == ["AWSCURRENT"]


def test_a_rotation_in_the_secret_reaches_a_warm_container_within_the_maximum_age(stored):
    client, arn, ring, clock = stored
    before = tokens.issue("01ABC", tokens.ACCESS, 300, ring)
    client.put_secret_value(SecretId=arn, SecretString="b" * 64)  # moves AWSCURRENT; the old one is AWSPREVIOUS
    clock.advance(299)
    assert ring.current().secret == b"a" * 64
    clock.advance(1)
    current = ring.current()
    assert (current.kid, current.secret) == (keys.version_kid(_stage(client, arn, "AWSCURRENT")), b"b" * 64)
    params: list = []
    with recorded_calls(params):
        assert tokens.decode(before, ring, LIFETIMES).user_id == "01ABC"  # the previous key, read when needed
        assert tokens.decode(before, ring, LIFETIMES).user_id == "01ABC"
    assert _reads(params) == ["AWSPREVIOUS"]


def test_a_token_of_a_rotation_this_container_has_not_read_yet_is_verified_by_reading_again(stored):
    client, arn, ring, clock = stored
    ring.current()
    client.put_secret_value(SecretId=arn, SecretString="b" * 64)
    newer = _signed(b"b" * 64, keys.version_kid(_stage(client, arn, "AWSCURRENT")))
    clock.advance(RENEW_SECONDS)
    assert tokens.decode(newer, ring, LIFETIMES).user_id == "01ABC"
    assert ring.current().secret == b"b" * 64


def test_a_token_of_a_key_two_rotations_ahead_of_this_container_is_verified_by_reading_both_again(stored):
    client, arn, ring, clock = stored
    ring.current()
    ring.previous()
    client.put_secret_value(SecretId=arn, SecretString="b" * 64)
    middle = _signed(b"b" * 64, keys.version_kid(_stage(client, arn, "AWSCURRENT")))
    client.put_secret_value(SecretId=arn, SecretString="c" * 64)  # AWSPREVIOUS is now the middle key
    clock.advance(RENEW_SECONDS)
    assert tokens.decode(middle, ring, LIFETIMES).user_id == "01ABC"


def test_forged_kids_cost_at_most_a_read_of_each_key_per_renewal_period(stored):
    _, _, ring, clock = stored
    ring.current()
    clock.advance(RENEW_SECONDS)
    params: list = []
    with recorded_calls(params):
        for n in range(20):
            with pytest.raises(tokens.TokenError, match="^Token is invalid$"):
                tokens.decode(_signed(OTHER, f"forged{n}"), ring, LIFETIMES)
        clock.advance(RENEW_SECONDS - 1)
        with pytest.raises(tokens.TokenError, match="^Token is invalid$"):
            tokens.decode(_signed(OTHER, "forged"), ring, LIFETIMES)
    # Never rotated: AWSPREVIOUS does not exist, an answer kept like a key.
    assert _reads(params) == ["AWSPREVIOUS", "AWSCURRENT"]
    assert ring.previous() is None


def test_a_short_or_unreadable_current_key_is_an_outage_and_a_short_previous_one_verifies_nothing(stored):
    client, arn, ring, clock = stored
    old = tokens.issue("01ABC", tokens.ACCESS, 300, ring)
    client.put_secret_value(SecretId=arn, SecretString="short")
    clock.advance(300 + STALE_GRACE_SECONDS)
    with pytest.raises(ServiceUnavailable, match="^The signing key is not configured correctly.$"):
        ring.current()
    client.put_secret_value(SecretId=arn, SecretString="c" * 64)  # AWSPREVIOUS is now the short one
    clock.advance(RETRY_SECONDS)
    assert ring.current().secret == b"c" * 64 and ring.previous() is None
    with pytest.raises(tokens.TokenError, match="^Token is invalid$"):
        tokens.decode(old, ring, LIFETIMES)
    client.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    clock.advance(300 + STALE_GRACE_SECONDS)
    with pytest.raises(ServiceUnavailable):
        ring.current()


def test_the_rings_of_a_process_are_one_per_secret():
    with mock_aws():
        arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(Name="one", SecretString="s" * 48)[
            "ARN"
        ]
        settings = load_settings({"STAGE": "prod", "JWT_SECRET_ARN": arn, "AWS_REGION": "us-east-1"})
        assert keys.signing_keys(settings) is keys.signing_keys(settings)
        assert keys.signing_key(settings) == b"s" * 48
