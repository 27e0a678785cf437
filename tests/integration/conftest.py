"""Integration fixtures: a fresh moto mock per test, tables created from the pynamodb models."""

from __future__ import annotations

import importlib

import boto3
import pytest
from moto import mock_aws

import app as app_module
from chalicelib import bootstrap
from chalicelib.domain.enums import Role
from chalicelib.persistence.admin import create_tables
from chalicelib.services import accounts
from tests.support.api import Api

PASSWORD = "vivid-otter-92-lamp"

# Modules that import `utcnow` by name bind whatever `common.utcnow` is when they are first imported. Imported
# here, before any test fixes the time by patching it: a test that did so first in its process (the calendar
# tests do) left its fixed time in them for the tests after it (a hold dated 2030 that the payment stand-in
# then refused).
for _module in ("accounts", "audit", "bookings", "events", "mail_feedback", "payments", "settlement", "uploads"):
    importlib.import_module(f"chalicelib.services.{_module}")


@pytest.fixture(scope="package")
def local_aws():
    """One moto for the package, its tables created once (creating nine tables with their indexes took most of
    the suite's time when each test had its own)."""
    # The models' cached DynamoDB clients are kept across tests: moto intercepts every botocore client while
    # a mock is active, and creating them anew (about 0.2 s each) would dominate the suite's time.
    with mock_aws():
        create_tables(wait=False)
        yield


@pytest.fixture
def aws(local_aws):
    """Every test starts from empty tables and no bucket, as if its moto were new."""
    _empty_tables()
    _delete_buckets()
    yield


def _empty_tables() -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    for name in client.list_tables()["TableNames"]:
        keys = [k["AttributeName"] for k in client.describe_table(TableName=name)["Table"]["KeySchema"]]
        doomed = []
        names = {f"#k{i}": key for i, key in enumerate(keys)}  # `key` is a reserved word
        scan = client.get_paginator("scan").paginate(
            TableName=name, ProjectionExpression=", ".join(names), ExpressionAttributeNames=names
        )
        for page in scan:
            doomed += [{"DeleteRequest": {"Key": item}} for item in page["Items"]]
        for start in range(0, len(doomed), 25):
            client.batch_write_item(RequestItems={name: doomed[start : start + 25]})


def _delete_buckets() -> None:
    client = boto3.client("s3", region_name="us-east-1")
    for bucket in client.list_buckets()["Buckets"]:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if objects:
                client.delete_objects(Bucket=bucket["Name"], Delete={"Objects": objects})
        client.delete_bucket(Bucket=bucket["Name"])


@pytest.fixture
def api(aws):
    return Api(app_module.app)


@pytest.fixture
def make_user(aws):
    """Create an account directly (roles are not self-service) and return it."""

    def make(username: str, role: Role = Role.USER, staff: bool = False, email: str | None = None):
        return accounts.create_user(
            bootstrap.users(),
            username=username,
            email=email if email is not None else f"{username}@example.com",
            password=PASSWORD,
            rounds=4,
            role=role,
            is_staff=staff,
        )

    return make


@pytest.fixture
def users(api, make_user):
    """`users(n)`: n new USER accounts, their access tokens."""

    def make(n, prefix="booker"):
        return [(make_user(f"{prefix}{i}"), api.token(f"{prefix}{i}", PASSWORD))[1] for i in range(n)]

    return make


@pytest.fixture
def creator_token(api, make_user):
    make_user("creator_user", Role.CREATOR)
    return api.token("creator_user", PASSWORD)


@pytest.fixture
def user_token(api, make_user):
    make_user("user")
    return api.token("user", PASSWORD)


@pytest.fixture
def staff_token(api, make_user):
    make_user("admin", staff=True)
    return api.token("admin", PASSWORD)


class Mailbox:
    """The .eml files the local mail adapter wrote, oldest first."""

    def __init__(self, folder) -> None:
        self.folder = folder

    def messages(self) -> list:
        import email
        import email.policy

        paths = sorted(self.folder.glob("*.eml")) if self.folder.exists() else []
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in paths]


@pytest.fixture
def mailbox(tmp_path, monkeypatch) -> Mailbox:
    """Outgoing e-mail written as .eml files into a folder of this test (the local stage's adapter)."""
    from chalicelib import bootstrap
    from chalicelib.adapters.mail import FolderMailer

    folder = tmp_path / "mail"
    mailer = FolderMailer(folder, "no-reply@sessions.localhost")
    monkeypatch.setattr(bootstrap, "mailer", lambda: mailer)
    return Mailbox(folder)


@pytest.fixture
def rate_limits(monkeypatch):
    """Set some of the stage's rate limits for this test: `rate_limits(sign_in_ip="3/15m")`."""

    from chalicelib import bootstrap
    from chalicelib.settings import get_settings, parse_rate

    def set_limits(**rates: str) -> None:
        settings = get_settings()
        limits = settings.rate_limits._replace(**{name: parse_rate(rate) for name, rate in rates.items()})
        changed = settings._replace(rate_limits=limits)
        monkeypatch.setattr(bootstrap, "get_settings", lambda: changed)

    return set_limits


@pytest.fixture
def source_ip(monkeypatch):
    """Make the gateway report requests as coming from another address: `source_ip("203.0.113.7")`."""
    from chalice.local import LambdaEventConverter

    def use(address: str) -> None:
        monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", address)

    return use


@pytest.fixture
def paid_event(api, creator_token):
    """`paid_event(**fields)`: a published event by creator_user at 12.50 USD, for 2 unless told."""

    def make(**fields):
        body = {"title": "Paid session", "description": "D", "price": "12.50", "capacity": 2, **fields}
        reply = api.post("/api/events/", body, token=creator_token)
        assert reply.status == 201, reply.json
        return reply.json

    return make


@pytest.fixture
def checkout(api, monkeypatch):
    """Stripe's local stand-in, the app pointed at it; its webhook events wait for `checkout.deliver()`."""
    from tests.support.payments import local_checkout

    with local_checkout(api, monkeypatch) as local:
        yield local
