"""Rotation, sign-out, password change and reset, and the throttles, as services over the in-memory fakes."""

import logging
from dataclasses import replace

import pytest

from chalicelib.domain.limits import Rate, RateLimits
from chalicelib.errors import NotAuthenticated, ServiceUnavailable, Throttled, ValidationFailed
from chalicelib.ports.common import StaleWrite
from chalicelib.security import tokens
from chalicelib.services import accounts, credentials
from chalicelib.services.throttling import Guard
from tests.support.fakes import FakeCounters, FakeFamilies, FakeMailer, FakeResets, FakeUsers

POLICY = accounts.TokenPolicy(key=b"k" * 32, lifetimes=tokens.Lifetimes(access_seconds=300, refresh_seconds=86400))
GOOD = "vivid-otter-92-lamp"
NEW = "brisk-heron-47-quilt"
LIMITS = RateLimits(
    sign_in_client=Rate(5, 900),
    sign_in_username=Rate(20, 900),
    sign_in_paced=Rate(1, 30),
    sign_in_ip=Rate(100, 900),
    sign_up_ip=Rate(20, 3600),
    reset_ip=Rate(10, 3600),
    reset_email=Rate(5, 3600),
)
WEB = "http://127.0.0.1:3000"


@pytest.fixture
def users():
    users = FakeUsers()
    accounts.register(users, username="alice", email="alice@example.com", password=GOOD, rounds=4)
    return users


def _alice(users):
    return users.get_by_username("alice")


def _pair(users, password=GOOD):
    return accounts.obtain_tokens(users, POLICY, username="alice", password=password, rounds=4)


def _blacklisted(call) -> None:
    with pytest.raises(NotAuthenticated) as caught:
        call()
    assert (caught.value.detail, caught.value.code) == ("Token is blacklisted", "token_not_valid")


def test_throttled_answers_in_drfs_words():
    assert Throttled(1).detail == "Request was throttled. Expected available in 1 second."
    assert Throttled(42).detail == "Request was throttled. Expected available in 42 seconds."
    assert Throttled(0).wait == 1  # Retry-After: 0 would invite an immediate retry that is still refused


def test_without_rotation_refresh_answers_an_access_token_and_honours_sign_out(users):
    families, policy = FakeFamilies(), replace(POLICY, rotate=False)
    pair = _pair(users)
    for _ in range(2):
        assert list(accounts.refresh(users, families, policy, refresh=pair["refresh"])) == ["access"]
    accounts.blacklist(families, policy, refresh=pair["refresh"])
    _blacklisted(lambda: accounts.refresh(users, families, policy, refresh=pair["refresh"]))


def test_rotation_revokes_the_family_on_reuse(users):
    families = FakeFamilies()
    first = _pair(users)
    second = accounts.refresh(users, families, POLICY, refresh=first["refresh"])
    _blacklisted(lambda: accounts.refresh(users, families, POLICY, refresh=first["refresh"]))
    _blacklisted(lambda: accounts.refresh(users, families, POLICY, refresh=second["refresh"]))


def test_new_tokens_carry_the_accounts_generation_and_sign_out_everywhere_raises_it(users):
    families = FakeFamilies()
    pair = _pair(users)
    assert tokens.decode(pair["access"], POLICY.key, POLICY.lifetimes).generation == 0
    accounts.sign_out_everywhere(users, _alice(users).id)
    assert _alice(users).token_generation == 1
    _blacklisted(lambda: accounts.refresh(users, families, POLICY, refresh=pair["refresh"]))
    _blacklisted(lambda: accounts.verify(users, families, POLICY, token=pair["access"]))
    fresh = _pair(users)
    assert tokens.decode(fresh["refresh"], POLICY.key, POLICY.lifetimes).generation == 1
    accounts.verify(users, families, POLICY, token=fresh["refresh"])


def test_a_revoked_token_of_a_deactivated_account_is_reported_as_blacklisted_first(users):
    # simplejwt checks the blacklist before the account.
    pair = _pair(users)
    accounts.sign_out_everywhere(users, _alice(users).id)
    accounts.change_account(users, "alice", is_active=False)
    _blacklisted(lambda: accounts.refresh(users, FakeFamilies(), POLICY, refresh=pair["refresh"]))


