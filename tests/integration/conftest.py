"""Integration fixtures: a fresh moto mock per test, tables created from the pynamodb models."""

from __future__ import annotations

import pytest
from moto import mock_aws

import app as app_module
from chalicelib.domain import Role
from chalicelib.persistence.admin import create_tables
from chalicelib.persistence.users import DynamoUserRepository
from chalicelib.services import accounts
from tests.support.api import Api

PASSWORD = "vivid-otter-92-lamp"


@pytest.fixture
def aws():
    # The models' cached DynamoDB clients are kept across tests: moto intercepts every botocore client while
    # a mock is active, and creating them anew (about 0.2 s each) would dominate the suite's time.
    with mock_aws():
        create_tables(wait=False)
        yield


@pytest.fixture
def api(aws):
    return Api(app_module.app)


@pytest.fixture
def make_user(aws):
    """Create an account directly (roles are not self-service) and return it."""

    def make(username: str, role: Role = Role.USER, staff: bool = False, email: str | None = None):
        return accounts.create_user(
            DynamoUserRepository(),
            username=username,
            email=email if email is not None else f"{username}@example.com",
            password=PASSWORD,
            rounds=4,
            role=role,
            is_staff=staff,
        )

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
