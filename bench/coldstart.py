"""Cold starts side by side: this app, its floor, its authorizer and the original Django backend, each a fresh
process timed inside from its first import to its first response (what Lambda bills as init plus first invoke),
with its peak memory (ru_maxrss)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import original_backend

ROOT = Path(__file__).resolve().parent.parent
# Every child ends the same way, after its clock has stopped.
REPORT = """
elapsed = time.perf_counter() - started
import json, resource
print(json.dumps({"seconds": elapsed, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, **extra}))
"""

CONTEXT = """
class Context:
    aws_request_id = "bench"; function_name = "bench"; memory_limit_in_mb = 1024
    def get_remaining_time_in_millis(self): return 15000
"""

APP_INVOKE = (
    """
import time
started = time.perf_counter()
import app
event = {
    "resource": "/api/events", "path": "/api/events/", "httpMethod": "GET",
    "headers": {"Host": "bench"}, "multiValueHeaders": {}, "queryStringParameters": None,
    "multiValueQueryStringParameters": None, "pathParameters": None, "stageVariables": None, "body": None,
    "isBase64Encoded": False,
    "requestContext": {
        "resourcePath": "/api/events", "httpMethod": "GET", "path": "/v1/api/events/", "requestId": "bench",
    },
}
"""
    + CONTEXT
    + """
response = app.app(event, Context())
assert response["statusCode"] == 200, response
extra = {}
"""
)
COLD_APP = APP_INVOKE + REPORT

THIRD_PARTY_LISTING = """
import sys, sysconfig
before = set(sys.modules)
CODE
site = sysconfig.get_paths()["purelib"]
new = [(n, m) for n, m in list(sys.modules.items()) if n not in before]
loaded = [n for n, m in new if (getattr(m, "__file__", None) or "").startswith(site)]
print("MODULES " + " ".join(loaded))
"""

COLD_FLOOR = """
import time, importlib
started = time.perf_counter()
for name in {imports!r}:
    importlib.import_module(name)
import botocore.session
client = botocore.session.get_session().create_client("dynamodb")
client.query(TableName="{table}", IndexName="published-by-created", KeyConditionExpression="pub = :p",
             ExpressionAttributeValues={{":p": {{"S": "PUBLISHED"}}}}, Limit=21, ScanIndexForward=False)
extra = {{}}
""" + REPORT.replace("{", "{{").replace("}", "}}")

# The authorizer is its own Lambda function built from the same app.py. After importing app.py, the child
# resolves the handler string Chalice registered for it (what `chalice package` writes as the function's
# Handler) and calls it with a TOKEN event, as API Gateway does.
AUTHORIZER_EVENT = """
import os
event = {
    "type": "TOKEN", "authorizationToken": "Bearer " + os.environ["BENCH_ACCESS_TOKEN"],
    "methodArn": "arn:aws:execute-api:us-east-1:123456789012:bench/v1/GET/api/me/",
}
"""
COLD_AUTHORIZER = (
    """
import time
started = time.perf_counter()
import importlib
import app
config = next(a for a in app.app.builtin_auth_handlers if a.name == "jwt_authorizer")
module, name = config.handler_string.rsplit(".", 1)
authorizer = getattr(importlib.import_module(module), name)
"""
    + AUTHORIZER_EVENT
    + CONTEXT
    + """
result = authorizer(event, Context())
assert result["principalId"] and result["policyDocument"]["Statement"][0]["Effect"] == "Allow", result
extra = {"handler": config.handler_string}
"""
    + REPORT
)

# What Lambda itself does with that Handler: import only its module (app.py is not loaded) and call it. Run
# once, to report whether the authorizer works as packaged; the answer must allow GET /api/me/.
PACKAGED_AUTHORIZER = (
    """
import time
started = time.perf_counter()
import importlib, os
module, name = os.environ["BENCH_AUTHORIZER_HANDLER"].rsplit(".", 1)
authorizer = getattr(importlib.import_module(module), name)
"""
    + AUTHORIZER_EVENT
    + CONTEXT
    + """
import json
try:
    result = authorizer(event, Context())
    resources = [r for s in result["policyDocument"]["Statement"] if s["Effect"] == "Allow" for r in s["Resource"]]
    failure = "" if any(r.endswith("/GET/api/me/") or r.endswith("/*/api/me/") for r in resources) else (
        "policy does not allow GET /api/me/: " + json.dumps(result["policyDocument"])[:200]
    )
except Exception as exc:
    failure = type(exc).__name__
