"""Notifications over HTTP against the local stack (the code behind `make run`): each committed change reaches
the mail folder once, through the tables' streams and the notifier; a write that rolled back tells nobody; a
notifier killed between a commit and its message sends it once it runs again."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import requests

from tests.support.mail_folder import mails, wait_for
from tests.support.stack import bearer, sign_up, token

PASSWORD = "vivid-otter-92-lamp"


def _mails(stack, address: str, about: str = "") -> list:
    return mails(stack.data_dir.parent / "mail", address, about)


def _wait_for(stack, address: str, about: str, count: int = 1) -> list:
    return wait_for(stack.data_dir.parent / "mail", address, about, count)


def _event(base: str, title: str, capacity: int = 10, starts_in: timedelta = timedelta(days=7)) -> dict:
    creator = token(base, "creator_user")
    starts = (datetime.now(UTC) + starts_in).replace(microsecond=0)
    body = {
        "title": title,
        "description": "Partition keys, indexes and transactions.",
        "starts_at": starts.isoformat().replace("+00:00", "Z"),
        "ends_at": (starts + timedelta(hours=2)).isoformat().replace("+00:00", "Z"),
        "timezone": "Europe/Paris",
        "capacity": capacity,
        "location": "Room 4",
    }
    created = requests.post(f"{base}/api/events/", json=body, headers=bearer(creator), timeout=30)
    assert created.status_code == 201, created.text
    return created.json()


def _book(base: str, access: str, event_id: str) -> requests.Response:
    return requests.post(f"{base}/api/events/{event_id}/bookings/", json={}, headers=bearer(access), timeout=30)


def test_booking_a_free_event_as_user_mails_a_confirmation_with_the_event_in_a_calendar(base, stack):
    event = _event(base, "Notified: DynamoDB modelling")
    reply = _book(base, token(base, "user"), event["id"])
    assert reply.status_code == 201, reply.text
    [message] = _wait_for(stack, "user@example.com", "Notified: DynamoDB modelling")
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename().endswith(".ics")
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    [vevent] = calendar.walk("VEVENT")
    assert str(vevent["UID"]) == f"{event['id']}@sessions-marketplace"
    starts = datetime.fromisoformat(event["starts_at"].replace("Z", "+00:00"))
    assert vevent.decoded("DTSTART").astimezone(UTC) == starts
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None


def test_a_booking_that_rolled_back_tells_nobody(base, stack):
    full = _event(base, "Notified: the full one", capacity=1)
    other = _event(base, "Notified: the next one")
    first, second = sign_up(base, "notified_first", PASSWORD), sign_up(base, "notified_second", PASSWORD)
    assert _book(base, first, full["id"]).status_code == 201
    refused = _book(base, second, full["id"])  # full: joins the waitlist, or is refused; either is told once
    assert _book(base, second, other["id"]).status_code == 201
    # The streams are read in order: once the later booking's message is there, the earlier change was read.
    _wait_for(stack, "notified_second@example.com", "the next one")
    about_full = _mails(stack, "notified_second@example.com", "the full one")
    if refused.status_code == 201:
        assert refused.json()["status"] == "waitlisted"
        assert len(about_full) == 1
    else:
        assert about_full == []


def test_a_notifier_killed_between_a_commit_and_its_message_sends_it_once_when_it_runs_again(base, stack):
    event = _event(base, "Notified: after the crash")
    stack.notifier.kill()  # SIGKILL: nothing of it runs after this
    stack.notifier.wait()
    access = sign_up(base, "notified_crash", PASSWORD)
    assert _book(base, access, event["id"]).status_code == 201
    time.sleep(1)
    assert _mails(stack, "notified_crash@example.com", "after the crash") == []
    for _ in range(2):  # started, then killed and started again: still one message
        stack.notifier = subprocess.Popen(
            [sys.executable, "-m", "devstack.notifier", "--data-dir", str(stack.data_dir)],
            env=stack.environment(),
        )
        stack.processes.append(stack.notifier)
        _wait_for(stack, "notified_crash@example.com", "after the crash")
        stack.notifier.kill()
        stack.notifier.wait()
        stack.processes.remove(stack.notifier)
    stack.notifier = subprocess.Popen(
        [sys.executable, "-m", "devstack.notifier", "--data-dir", str(stack.data_dir)], env=stack.environment()
    )
    stack.processes.append(stack.notifier)
    event2 = _event(base, "Notified: after the restart")
    assert _book(base, access, event2["id"]).status_code == 201
    _wait_for(stack, "notified_crash@example.com", "after the restart")
    assert len(_mails(stack, "notified_crash@example.com", "after the crash")) == 1


def test_a_seat_is_reminded_a_day_before_and_an_edit_of_the_start_reminds_it_again(base, stack):
    event = _event(base, "Notified: starting soon", starts_in=timedelta(hours=3))
    access = sign_up(base, "notified_reminded", PASSWORD)
    assert _book(base, access, event["id"]).status_code == 201
    # The sweep (every 2 s in the tests' stack) marks the event; the notifier sends the reminder.
    [reminder] = _wait_for(stack, "notified_reminded@example.com", "Reminder: Notified: starting soon")
    assert reminder["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert reminder["List-Unsubscribe"].startswith(f"<{base}/api/unsubscribe?")
    later = (datetime.fromisoformat(event["starts_at"].replace("Z", "+00:00")) + timedelta(hours=1)).isoformat()
    creator = token(base, "creator_user")
    moved = requests.patch(
        f"{base}/api/events/{event['id']}/", json={"starts_at": later}, headers=bearer(creator), timeout=30
    )
    assert moved.status_code == 200, moved.text
    _wait_for(stack, "notified_reminded@example.com", "Event changed: Notified: starting soon")
    _wait_for(stack, "notified_reminded@example.com", "Reminder: Notified: starting soon", count=2)


def test_a_cancelled_seat_is_told_and_the_first_waiting_is_promoted_and_told(base, stack):
    event = _event(base, "Notified: one seat", capacity=1)
    holder, waiting = sign_up(base, "notified_holder", PASSWORD), sign_up(base, "notified_waiting", PASSWORD)
    seat = _book(base, holder, event["id"])
    assert seat.status_code == 201
    joined = requests.post(
        f"{base}/api/events/{event['id']}/bookings/", json={"waitlist": True}, headers=bearer(waiting), timeout=30
    )
    assert (joined.status_code, joined.json()["status"]) == (201, "waitlisted"), joined.text
    _wait_for(stack, "notified_waiting@example.com", "waitlist")
    cancelled = requests.post(f"{base}/api/bookings/{seat.json()['id']}/cancel/", headers=bearer(holder), timeout=30)
    assert cancelled.status_code == 200, cancelled.text
    [told] = _wait_for(stack, "notified_holder@example.com", "Booking cancelled: Notified: one seat")
    assert "Notified: one seat" in told.get_body(("plain",)).get_content()
    [promoted] = _wait_for(stack, "notified_waiting@example.com", "A seat is yours: Notified: one seat")
    assert [a.get_filename().endswith(".ics") for a in promoted.iter_attachments()] == [True]


def test_cancelling_an_event_tells_every_holder(base, stack):
    event = _event(base, "Notified: called off")
    names = ("notified_off_1", "notified_off_2")
    for name in names:
        assert _book(base, sign_up(base, name, PASSWORD), event["id"]).status_code == 201
    creator = token(base, "creator_user")
    reply = requests.patch(
        f"{base}/api/events/{event['id']}/", json={"status": "cancelled"}, headers=bearer(creator), timeout=30
    )
    assert reply.status_code == 200, reply.text
    for name in names:  # settled booking by booking by the sweep, each holder told once
        [message] = _wait_for(stack, f"{name}@example.com", "Event cancelled: Notified: called off")
        assert message["To"] == f"{name}@example.com"


def test_a_creator_gets_the_days_digest_once_from_manage_py(base, stack):
    day = datetime.now(UTC).date()
    env = stack.environment()
    root = Path(__file__).resolve().parents[2]
    sign_up(base, "notified_maker", PASSWORD)
    made_creator = subprocess.run(
        [sys.executable, "manage.py", "setrole", "notified_maker", "CREATOR"], cwd=root, env=env, capture_output=True
    )
    assert made_creator.returncode == 0, made_creator.stderr
    maker = token(base, "notified_maker", PASSWORD)  # a token of the new role
    starts = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    body = {"title": "Notified: the digest", "description": "Counted for its creator.", "starts_at": starts}
    created = requests.post(f"{base}/api/events/", json={**body, "capacity": 5}, headers=bearer(maker), timeout=30)
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]
    stays, leaves = sign_up(base, "notified_stays", PASSWORD), sign_up(base, "notified_leaves", PASSWORD)
    assert _book(base, stays, event_id).status_code == 201
    seat = _book(base, leaves, event_id)
    assert seat.status_code == 201
    cancelled = requests.post(f"{base}/api/bookings/{seat.json()['id']}/cancel/", headers=bearer(leaves), timeout=30)
    assert cancelled.status_code == 200, cancelled.text
    # The notifier records a change before it sends its message: once these are here, the book has all three.
    _wait_for(stack, "notified_stays@example.com", "Booking confirmed: Notified: the digest")
    _wait_for(stack, "notified_leaves@example.com", "Booking cancelled: Notified: the digest")
    if datetime.now(UTC).date() != day:
        pytest.skip("UTC midnight passed during the test: its changes are in two days' digests")
    tomorrow = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=8)
    command = [sys.executable, "manage.py", "send-digests", "--now", tomorrow.isoformat()]
    first = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    run = json.loads(first.stdout.splitlines()[-1])
    # Other tests' creators had bookings today too (the seed's has no address): only this one is known here.
    assert (run["day"], run["failed"], run["stopped"], run["done"]) == (day.isoformat(), 0, False, True)
    assert run["sent"] >= 1
    # Both seats are the day's new bookings; one of them was cancelled the same day.
    [digest] = _mails(stack, "notified_maker@example.com", "Your daily digest")
    assert digest["Subject"] == "Your daily digest: 2 new bookings, 1 cancellation"
    text = digest.get_body(("plain",)).get_content()
    assert f"/dashboard/events/{event_id}/attendees>: +2 booked, \u22121 cancelled (1 of 5 seats booked)" in text
    again = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.splitlines()[-1]) == {  # the day is done: only its mark was read
        "day": day.isoformat(),
        "sent": 0,
        "not_sent": 0,
        "failed": 0,
        "stopped": False,
        "done": True,
    }
    assert len(_mails(stack, "notified_maker@example.com", "Your daily digest")) == 1


def test_the_lists_show_a_booking_once_the_notifier_copied_its_seats_and_nobody_is_told_of_the_copy(base, stack):
    event = _event(base, "Notified: the copied seats", capacity=3)
    creator = token(base, "creator_user")
    booker = sign_up(base, "notified_copied", PASSWORD)
    assert _book(base, booker, event["id"]).status_code == 201
    # The event's own answer reads its counters: at once.
    assert requests.get(f"{base}/api/events/{event['id']}/", timeout=30).json()["seats_booked"] == 1

    def listed() -> list[int]:
        mine = requests.get(f"{base}/api/me/events/", params={"limit": 10}, headers=bearer(creator), timeout=30)
        assert mine.status_code == 200, mine.text
        return [e["seats_booked"] for e in mine.json()["results"] if e["id"] == event["id"]]

    deadline = time.monotonic() + 30
    while listed() != [1] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert listed() == [1]
    _wait_for(stack, "notified_copied@example.com", "Booking confirmed: Notified: the copied seats")
    # The copy changed the event's item (its stream carried it to the notifier) but none of its fields: the
    # booker got the confirmation and nothing about an event change.
    time.sleep(2)
    assert [m["subject"] for m in _mails(stack, "notified_copied@example.com")] == [
        "Booking confirmed: Notified: the copied seats"
    ]
