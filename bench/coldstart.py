"""Cold starts side by side: this app, its floor, its authorizer and the original Django backend, each a fresh
process timed inside from its first import to its first response (what Lambda bills as init plus first invoke),
with its peak memory (ru_maxrss)."""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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

# Third-party: a module with a file that is neither the standard library's nor the project's. (Not "under
# site-packages": packaged, the dependencies are in the layer's folders.)
THIRD_PARTY_LISTING = """
import sys, sysconfig
before = set(sys.modules)
CODE
paths = sysconfig.get_paths()
stdlib = (paths["stdlib"], paths["platstdlib"])
new = [(n, m) for n, m in list(sys.modules.items()) if n not in before]
loaded = [
    n for n, m in new
    if getattr(m, "__file__", None) and not m.__file__.startswith(stdlib)
    and n.split(".")[0] not in ("app", "chalicelib", "__main__")
]
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

# The authorizer is its own Lambda function whose Handler (what `chalice package` writes) names its module:
# Lambda imports only that module, not app.py, and calls it with a TOKEN event, as API Gateway does. The answer
# must allow GET /api/me/.
AUTHORIZER_HANDLER = "chalicelib.http.authorizer.jwt_authorizer"
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

# The packaged function: Lambda puts the function zip on /var/task and the layer on /opt, both read-only, and
# starts a plain interpreter. The child gets the same: the unpacked zips first on sys.path, no site-packages
# (-S), no bytecode written (-B), so it runs exactly the modules and bytecode `make package` ships.
PACKAGED_PATH = """
import sys
sys.path[:0] = {paths!r}
"""


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


@dataclass(frozen=True)
class Runtime:
    """How a child process runs this app: from the project's virtualenv, or from the packaged zips."""

    command: tuple[str, ...]
    prelude: str = ""

    def run(self, code: str, env: dict[str, str]) -> dict[str, Any]:
        return _run(self.prelude + code, env, self.command)


DEV = Runtime((sys.executable,))


@contextmanager
def packaged_runtime() -> Iterator[Runtime]:
    """The function and layer zips `make package` builds, unpacked and made read-only, as Lambda runs them."""
    from deploy.package import package

    with tempfile.TemporaryDirectory() as out:
        folder = package("dev", Path(out) / "build")
        task, layer = Path(out) / "task", Path(out) / "opt"
        for archive, into in (("deployment.zip", task), ("layer-deployment.zip", layer)):
            with zipfile.ZipFile(folder / archive) as zipped:
                zipped.extractall(into)
        site = next(layer.glob("python/lib/python3.*/site-packages"))
        for path in (*task.rglob("*"), *layer.rglob("*")):
            path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            # Lambda's order: the function, the layer's python/ (chalice's runtime), its site-packages.
            paths = [str(task), str(layer / "python"), str(site)]
            yield Runtime((sys.executable, "-S", "-B"), PACKAGED_PATH.format(paths=paths))
        finally:
            for path in (task, layer, *task.rglob("*"), *layer.rglob("*")):
                path.chmod(0o755 if path.is_dir() else 0o644)


def _run(
    code: str, env: dict[str, str], command: tuple[str, ...] = (sys.executable,), cwd: Path = ROOT
) -> dict[str, Any]:
    result = subprocess.run([*command, "-c", code], cwd=cwd, env=env, capture_output=True, text=True)
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


