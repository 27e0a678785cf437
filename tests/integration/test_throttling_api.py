"""Throttles on sign-in, sign-up and password reset, with counters in DynamoDB, through the gateway emulation:
DRF's 429 with Retry-After, the client IP as API Gateway reports it, no bcrypt for a throttled sign-in."""

import re
import time
import types

import bcrypt
import boto3
import pytest

from tests.integration.conftest import PASSWORD
from tests.support.faults import dynamodb_fault, dynamodb_timeout
from tests.support.retry import RETRY_AFTER

BAD_CREDENTIALS = {"detail": "No active account found with the given credentials"}
THROTTLED = re.compile(r"^Request was throttled\. Expected available in (\d+) seconds?\.$")
COUNTERS = "sessions-local-throttle"


@pytest.fixture
def bcrypt_checks(monkeypatch) -> list[bytes]:
    """Every password bcrypt checks during the test."""
    checked: list[bytes] = []
    real = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        checked.append(password)
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    return checked


def _sign_in(api, username: str, password: str, **kw):
    return api.post("/api/token/", {"username": username, "password": password}, **kw)


def _assert_throttled(reply, window: int) -> int:
    assert reply.status == 429, (reply.status, reply.json)
    assert set(reply.json) == {"detail"}
    wait = int(THROTTLED.match(reply.json["detail"]).group(1))
    assert 0 < wait <= window
    assert reply.headers["retry-after"] == str(wait)
    return wait


def _counters(prefix: str) -> list[dict]:
    items = boto3.client("dynamodb").scan(TableName=COUNTERS)["Items"]
    return [i for i in items if i["key"]["S"].startswith(prefix)]


def _end_windows(prefix: str) -> None:
    """Make the windows of these counters end now (TTL deletion lags: the items stay)."""
    for item in _counters(prefix):
        boto3.client("dynamodb").update_item(
            TableName=COUNTERS,
            Key={"key": item["key"]},
            UpdateExpression="SET expires_at = :now",
            ExpressionAttributeValues={":now": {"N": str(int(time.time()))}},
        )


def test_five_failures_lock_the_username_from_that_client_even_for_the_right_password_and_run_no_bcrypt(
    api, make_user, bcrypt_checks, source_ip
):
    make_user("victim")
    source_ip("198.51.100.7")
    for _ in range(5):
        assert _sign_in(api, "victim", "guess").json == BAD_CREDENTIALS
    bcrypt_checks.clear()
    locked = _sign_in(api, "victim", PASSWORD)
    _assert_throttled(locked, 15 * 60)
    assert bcrypt_checks == []
    # The same name written otherwise is the same account, and the same lock.
    _assert_throttled(_sign_in(api, "VICTIM", PASSWORD), 15 * 60)
    assert bcrypt_checks == []
    # The lock is that client's: anyone can fail five times with an organizer's name, not lock the organizer out.
    source_ip("203.0.113.9")
    assert _sign_in(api, "victim", PASSWORD).status == 200


def test_the_lock_ends_with_its_window(api, make_user):
    make_user("victim")
    for _ in range(5):
        _sign_in(api, "victim", "guess")
    assert _sign_in(api, "victim", PASSWORD).status == 429
    _end_windows("signin-client#")
    assert _sign_in(api, "victim", PASSWORD).status == 200
    # A new window opened: five more failures lock it again.
    for _ in range(5):
        assert _sign_in(api, "victim", "guess").status == 401
    assert _sign_in(api, "victim", PASSWORD).status == 429


def test_the_window_opens_at_the_first_failure_and_says_when_it_ends(api, make_user):
    make_user("victim")
    before = int(time.time())
    for _ in range(5):
        _sign_in(api, "victim", "guess")
    [counter] = _counters("signin-client#")
    end = int(counter["expires_at"]["N"])
    assert before + 900 <= end <= int(time.time()) + 900
    assert int(counter["hits"]["N"]) == 5 and "lease_until" not in counter
    wait = _assert_throttled(_sign_in(api, "victim", PASSWORD), 900)
    assert end - int(time.time()) - 1 <= wait <= end - before


