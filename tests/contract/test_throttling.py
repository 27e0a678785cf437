"""Counters (ports.throttling): all-or-none takes, windows opening at their first use, and the lease a password
check holds on its counter (persistence.counters)."""

from __future__ import annotations

import pytest

from chalicelib.domain.limits import Rate
from chalicelib.ids import new_id
from chalicelib.ports.throttling import Quota, QuotaExceeded, Verdict, Window

NOW = 1_000_000


def quota(count=2, seconds=60):
    return Quota(key=f"test#{new_id()}", rate=Rate(count, seconds))


def windows(world, *quotas, now=NOW):
    return world.counters.peek([q.key for q in quotas], now)


def exceeded(call):
    with pytest.raises(QuotaExceeded) as caught:
        call()
    return caught.value.retry_after


def test_take_counts_in_a_window_opened_at_the_first_use(world):
    q = quota(count=2, seconds=60)
    assert windows(world, q) == {}
    world.counters.take([q], NOW)
    world.counters.take([q], NOW + 10)
    assert windows(world, q, now=NOW + 10) == {q.key: Window(hits=2, ends=NOW + 60)}
    assert exceeded(lambda: world.counters.take([q], NOW + 45)) == 15
    assert windows(world, q, now=NOW + 45) == {q.key: Window(hits=2, ends=NOW + 60)}
    world.counters.take([q], NOW + 60)  # the window ended: a new one opens
    assert windows(world, q, now=NOW + 60) == {q.key: Window(hits=1, ends=NOW + 120)}


def test_take_is_all_or_none(world):
    free, full, untouched = quota(count=5), quota(count=1, seconds=30), quota()
    world.counters.take([full], NOW)
    assert exceeded(lambda: world.counters.take([free, full, untouched], NOW + 10)) == 20
    # Nothing counted; the window that use of `free` opened stays open, its use given back.
    assert windows(world, free, full, untouched, now=NOW + 10) == {
        full.key: Window(1, NOW + 30),
        free.key: Window(0, NOW + 70),
    }
    world.counters.take([free, untouched], NOW + 20)
    assert windows(world, free, untouched, now=NOW + 20) == {
        free.key: Window(1, NOW + 70),
        untouched.key: Window(1, NOW + 80),
    }


def test_give_back_uncounts_in_open_windows_only(world):
    q, ended = quota(count=2, seconds=60), quota(count=2, seconds=10)
    world.counters.take([q, ended], NOW)
    world.counters.take([q], NOW)
    world.counters.give_back([q, ended], NOW + 20)
    assert windows(world, q, ended, now=NOW + 20) == {q.key: Window(1, NOW + 60)}
    world.counters.give_back([q], NOW + 20)
    world.counters.give_back([q, quota()], NOW + 20)  # nothing below zero, nothing made
    assert windows(world, q, now=NOW + 20) == {q.key: Window(0, NOW + 60)}
    world.counters.take([ended], NOW + 20)
    assert windows(world, ended, now=NOW + 20) == {ended.key: Window(1, NOW + 30)}


def test_count_counts_whatever_room_is_left(world):
    q = quota(count=1, seconds=60)
    for seconds in (0, 5, 10):
        world.counters.count([q], NOW + seconds)
    assert windows(world, q, now=NOW + 10) == {q.key: Window(3, NOW + 60)}
    world.counters.count([q], NOW + 60)
    assert windows(world, q, now=NOW + 60) == {q.key: Window(1, NOW + 120)}


def test_a_mark_is_an_open_window_for_its_time(world):
    key = f"known#{new_id()}"
    world.counters.mark(key, 300, NOW)
    assert world.counters.peek([key, "absent"], NOW + 299) == {key: Window(1, NOW + 300)}
    assert world.counters.peek([key], NOW + 300) == {}
    assert world.counters.peek([], NOW) == {}


# leases


def test_one_attempt_at_a_time_holds_the_counter(world):
    q = quota(count=3, seconds=60)
    world.counters.lease(q, NOW + 5, NOW)
    assert windows(world, q) == {q.key: Window(0, NOW + 60)}  # a new counter's window opens with its lease
    assert exceeded(lambda: world.counters.lease(q, NOW + 7, NOW + 2)) == 3
    world.counters.lease(q, NOW + 10, NOW + 5)  # the first lapsed: another attempt takes it
    assert exceeded(lambda: world.counters.lease(q, NOW + 12, NOW + 6)) == 4


def test_a_used_up_window_refuses_a_lease_until_it_ends(world):
    q = quota(count=1, seconds=60)
    world.counters.count([q], NOW)
    assert exceeded(lambda: world.counters.lease(q, NOW + 15, NOW + 10)) == 50
    world.counters.lease(q, NOW + 65, NOW + 60)