extra = {"failure": failure}
"""
    + REPORT
)


@contextmanager
def local_stack() -> Iterator[tuple[dict[str, str], str]]:
    """The local stack (moto with tables and demo data, and the API); yields its environment and the API's URL."""
    from devstack.stack import LocalStack, free_port

    with tempfile.TemporaryDirectory() as data:
        stack = LocalStack(free_port(), free_port(), Path(data), extra_env={"BCRYPT_ROUNDS": "4"}, quiet=True)
        stack.start()
        try:
            yield stack.environment(), stack.url
        finally:
            stack.stop()


def _run(code: str, env: dict[str, str], python: str = sys.executable, cwd: Path = ROOT) -> dict[str, Any]:
    result = subprocess.run([python, "-c", code], cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"cold start child failed:\n{result.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def _access_token(api_url: str) -> str:
    # A fresh token per round: the access token lives 5 minutes and a slow run must not outlive it.
    import requests

    reply = requests.post(f"{api_url}/api/token/", json={"username": "user", "password": "password"}, timeout=30)
    reply.raise_for_status()
    return str(reply.json()["access"])


def _floor_code(env: dict[str, str]) -> str:
    """The floor imports exactly the third-party modules the app's cold start loads, so the difference is the
    project's own code and the standard-library modules only it needs."""
    listing = THIRD_PARTY_LISTING.replace("CODE", APP_INVOKE)
    listed = subprocess.run(
        [sys.executable, "-c", listing], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    modules = next(line for line in listed.stdout.splitlines() if line.startswith("MODULES ")).split()[1:]
    return COLD_FLOOR.format(imports=modules, table=env.get("EVENTS_TABLE", "sessions-local-events"))


def cold_start(pairs: int = 15) -> dict[str, Any]:
    """Medians over `pairs` rounds; in each round this app and the original run back to back, in alternating
    order so that neither always follows the other, then the floors and the authorizer."""
    with original_backend.prepared() as original_dir, local_stack() as (env, api_url):
        env = {**env, "PYTHONDONTWRITEBYTECODE": "0"}
        floor = _floor_code(env)
        original_python = str(original_backend.VENV_PYTHON)

        def original() -> dict[str, Any]:
            return _run(original_backend.COLD_ORIGINAL, env, original_python, original_dir)

        def authorizer() -> dict[str, Any]:
            return _run(COLD_AUTHORIZER, {**env, "BENCH_ACCESS_TOKEN": _access_token(api_url)})

        # One run of each first, to compile bytecode as the Lambda package would ship it.
        _run(COLD_APP, env)
        _run(floor, env)
        original()
        handler = authorizer()["handler"]
        # The irreducible part of any DynamoDB-backed cold start here: botocore, one client, one query.
        botocore_floor = COLD_FLOOR.format(imports=[], table=env.get("EVENTS_TABLE", "sessions-local-events"))
        _run(botocore_floor, env)
        samples: dict[str, list[dict[str, Any]]] = {
            "app": [],
            "original": [],
            "floor": [],
            "botocore": [],
            "authorizer": [],
        }
        for i in range(pairs):
            order = ("app", "original") if i % 2 == 0 else ("original", "app")
            for kind in order:
                samples[kind].append(_run(COLD_APP, env) if kind == "app" else original())
            samples["floor"].append(_run(floor, env))
            samples["botocore"].append(_run(botocore_floor, env))
            samples["authorizer"].append(authorizer())
        packaged = _run(
            PACKAGED_AUTHORIZER,
            {**env, "BENCH_ACCESS_TOKEN": _access_token(api_url), "BENCH_AUTHORIZER_HANDLER": handler},
        )
        reference = original_backend.check_reference(original_dir)

    def ms(kind: str) -> float:
        return statistics.median(s["seconds"] for s in samples[kind]) * 1000

    def mib(kind: str) -> float:
        return statistics.median(s["maxrss_kib"] for s in samples[kind]) / 1024

    diffs = [a["seconds"] - f["seconds"] for a, f in zip(samples["app"], samples["floor"], strict=True)]
    return {
        "pairs": pairs,
        **{f"{kind}_ms": ms(kind) for kind in samples},
        **{f"{kind}_mib": mib(kind) for kind in samples},
        "own_ms": statistics.median(diffs) * 1000,
        "handler": handler,
        "packaged_failure": packaged["failure"],
        "packaged_ms": packaged["seconds"] * 1000,
        "reference": reference,
    }
