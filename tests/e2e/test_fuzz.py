"""Schema-driven fuzzing of every operation, over HTTP against the local stack, with schemathesis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import app  # noqa: F401 - declares the operations the document is built from
from chalicelib.http.openapi import openapi_document
from devstack.stack import LocalStack, free_port

schema = schemathesis.openapi.from_dict(openapi_document())
# Operations that revoke every token of their caller: fuzzed with a fresh sign-in of a user of their own per case,
# so that they cannot sign the shared staff token out from under the other operations.
SIGNING_OUT = r"^/api/me/(logout-all|password)/$"
REVOKER = {"username": "revoker", "email": "revoker@example.com", "password": "vivid-otter-92-lamp"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A stack of its own (fuzzing edits and deletes what it finds), and a staff token that outlives the run."""
    stack = LocalStack(
        port=free_port(),
        aws_port=free_port(),
        data_dir=tmp_path_factory.mktemp("fuzz-data"),
        # Fuzzed sign-ins and password changes fail all the time; locking the fuzzing users out would test nothing.
        extra_env={
            "BCRYPT_ROUNDS": "4",
            "ACCESS_TOKEN_SECONDS": "3600",
            "THROTTLE_SIGN_IN_USERNAME": "100000/15m",
            "THROTTLE_SIGN_IN_IP": "100000/15m",
        },
        quiet=True,
    )
    stack.start()
    try:
        assert requests.post(f"{stack.url}/api/register/", json=REVOKER, timeout=10).status_code == 201
        reply = requests.post(f"{stack.url}/api/token/", json={"username": "admin", "password": "password"}, timeout=10)
        yield stack.url, {"Authorization": f"Bearer {reply.json()['access']}"}
    finally:
        stack.stop()


@schema.exclude(path_regex=SIGNING_OUT).parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_survives_fuzzing_and_answers_as_documented(case, fuzzed):
    base_url, auth = fuzzed
    case.call_and_validate(base_url=base_url, headers=auth, checks=CHECKS)


@schema.include(path_regex=SIGNING_OUT).parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_operations_that_sign_their_caller_out_survive_fuzzing(case, fuzzed):
    base_url, _ = fuzzed
    credentials = {"username": REVOKER["username"], "password": REVOKER["password"]}
    access = requests.post(f"{base_url}/api/token/", json=credentials, timeout=10).json()["access"]
    case.call_and_validate(base_url=base_url, headers={"Authorization": f"Bearer {access}"}, checks=CHECKS)