def test_successful_sign_ins_do_not_count_and_clear_that_clients_failures(api, make_user):
    make_user("victim")
    make_user("neighbour")
    for _ in range(8):
        assert _sign_in(api, "victim", PASSWORD).status == 200
    for _ in range(4):
        assert _sign_in(api, "victim", "guess").status == 401
    assert _sign_in(api, "victim", PASSWORD).status == 200
    assert _counters("signin-client#") == []  # the right password cleared them
    for _ in range(5):
        assert _sign_in(api, "victim", "guess").status == 401
    assert _sign_in(api, "victim", PASSWORD).status == 429
    assert _sign_in(api, "neighbour", PASSWORD).status == 200


def test_unknown_usernames_are_counted_like_known_ones(api):
    for _ in range(5):
        assert (_sign_in(api, "nobody", "guess").json) == BAD_CREDENTIALS
    assert _sign_in(api, "nobody", "guess").status == 429


def test_a_username_failing_from_many_clients_is_paced_for_new_clients_never_for_its_owners(
    api, make_user, rate_limits, source_ip
):
    rate_limits(sign_in_username="3/15m", sign_in_paced="1/30s")
    make_user("organizer")
    source_ip("192.0.2.10")
    assert _sign_in(api, "organizer", PASSWORD).status == 200  # the owner's client, known from now on
    for i in range(3):
        source_ip(f"203.0.113.{i}")
        assert _sign_in(api, "organizer", "guess").status == 401
    source_ip("198.51.100.50")
    assert _sign_in(api, "organizer", "guess").status == 401  # a new client: one attempt per 30 s
    _assert_throttled(_sign_in(api, "organizer", PASSWORD), 30)
    source_ip("192.0.2.10")
    for _ in range(3):
        assert _sign_in(api, "organizer", PASSWORD).status == 200


def test_retrying_while_the_store_fails_counts_nothing_and_leaves_no_lock(api, make_user, monkeypatch):
    import chalicelib.services.throttling as throttling

    make_user("victim")
    clock = [time.time()]
    monkeypatch.setattr(throttling, "time", types.SimpleNamespace(time=lambda: clock[0]))
    for _ in range(8):  # the user retries, every 20 s, while reads of the store time out
        with dynamodb_timeout("GetItem"):
            assert _sign_in(api, "victim", PASSWORD).status == 503
        clock[0] += 20
    assert {int(c.get("hits", {"N": "0"})["N"]) for c in _counters("signin-")} <= {0}
    assert _sign_in(api, "victim", PASSWORD).status == 200
    # While a check that died holds the (username, client) pair, the next waits a few seconds, no more.
    with dynamodb_timeout("GetItem"):
        assert _sign_in(api, "victim", PASSWORD).status == 503
    _assert_throttled(_sign_in(api, "victim", PASSWORD), 15)
    clock[0] += 15
    assert _sign_in(api, "victim", PASSWORD).status == 200


def test_once_the_store_failed_a_request_asks_it_nothing_more(api, make_user):
    from botocore.exceptions import ReadTimeoutError

    from tests.support.faults import intercepted_calls

    make_user("victim")
    calls: list[str] = []

    def hung_reads(name, params, proceed):
        calls.append(name)
        if name == "GetItem":
            raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")
        return proceed(name, params)

    with intercepted_calls(hung_reads):
        reply = _sign_in(api, "victim", PASSWORD)
    assert reply.status == 503 and reply.headers["retry-after"] in RETRY_AFTER
    # The lease, the counters' read, the user's read, which failed: nothing after it (no release, no count).
    assert calls == ["UpdateItem", "BatchGetItem", "GetItem"]


