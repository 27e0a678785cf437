"""The private internals of libraries the project relies on, each used in one module only and pinned here: an
upgrade that changes one fails here, naming the module to update, rather than everywhere at once (`make run`,
every integration test, `manage.py createtables`)."""

from __future__ import annotations

import inspect
import re
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# library -> (its pinned version, the one module allowed to use its private names, those names)
SEAMS = {
    "chalice": ("1.34.0", "devstack/gateway.py", ("_generate_lambda_event", "_generate_lambda_context", "_app_object")),
    "botocore": ("1.44.8", "tests/support/faults.py", ("_make_api_call",)),
    "pynamodb": (
        "6.1.0",
        "chalicelib/persistence/pynamodb_private.py",
        ("_get_connection", "_get_schema", "_ttl_attribute"),
    ),
}


@pytest.mark.parametrize("library", SEAMS)
def test_each_librarys_private_names_are_used_in_one_module_only(library):
    _, allowed, names = SEAMS[library]
    pattern = re.compile(r"\.(" + "|".join(map(re.escape, names)) + r")\b")
    users = set()
    for folder in ("chalicelib", "devstack", "bench", "deploy", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative != "tests/unit/test_library_seams.py" and pattern.search(path.read_text()):
                users.add(relative)
    for path in (ROOT / "manage.py", ROOT / "app.py"):
        if path.exists() and pattern.search(path.read_text()):  # `make mutants` copies only part of the tree
            users.add(path.name)
    assert users == {allowed}


def test_chalices_local_gateway_still_has_what_devstack_gateway_uses():
    from chalice.local import LocalGateway

    assert version("chalice") == SEAMS["chalice"][0], "chalice changed: check devstack/gateway.py, then this pin"
    assert list(inspect.signature(LocalGateway._generate_lambda_event).parameters) == [
        "self",
        "method",
        "path",
        "headers",
        "body",
    ]
    assert list(inspect.signature(LocalGateway._generate_lambda_context).parameters) == ["self"]
    assert "_app_object" in inspect.getsource(LocalGateway.__init__)


def test_botocores_client_still_makes_its_calls_where_tests_support_faults_intercepts_them():
    from botocore.client import BaseClient

    assert version("botocore") == SEAMS["botocore"][0], "botocore changed: check tests/support/faults.py, then this pin"
    assert list(inspect.signature(BaseClient._make_api_call).parameters) == ["self", "operation_name", "api_params"]


def test_pynamodbs_private_api_still_has_what_persistence_pynamodb_private_uses():
    from pynamodb.connection.base import Connection
    from pynamodb.models import Model

    assert version("pynamodb") == SEAMS["pynamodb"][0], "pynamodb changed: check persistence/pynamodb_private.py"
    assert callable(Model._get_connection) and callable(Model._get_schema) and callable(Model._ttl_attribute)
    assert isinstance(Connection.__dict__["client"], property)


def test_pynamodb_connections_take_the_shared_botocore_session(monkeypatch):
    """Each table's connection used to make a botocore session of its own (its data files read again: about
    0.1 s a table); share_sessions replaces the name pynamodb's connections call for one."""
    import threading

    from pynamodb.connection import base

    from chalicelib.persistence.pynamodb_private import share_sessions

    monkeypatch.setattr(base, "get_session", base.get_session)  # put back after the test
    share_sessions()
    first, second = base.Connection(region="us-east-1"), base.Connection(region="eu-west-1")
    assert first.session is second.session
    elsewhere = []
    thread = threading.Thread(target=lambda: elsewhere.append(base.Connection(region="us-east-1").session))
    thread.start()
    thread.join()
    assert elsewhere[0] is not first.session  # one per thread
    assert (first.client.meta.region_name, second.client.meta.region_name) == ("us-east-1", "eu-west-1")
