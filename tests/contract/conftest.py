"""Contract fixtures: every test here runs twice, against the in-memory fakes the service unit tests use
(tests/support/fakes.py) and against the DynamoDB adapters on moto, so that the fakes cannot drift from what
DynamoDB does.

The moto side creates its tables once per module (nine tables with their indexes are slow to make) and empties
them before each test, which therefore starts from an empty store on both sides."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from moto import mock_aws

from tests.support.fakes import (
    FakeAudit,
    FakeBookings,
    FakeCounters,
    FakeEvents,
    FakeEventSearch,
    FakeFamilies,
    FakeRecords,
    FakeResets,
    FakeUploads,
    FakeUsers,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chalicelib.ports.audit import AuditRepository
    from chalicelib.ports.bookings import BookingRepository, IdempotencyRepository
    from chalicelib.ports.events import EventRepository
    from chalicelib.ports.search import EventSearch
    from chalicelib.ports.throttling import Counters
    from chalicelib.ports.tokens import PasswordResets, RefreshFamilies
    from chalicelib.ports.uploads import UploadRepository
    from chalicelib.ports.users import UserRepository

IMPLEMENTATIONS = ("fake", "dynamo")


@dataclass
class World:
    """One implementation of every repository port, over one store."""

    kind: str
    events: EventRepository
    bookings: BookingRepository
    records: IdempotencyRepository
    users: UserRepository
    uploads: UploadRepository
    audit: AuditRepository
    counters: Counters
    families: RefreshFamilies
    resets: PasswordResets
    search: EventSearch


def fake_world() -> World:
    """The fakes, wired as the unit tests wire them: one audit log and one set of uploads for all."""
    audit, uploads = FakeAudit(), FakeUploads()
    users = FakeUsers(audit, uploads)
    events = FakeEvents(audit, uploads)
    bookings = FakeBookings(events)
    return World(
        "fake",
        events=events,
        bookings=bookings,
        records=FakeRecords(bookings),
        users=users,
        uploads=uploads,
        audit=audit,
        counters=FakeCounters(),
        families=FakeFamilies(),
        resets=FakeResets(users),
        search=FakeEventSearch(events),
    )


def dynamo_world() -> World:
    """The adapters the API uses (chalicelib.persistence), on the tables the module fixture made."""
    from chalicelib.persistence.audit import DynamoAuditRepository
    from chalicelib.persistence.bookings import DynamoBookingRepository, DynamoIdempotencyRepository
    from chalicelib.persistence.counters import DynamoCounters
    from chalicelib.persistence.events import DynamoEventRepository
    from chalicelib.persistence.search import DynamoEventSearch
    from chalicelib.persistence.tokens import DynamoPasswordResets, DynamoRefreshFamilies
    from chalicelib.persistence.uploads import DynamoUploadRepository
    from chalicelib.persistence.users import DynamoUserRepository

    events = DynamoEventRepository()
    return World(
        "dynamo",
        events=events,
        bookings=DynamoBookingRepository(),
        records=DynamoIdempotencyRepository(),
        users=DynamoUserRepository(),
        uploads=DynamoUploadRepository(),
        audit=DynamoAuditRepository(),
        counters=DynamoCounters(),
        families=DynamoRefreshFamilies(),
        resets=DynamoPasswordResets(),
        search=DynamoEventSearch(events),
    )


@pytest.fixture(scope="module")
def moto_tables() -> Iterator[None]:
    """The stage's tables on moto, for one module: bound as the app binds them (bootstrap.tables)."""
    from chalicelib.bootstrap import tables
    from chalicelib.persistence.admin import create_tables

    tables()
    with mock_aws():
        create_tables(wait=False)
        yield


def _empty_tables() -> None:
    """Delete every item of every table (a few dozen at most: a test's own)."""
    from chalicelib.persistence.models import all_models

    for model in all_models():
        items: list[Any] = list(model.scan())
        if items:
            with model.batch_write() as batch:
                for item in items:
                    batch.delete(item)


@pytest.fixture(params=IMPLEMENTATIONS)
def world(request: pytest.FixtureRequest) -> World:
    """An empty store, behind the fakes or behind DynamoDB."""
    if request.param == "fake":
        return fake_world()
    request.getfixturevalue("moto_tables")
    _empty_tables()
    return dynamo_world()
