"""The lean cold path: a fresh process that imports the Lambda entry and serves the public reads loads none of
the libraries only other routes need (checked in sys.modules, never by timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import requests

from devstack.stack import LocalStack
from tests.support.stack import bearer, token

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pydantic", "jwt", "cryptography", "bcrypt")
# The project's own code that only other routes run: a public read loads none of it (each module costs its
# import, and each of its dataclasses about a millisecond, at every cold start).
OTHER_ROUTES = (
    "chalicelib.services.accounts",
    "chalicelib.services.credentials",
    "chalicelib.services.bookings",
    "chalicelib.services.payments",
    "chalicelib.services.settlement",
    "chalicelib.services.admin",
    "chalicelib.services.uploads",
    "chalicelib.services.throttling",
    "chalicelib.persistence.users",
    "chalicelib.persistence.models.users",
    "chalicelib.persistence.models.bookings",
    "chalicelib.domain.audit",
    "chalicelib.persistence.bookings",
    "chalicelib.persistence.tokens",
    "chalicelib.persistence.audit",
    "chalicelib.persistence.uploads",
    "chalicelib.domain.bookings",
    "chalicelib.domain.users",
    "chalicelib.domain.uploads",
    "chalicelib.ports.bookings",
    "chalicelib.ports.payments",
    "chalicelib.ports.users",
    "chalicelib.ports.tokens",
    "chalicelib.ports.uploads",
    "chalicelib.adapters.stripe_payments",
    "chalicelib.adapters.mail",
)

SERVE = """
import json, sys
before = set(sys.modules)
import app

def event(path, resource, params=None, headers=None):
    return {
        "resource": resource, "path": path, "httpMethod": "GET", "headers": headers or {"Host": "test"},
        "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": params, "stageVariables": None, "body": None, "isBase64Encoded": False,
        "requestContext": {"resourcePath": resource, "httpMethod": "GET", "path": path, "requestId": "cold",
                           "domainName": "test", "stage": "v1"},
    }

class Context:
    aws_request_id = "cold"; function_name = "api"; memory_limit_in_mb = 1024
    def get_remaining_time_in_millis(self): return 15000

requests = json.loads(sys.argv[1])
statuses = [app.app(event(*r), Context())["statusCode"] for r in requests]
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[2].split(",")))
other = sorted((set(sys.modules) - before) & set(sys.argv[3].split(",")))
import gc
collector = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count() > 1000}
print(json.dumps({"statuses": statuses, "heavy": heavy, "other": other, "gc": collector}))
"""


def _serve(stack: LocalStack, requests_: list[list[object]]) -> dict[str, object]:
    env = {**stack.environment(), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", SERVE, json.dumps(requests_), ",".join(HEAVY), ",".join(OTHER_ROUTES)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_public_reads_load_no_validation_token_or_hashing_library_nor_other_routes_code(
    stack: LocalStack, base: str
) -> None:
    event_id = requests.get(f"{base}/api/events/", timeout=10).json()["results"][0]["id"]
    served = _serve(
        stack,
        [
            ["/health/", "/health"],
            ["/api/events/", "/api/events"],
            [f"/api/events/{event_id}/", "/api/events/{event_id}", {"event_id": event_id}],
        ],
    )
    # The objects the import made are out of the collector's reach, and it collects what requests make.
    gc = {"enabled": True, "frozen": True}
    assert served == {"statuses": [200, 200, 200], "heavy": [], "other": [], "gc": gc}


def test_the_guard_sees_a_heavy_import_when_one_happens(stack: LocalStack, base: str) -> None:
    # An event's detail asked with a token verifies it: PyJWT is loaded, and the check above would notice.
    access = token(base, "user")
    event_id = requests.get(f"{base}/api/events/", timeout=10).json()["results"][0]["id"]
    served = _serve(
        stack,
        [[f"/api/events/{event_id}/", "/api/events/{event_id}", {"event_id": event_id}, bearer(access)]],
    )
    assert served["statuses"] == [200]
    assert "jwt" in served["heavy"]  # type: ignore[operator]
    # ...and so would the other: verifying the token reads the caller's account.
    assert served["other"] == [
        "chalicelib.domain.users",
        "chalicelib.persistence.models.users",
        "chalicelib.persistence.users",
    ]


# What only the handlers run: the authorizer function reads the route table (security/route_table.py), never this.
HANDLERS_ONLY = tuple(
    m
    for m in OTHER_ROUTES
    if m not in ("chalicelib.domain.users", "chalicelib.persistence.users", "chalicelib.persistence.models.users")
) + (
    "chalicelib.services.events",
    "chalicelib.persistence.events",
    "chalicelib.persistence.models.events",
    "chalicelib.domain.events",
)

AUTHORIZE = """
import json, sys
import importlib.abc