def _guard(counters=None):
    return Guard(counters or FakeCounters(), LIMITS)


def test_sign_in_lock_counts_failures_only_and_refuses_before_checking_any_password(users, monkeypatch):
    guard = _guard()

    def sign_in(password, ip="192.0.2.1"):
        return accounts.sign_in(users, guard, POLICY, client_ip=ip, username="alice", password=password, rounds=4)

    sign_in(GOOD)
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            sign_in("wrong-guess-1")
    checks = []
    real = accounts.check_password
    monkeypatch.setattr(accounts, "check_password", lambda *a: checks.append(a) or real(*a))
    with pytest.raises(Throttled):
        sign_in(GOOD)
    assert checks == []
    # The lock is this client's: the account's owner elsewhere signs in.
    assert set(sign_in(GOOD, ip="198.51.100.4")) == {"access", "refresh"}
    assert len(checks) == 1


def _check(guard, keys, now, outcome):
    """One password check ending as `outcome`: "failed", "succeeded", or an exception raised in it."""
    with guard.password_check(keys, now=now) as attempt:
        if outcome == "failed":
            attempt.failed()
        elif outcome == "succeeded":
            attempt.succeeded()
        else:
            raise outcome


def test_an_outage_during_a_password_check_counts_nothing_and_asks_the_store_nothing_more():
    counters = FakeCounters()
    guard = _guard(counters)
    keys = guard.sign_in("alice", "192.0.2.1")
    calls = []
    for name in ("release", "count", "mark"):
        real = getattr(counters, name)
        setattr(counters, name, lambda *a, _real=real, _name=name: calls.append(_name) or _real(*a))
    for _ in range(10):  # retries while the store fails: none counts, and none is locked out afterwards
        with pytest.raises(ServiceUnavailable):
            _check(guard, keys, 1000 + 20 * _, ServiceUnavailable())
    assert calls == []
    windows = counters.peek([keys.client.key, keys.ip.key, keys.username.key], 1200)
    assert {w.hits for w in windows.values()} <= {0}
    _check(guard, keys, 1200, "succeeded")
    with pytest.raises(ValidationFailed):
        _check(guard, keys, 1300, ValidationFailed({"old_password": ["wrong"]}))  # no verdict: counts nothing
    assert counters.peek([keys.ip.key], 1300) == {}


def test_a_check_holds_its_pair_so_parallel_guesses_cannot_slip_past_the_lock():
    counters = FakeCounters()
    guard = _guard(counters)
    keys = guard.sign_in("alice", "192.0.2.1")
    with guard.password_check(keys, now=1000) as first:
        with pytest.raises(Throttled) as busy:
            _check(guard, keys, 1001, "failed")
        assert busy.value.wait == 14  # until the first one's lease lapses
        first.failed()
    _check(guard, keys, 1002, "failed")  # released: the next one runs
    assert counters.peek([keys.client.key], 1002)[keys.client.key].hits == 2
    # A check that died holding the lease (no verdict, no release) leaves no lasting lock.
    counters.lease(keys.client, 1003 + 15, 1003)
    with pytest.raises(Throttled):
        _check(guard, keys, 1010, "failed")
    _check(guard, keys, 1018, "succeeded")
    assert keys.client.key not in counters.windows  # a right password clears the pair


def test_a_username_failing_from_everywhere_is_paced_for_new_clients_but_not_for_known_ones():
    counters = FakeCounters()
    guard = _guard(counters)
    home = guard.sign_in("alice", "192.0.2.1")
    _check(guard, home, 1000, "succeeded")  # the owner's client is known from now on
    for i in range(20):  # an attack from twenty addresses, each under its own lock
        _check(guard, guard.sign_in("alice", f"203.0.113.{i}"), 1001 + i, "failed")
    stranger = guard.sign_in("alice", "198.51.100.9")
    _check(guard, stranger, 1030, "failed")  # paced: one attempt per 30 s from clients the account never used
    with pytest.raises(Throttled) as paced:
        _check(guard, stranger, 1031, "failed")
    assert paced.value.wait == 29
    _check(guard, stranger, 1060, "failed")
    for second in (1061, 1062, 1063):
        _check(guard, home, second, "succeeded")  # the owner's own client is never paced