def test_a_lease_on_an_ended_window_opens_none(world):
    q = quota(count=1, seconds=60)
    world.counters.count([q], NOW)
    world.counters.lease(q, NOW + 75, NOW + 70)
    assert windows(world, q, now=NOW + 70) == {}  # a lease is no use: the next window opens at one
    world.counters.release(q, NOW + 75, Verdict.FAILED, NOW + 72)
    assert windows(world, q, now=NOW + 72) == {q.key: Window(1, NOW + 132)}


def test_release_failed_counts_one_use_and_frees_the_counter(world):
    q = quota(count=2, seconds=60)
    world.counters.lease(q, NOW + 5, NOW)
    world.counters.release(q, NOW + 5, Verdict.FAILED, NOW + 1)
    assert windows(world, q, now=NOW + 1) == {q.key: Window(1, NOW + 60)}
    world.counters.lease(q, NOW + 7, NOW + 2)
    world.counters.release(q, NOW + 7, Verdict.FAILED, NOW + 3)
    assert windows(world, q, now=NOW + 3) == {q.key: Window(2, NOW + 60)}
    assert exceeded(lambda: world.counters.lease(q, NOW + 9, NOW + 4)) == 56


def test_release_succeeded_clears_the_counter(world):
    q = quota(count=3, seconds=60)
    world.counters.count([q], NOW)
    world.counters.lease(q, NOW + 5, NOW)
    world.counters.release(q, NOW + 5, Verdict.SUCCEEDED, NOW + 1)
    assert windows(world, q, now=NOW + 1) == {}
    world.counters.lease(q, NOW + 6, NOW + 2)  # free at once


def test_release_undecided_leaves_the_count_and_frees_the_counter(world):
    q = quota(count=3, seconds=60)
    world.counters.count([q], NOW)
    world.counters.lease(q, NOW + 5, NOW)
    world.counters.release(q, NOW + 5, Verdict.UNDECIDED, NOW + 1)
    assert windows(world, q, now=NOW + 1) == {q.key: Window(1, NOW + 60)}
    world.counters.lease(q, NOW + 6, NOW + 2)


def test_a_lapsed_lease_taken_by_another_attempt_is_theirs(world):
    q = quota(count=5, seconds=60)
    world.counters.lease(q, NOW + 5, NOW)
    world.counters.lease(q, NOW + 20, NOW + 10)  # ours lapsed: another attempt holds the counter
    world.counters.release(q, NOW + 5, Verdict.FAILED, NOW + 11)  # the failure counts all the same
    assert windows(world, q, now=NOW + 11) == {q.key: Window(1, NOW + 60)}
    assert exceeded(lambda: world.counters.lease(q, NOW + 25, NOW + 12)) == 8  # still theirs
    world.counters.release(q, NOW + 5, Verdict.SUCCEEDED, NOW + 13)  # clears nothing of theirs
    world.counters.release(q, NOW + 5, Verdict.UNDECIDED, NOW + 13)
    assert windows(world, q, now=NOW + 13) == {q.key: Window(1, NOW + 60)}
    assert exceeded(lambda: world.counters.lease(q, NOW + 25, NOW + 14)) == 6
    world.counters.release(q, NOW + 20, Verdict.FAILED, NOW + 15)
    assert windows(world, q, now=NOW + 15) == {q.key: Window(2, NOW + 60)}
    world.counters.lease(q, NOW + 25, NOW + 16)


def test_a_lapsed_lease_nobody_took_is_still_released(world):
    q = quota(count=5, seconds=60)
    world.counters.lease(q, NOW + 5, NOW)
    world.counters.release(q, NOW + 5, Verdict.FAILED, NOW + 30)
    assert windows(world, q, now=NOW + 30) == {q.key: Window(1, NOW + 60)}
    world.counters.lease(q, NOW + 35, NOW + 31)
    world.counters.release(q, NOW + 35, Verdict.SUCCEEDED, NOW + 40)
    assert windows(world, q, now=NOW + 40) == {}


def test_take_and_count_leave_a_held_lease_alone(world):
    q = quota(count=5, seconds=60)
    world.counters.lease(q, NOW + 30, NOW)
    world.counters.take([q], NOW + 1)
    world.counters.count([q], NOW + 2)
    assert windows(world, q, now=NOW + 2) == {q.key: Window(2, NOW + 60)}
    assert exceeded(lambda: world.counters.lease(q, NOW + 40, NOW + 3)) == 27