class LayerOnly(importlib.abc.MetaPathFinder):
    # The Lambda layer holds requirements.txt only, without cryptography, which this virtualenv has for moto and
    # which PyJWT loads when present (and which loads bcrypt in turn).
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "cryptography":
            raise ModuleNotFoundError(name)

sys.meta_path.insert(0, LayerOnly())
# Deployed, the authorizer is its own Lambda function whose handler is this module (see the packaged template),
# so a fresh process imports exactly that, not app.py.
from chalicelib.http.authorizer import jwt_authorizer

class Context:
    aws_request_id = "cold"; function_name = "authorizer"; memory_limit_in_mb = 512
    def get_remaining_time_in_millis(self): return 15000

arn = "arn:aws:execute-api:us-east-1:123456789012:abcdef/v1/GET/api/me"
policy = jwt_authorizer({"type": "TOKEN", "authorizationToken": sys.argv[1], "methodArn": arn}, Context())
heavy = sorted({name.split(".")[0] for name in sys.modules} & {"pydantic", "bcrypt"})
other = sorted(set(sys.modules) & set(sys.argv[2].split(",")))
blueprints = sorted(m for m in sys.modules if m.startswith("chalicelib.http.") and m.rsplit(".", 1)[1] in (
    "application", "accounts", "admin", "bookings", "events", "me", "payments", "uploads", "docs", "console"))
print(json.dumps({"policy": policy, "heavy": heavy, "other": other, "blueprints": blueprints}))
"""


def test_the_authorizer_function_alone_knows_every_route_and_reads_the_stages_users(stack: LocalStack, base: str):
    access = token(base, "creator_user")
    me = requests.get(f"{base}/api/me/", headers=bearer(access), timeout=10).json()
    env = {**stack.environment(), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", AUTHORIZE, f"Bearer {access}", ",".join(HANDLERS_ONLY)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["heavy"] == []  # no pydantic, no bcrypt: only what verifying a token and reading a user need
    assert answer["other"] == []  # it knows every route but runs none of them
    assert answer["blueprints"] == []  # from the route table: it imports no route's module, and not the app
    policy = answer["policy"]
    assert policy["principalId"] == me["id"]
    assert policy["context"]["role"] == "CREATOR"
    resources = policy["policyDocument"]["Statement"][0]["Resource"]
    prefix = "arn:aws:execute-api:us-east-1:123456789012:abcdef/v1"
    for route in ("GET/api/me", "POST/api/events", "PATCH/api/events/*", "GET/api/events/*/bookings"):
        assert f"{prefix}/{route}" in resources, route


INIT = """
import json, sys
import app
print(json.dumps({
    "sdk_loaded": "botocore.session" in sys.modules and "pynamodb.models" in sys.modules,
    "tables_loaded": sorted(m for m in sys.modules if m.startswith("chalicelib.persistence.models.")),
    "clients": [m for m in ("chalicelib.persistence.connection",) if m in sys.modules],
}))
"""


def test_the_sdk_loads_at_init_and_no_table_or_client_before_a_request(stack: LocalStack) -> None:
    # Loading botocore inside the first request, deep in its call stack, made CPython map and unmap a frame-stack
    # chunk some 1,600 times (see persistence/models/__init__.py); no AWS client is made at import all the same.
    env = {**stack.environment(), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", INIT], cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "sdk_loaded": True,
        "tables_loaded": [],
        "clients": [],
    }
