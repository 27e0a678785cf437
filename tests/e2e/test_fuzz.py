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
        extra_env={"BCRYPT_ROUNDS": "4", "ACCESS_TOKEN_SECONDS": "3600"},
        quiet=True,
    )
    stack.start()
    try:
        reply = requests.post(f"{stack.url}/api/token/", json={"username": "admin", "password": "password"}, timeout=10)
        yield stack.url, {"Authorization": f"Bearer {reply.json()['access']}"}
    finally:
        stack.stop()


@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_survives_fuzzing_and_answers_as_documented(case, fuzzed):
    base_url, auth = fuzzed
    case.call_and_validate(base_url=base_url, headers=auth, checks=CHECKS)