def test_failures_from_one_client_ip_lock_that_ip_for_every_username(api, make_user, rate_limits, source_ip):
    rate_limits(sign_in_ip="3/15m")
    make_user("victim")
    source_ip("198.51.100.7")
    for name in ("a", "b", "c"):
        assert _sign_in(api, name, "guess").status == 401
    _assert_throttled(_sign_in(api, "victim", PASSWORD), 15 * 60)
    # Headers a client writes itself change nothing: the address is the one API Gateway saw.
    spoofed = _sign_in(api, "victim", PASSWORD, headers={"X-Forwarded-For": "192.0.2.1", "X-Real-IP": "192.0.2.1"})
    assert spoofed.status == 429
    source_ip("203.0.113.9")
    assert _sign_in(api, "victim", PASSWORD).status == 200


def test_a_throttled_sign_in_counts_nothing(api, make_user, rate_limits, source_ip):
    # All or none: a request refused for its IP does not also use up the username's window.
    rate_limits(sign_in_ip="2/15m")
    make_user("victim")
    source_ip("198.51.100.7")
    _sign_in(api, "a", "guess")
    _sign_in(api, "b", "guess")
    for _ in range(10):
        assert _sign_in(api, "victim", "guess").status == 429
    source_ip("203.0.113.9")
    assert _sign_in(api, "victim", PASSWORD).status == 200


def test_wrong_old_passwords_count_towards_the_sign_in_lock(api, make_user):
    make_user("victim")
    access = api.token("victim", PASSWORD)
    for _ in range(5):
        reply = api.post(
            "/api/me/password/", {"old_password": "guess", "new_password": "fine-new-pass-42"}, token=access
        )
        assert reply.status == 400
    again = api.post("/api/me/password/", {"old_password": PASSWORD, "new_password": "fine-new-pass-42"}, token=access)
    _assert_throttled(again, 15 * 60)
    _assert_throttled(_sign_in(api, "victim", PASSWORD), 15 * 60)


def test_sign_ups_are_limited_per_client_ip(api, rate_limits, source_ip):
    rate_limits(sign_up_ip="2/h")
    source_ip("198.51.100.7")

    def sign_up(name: str):
        return api.post("/api/register/", {"username": name, "email": f"{name}@example.com", "password": PASSWORD})

    assert sign_up("first").status == 201
    assert sign_up("first").status == 400  # refused, and counted all the same
    _assert_throttled(sign_up("third"), 3600)
    source_ip("203.0.113.9")
    assert sign_up("third").status == 201


def test_reset_requests_are_limited_per_client_ip(api, rate_limits, source_ip, mailbox):
    rate_limits(reset_ip="2/h")
    source_ip("198.51.100.7")
    for _ in range(2):
        assert api.post("/api/password/reset/", {"email": "x@example.com"}).status == 200
    _assert_throttled(api.post("/api/password/reset/", {"email": "x@example.com"}), 3600)
    source_ip("203.0.113.9")
    assert api.post("/api/password/reset/", {"email": "x@example.com"}).status == 200


def test_reset_mails_to_one_address_are_capped_silently(api, make_user, rate_limits, mailbox):
    rate_limits(reset_email="2/h")
    make_user("alice", email="alice@example.com")
    replies = [api.post("/api/password/reset/", {"email": "alice@example.com"}) for _ in range(4)]
    assert {(r.status, r.json["detail"]) for r in replies} == {(200, "Password reset e-mail has been sent.")}
    assert len(mailbox.messages()) == 2


def test_counters_are_keyed_without_personal_data(api):
    _sign_in(api, "Some.Person@Example.com", "guess")
    keys = sorted(i["key"]["S"] for i in _counters(""))
    assert len(keys) == 3 and keys[1] == "signin-ip#127.0.0.1"
    assert re.fullmatch(r"signin-client#[0-9a-f]{32}#127\.0\.0\.1", keys[0])
    assert re.fullmatch(r"signin-user#[0-9a-f]{32}", keys[2])
    assert "person" not in " ".join(keys).lower()


def test_a_throttled_counter_table_is_503_and_runs_no_bcrypt(api, make_user, bcrypt_checks):
    make_user("victim")
    with dynamodb_fault("UpdateItem", "ProvisionedThroughputExceededException"):
        reply = _sign_in(api, "victim", PASSWORD)
    assert reply.status == 503 and reply.headers["retry-after"] in RETRY_AFTER
    assert bcrypt_checks == []