def test_a_window_ends_when_it_says():
    counters = FakeCounters()
    guard = _guard(counters)
    quotas = guard.reset_address("a@example.com")
    for _ in range(5):
        assert guard.allows(quotas, now=1000)
    assert not guard.allows(quotas, now=4599)
    with pytest.raises(Throttled) as caught:
        guard.count(quotas, now=4590)
    assert caught.value.wait == 10
    assert guard.allows(quotas, now=4600)


def test_password_change_is_refused_if_the_password_changed_meanwhile(users):
    class RacedUsers(FakeUsers):
        def __init__(self, by_id):
            super().__init__()
            self.by_id, self.raced = by_id, False

        def save(self, old, new, audit=None, claim=None):
            if old.password_hash == new.password_hash or self.raced:
                return super().save(old, new, audit, claim)
            # Another request set a password between the check of the old one and this write.
            self.raced = True
            current = self.by_id[old.id]
            self.by_id[old.id] = current.with_changes(password_hash="$2b$04$someone.else")
            raise StaleWrite()

    raced = RacedUsers(users.by_id)
    with pytest.raises(ValidationFailed) as caught:
        credentials.change_password(
            raced, _guard(), _alice(users).id, old_password=GOOD, new_password=NEW, client_ip="192.0.2.1", rounds=4
        )
    assert caught.value.errors == {"old_password": [credentials.WRONG_OLD_PASSWORD]}


def _request(users, resets, mailer, *, email="alice@example.com", clock=None, slept=None, guard=None):
    return credentials.request_reset(
        users,
        resets,
        mailer,
        guard or _guard(),
        email=email,
        client_ip="192.0.2.1",
        web_app_url=WEB,
        min_seconds=1.0,
        clock=clock,
        sleep=slept.append if slept is not None else (lambda _: None),
    )


def test_reset_requests_take_the_same_minimum_time_whether_or_not_the_address_has_an_account(users):
    for email, work in (("alice@example.com", 0.3), ("nobody@example.com", 0.01)):
        ticks = iter([10.0, 10.0 + work])
        slept: list[float] = []
        _request(users, FakeResets(users), FakeMailer(), email=email, clock=lambda t=ticks: next(t), slept=slept)
        assert slept == [pytest.approx(1.0 - work)]


def test_a_mail_failure_is_logged_and_answered_like_a_success(users, caplog):
    resets = FakeResets(users)
    with caplog.at_level(logging.ERROR, logger="sessions_marketplace.credentials"):
        detail = _request(users, resets, FakeMailer(failing=True))
    assert detail == "Password reset e-mail has been sent."
    assert [r.getMessage() for r in caplog.records] == ["password reset e-mail not sent"]


def test_reset_mail_text_holds_the_link_and_the_username_but_the_ticket_only_a_digest(users):
    resets, mailer = FakeResets(users), FakeMailer()
    _request(users, resets, mailer)
    [message] = mailer.sent
    [line] = [line for line in message.text.splitlines() if line.startswith(WEB)]
    token = line.split("token=")[1]
    ticket = resets.get(_alice(users).id)
    assert token not in ticket.digest and len(ticket.digest) == 64
    assert "alice" in message.text and message.to == "alice@example.com"


def test_reset_confirm_retries_when_the_account_changed_meanwhile(users):
    resets, mailer = FakeResets(users), FakeMailer()
    _request(users, resets, mailer)
    token = mailer.sent[0].text.split("token=")[1].split()[0]
    alice = _alice(users)
    real_redeem, calls = resets.redeem, []

    def redeem_once_stale(ticket, old, new):
        calls.append(old.version)
        if len(calls) == 1:
            users.by_id[old.id] = old.with_changes(avatar="https://a.example/x.png")  # a profile edit won
            raise StaleWrite()
        real_redeem(ticket, old, new)

    resets.redeem = redeem_once_stale
    detail = credentials.confirm_reset(users, resets, uid=alice.id, token=token, new_password=NEW, rounds=4)
    assert detail == "Password has been reset with the new password."
    assert calls == [alice.version, alice.version + 1]
    assert _alice(users).token_generation == 1 and _alice(users).avatar == "https://a.example/x.png"
    assert accounts.obtain_tokens(users, POLICY, username="alice", password=NEW, rounds=4)