def _floor_code(runtime: Runtime, env: dict[str, str]) -> str:
    """The floor imports exactly the third-party modules the app's cold start loads (in that runtime), so the
    difference is the project's own code and the standard-library modules only it needs."""
    listing = runtime.prelude + THIRD_PARTY_LISTING.replace("CODE", APP_INVOKE)
    listed = subprocess.run(
        [*runtime.command, "-c", listing], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    modules = next(line for line in listed.stdout.splitlines() if line.startswith("MODULES ")).split()[1:]
    return COLD_FLOOR.format(imports=modules, table=env.get("EVENTS_TABLE", "sessions-local-events"))


def cold_start(pairs: int = 15) -> dict[str, Any]:
    """Medians over `pairs` rounds. In each round this app as packaged runs between the original and its floor,
    the three in alternating order (original, app, floor; then floor, app, original), so that the app is timed
    right beside both things it is compared with and neither always comes first; then this app from the
    virtualenv, the botocore floor and the authorizer as packaged."""
    with original_backend.prepared() as original_dir, local_stack() as (env, api_url), packaged_runtime() as lam:
        # Empty, not "0": Python reads any non-empty value as "do not write" (this machine sets it).
        env = {**env, "PYTHONDONTWRITEBYTECODE": ""}
        original_python = str(original_backend.VENV_PYTHON)
        botocore_floor = COLD_FLOOR.format(imports=[], table=env.get("EVENTS_TABLE", "sessions-local-events"))
        floor = _floor_code(lam, env)
        runs: dict[str, Callable[[], dict[str, Any]]] = {
            "app": lambda: lam.run(COLD_APP, env),
            "original": lambda: _run(original_backend.COLD_ORIGINAL, env, (original_python,), original_dir),
            "dev": lambda: DEV.run(COLD_APP, env),
            "floor": lambda: lam.run(floor, env),
            "botocore": lambda: lam.run(botocore_floor, env),
            "authorizer": lambda: lam.run(
                COLD_AUTHORIZER,
                {**env, "BENCH_ACCESS_TOKEN": _access_token(api_url), "BENCH_AUTHORIZER_HANDLER": AUTHORIZER_HANDLER},
            ),
        }
        # One run of each first: the original and the virtualenv compile their bytecode, as a server would.
        first = {kind: run() for kind, run in runs.items()}
        samples: dict[str, list[dict[str, Any]]] = {kind: [] for kind in runs}
        for i in range(pairs):
            # The app's own cost is the difference of two cold starts: timed apart, the machine's drift between
            # them (other work, clock speed) lands in the difference; timed side by side, it mostly cancels.
            order = ("original", "app", "floor") if i % 2 == 0 else ("floor", "app", "original")
            for kind in (*order, "dev", "botocore", "authorizer"):
                samples[kind].append(runs[kind]())
        reference = original_backend.check_reference(original_dir)
        instructions = _instructions(
            {
                "app": (lam.command, lam.prelude + COLD_APP, ROOT),
                "floor": (lam.command, lam.prelude + floor, ROOT),
                "original": ((original_python,), original_backend.COLD_ORIGINAL, original_dir),
            },
            env,
        )

    def ms(kind: str) -> float:
        return statistics.median(s["seconds"] for s in samples[kind]) * 1000

    def mib(kind: str) -> float:
        return statistics.median(s["maxrss_kib"] for s in samples[kind]) / 1024

    diffs = [a["seconds"] - f["seconds"] for a, f in zip(samples["app"], samples["floor"], strict=True)]
    failures = sorted({s["failure"] for s in [first["authorizer"], *samples["authorizer"]] if s["failure"]})
    return {
        "pairs": pairs,
        **{f"{kind}_ms": ms(kind) for kind in samples},
        **{f"{kind}_mib": mib(kind) for kind in samples},
        "own_ms": statistics.median(diffs) * 1000,
        "handler": AUTHORIZER_HANDLER,
        "authorizer_failure": "; ".join(failures),
        "reference": reference,
        "instructions": instructions,
    }


def _instructions(runs: dict[str, tuple[tuple[str, ...], str, Path]], env: dict[str, str]) -> dict[str, int]:
    """Instructions each cold start executes, counted by valgrind's callgrind (one run each: the count repeats
    within a fraction of a percent, where wall times on a shared machine swing by tens of milliseconds). Empty
    without valgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return {}
    counts = {}
    for kind, (command, code, cwd) in runs.items():
        result = subprocess.run(
            [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *command, "-c", code],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
        )
        found = re.search(r"Collected : (\d+)", result.stderr)
        if result.returncode != 0 or found is None:
            raise RuntimeError(f"callgrind run of {kind} failed:\n{result.stderr[-2000:]}")
        counts[kind] = int(found.group(1))
    return counts
