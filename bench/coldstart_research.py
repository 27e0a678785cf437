"""Research behind the cold-start notes (run by hand, not by `make bench`): what botocore and pynamodb cost in a
fresh process, and what public, supported settings change it. Every figure is a median over fresh processes
against the local stack; variants alternate within each round so drift hits them alike.

    python -m bench.coldstart_research [--rounds 9] [--only botocore,pieces,package,imports,runtimes]
        [--pythons PATH,PATH]

Steps timed in each child: (a) `import botocore.session` (or pynamodb's connection module), (b) creating the
DynamoDB client, (c) its first Query against the local stack."""

from __future__ import annotations

import argparse
import compileall
import json
import py_compile
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from bench.botocore_trim import generate
from bench.coldstart import COLD_APP, ROOT, local_stack

QUERY = """
    TableName="{table}", IndexName="published-by-created", KeyConditionExpression="pub = :p",
    ExpressionAttributeValues={{":p": {{"S": "PUBLISHED"}}}}, Limit=21, ScanIndexForward=False,
"""

BOTOCORE = (
    """
import time
c0, t0 = time.process_time(), time.perf_counter()
import botocore.session
c1, t1 = time.process_time(), time.perf_counter()
client = botocore.session.get_session().create_client("dynamodb")
c2, t2 = time.process_time(), time.perf_counter()
client.query("""
    + QUERY
    + """)
t3 = time.perf_counter()
import json, resource
model = client.meta.service_model
print(json.dumps({{"import": t1 - t0, "client": t2 - t1, "query": t3 - t2, "operations": len(model.operation_names),
                  "import_cpu": c1 - c0, "client_cpu": c2 - c1,
                  "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""
)

BOTO3 = BOTOCORE.replace("import botocore.session", "import boto3").replace(
    'botocore.session.get_session().create_client("dynamodb")', 'boto3.client("dynamodb")'
)

PYNAMODB = """
import time
c0, t0 = time.process_time(), time.perf_counter()
from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
c1, t1 = time.process_time(), time.perf_counter()

class ByCreated(GlobalSecondaryIndex):
    class Meta:
        index_name = "published-by-created"
        projection = AllProjection()
    pub = UnicodeAttribute(hash_key=True)
    created_sk = UnicodeAttribute(range_key=True)

class Event(Model):
    class Meta:
        table_name = "{table}"
        region = "us-east-1"
    id = UnicodeAttribute(hash_key=True)
    pub = UnicodeAttribute(null=True)
    created_sk = UnicodeAttribute(null=True)
    published = ByCreated()

from chalicelib.persistence.pynamodb_private import client_of  # the project's one door to pynamodb's internals

client = client_of(Event)
c2, t2 = time.process_time(), time.perf_counter()
operations = []
client.meta.events.register("before-call.dynamodb", lambda model, **_: operations.append(model.name))
items = list(Event.published.query("PUBLISHED", limit=21, scan_index_forward=False))
t3 = time.perf_counter()
import json, resource
print(json.dumps({{"import": t1 - t0, "client": t2 - t1, "query": t3 - t2, "calls": operations,
                  "import_cpu": c1 - c0, "client_cpu": c2 - c1,
                  "operations": len(client.meta.service_model.operation_names),
                  "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""


# What a DynamoDB client's creation reads, one piece at a time, each the first such call in a fresh process.
PIECES = """
import time, json
import botocore.session
session = botocore.session.get_session()
loader = session.get_component("data_loader")
timings = {}
def timed(name, call):
    # CPU time of this process: steadier than wall time on a shared machine, and these steps are CPU-bound.
    started = time.process_time()
    call()
    timings[name] = time.process_time() - started
timed("scan of every service folder (service-2)", lambda: loader.list_available_services("service-2"))
timed("scan of every service folder (endpoint-rule-set-1)",
      lambda: loader.list_available_services("endpoint-rule-set-1"))
timed("endpoints.json (every service, legacy resolver)", lambda: loader.load_data("endpoints"))
timed("dynamodb service-2 model", lambda: loader.load_service_model("dynamodb", "service-2"))
timed("dynamodb endpoint ruleset", lambda: loader.load_service_model("dynamodb", "endpoint-rule-set-1"))
timed("partitions.json", lambda: loader.load_data("partitions"))
timed("sdk-default-configuration + _retry", lambda: (loader.load_data("sdk-default-configuration"),
                                                     loader.load_data("_retry")))
timed("create_client with all of the above cached", lambda: session.create_client("dynamodb"))
print(json.dumps(timings))
"""


def _run(code: str, env: dict[str, str], python: str = sys.executable, args: tuple[str, ...] = ()) -> Any:
    result = subprocess.run(
        [python, *args, "-c", code], cwd=env.get("_CWD", str(ROOT)), env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def _unzipped_package(folder: Path, out: Path, compiled: bool) -> tuple[Path, Path]:
    """The function and layer zips `make package` built in `folder`, unpacked as Lambda lays them out."""
    task, opt = out / "task", out / "opt"
    with zipfile.ZipFile(folder / "deployment.zip") as z:
        z.extractall(task)
    with zipfile.ZipFile(folder / "layer-deployment.zip") as z:
        z.extractall(opt)
    if compiled:
        for tree in (task, opt):
            # unchecked-hash: valid whatever mtimes the zip extraction leaves, as on Lambda.
            compileall.compile_dir(str(tree), quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return task, opt


def _import_tree(stderr: str) -> list[tuple[str, int, int, str | None]]:
    """(module, self µs, cumulative µs, nearest importing module) from -X importtime output (children come
    before their parent there, one indentation level deeper)."""
    pending: list[tuple[int, str, int, int]] = []
    parents: dict[str, str] = {}
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, total, raw = line[len("import time:") :].split("|")
        level = (len(raw) - len(raw.lstrip())) // 2
        name = raw.strip()
        while pending and pending[-1][0] > level:
            parents[pending.pop()[1]] = name
        pending.append((level, name, int(own), int(total)))
        rows.append((name, int(own), int(total)))
    return [(name, own, total, parents.get(name)) for name, own, total in rows]


def import_costs(env: dict[str, str], rounds: int) -> None:
    """Where `import app` + one GET /api/events/ spends its import time, from -X importtime (medians): the self
    time of every package, and which project module first pulls in each third-party package."""
    project = ("app", "chalicelib")

    def top(name: str) -> str:
        return name.split(".")[0]

    def kind(name: str) -> str:
        if top(name) in project:
            return "project"
        return "stdlib" if top(name) in sys.stdlib_module_names or top(name).startswith("_") else "third-party"

    by_package: dict[str, list[float]] = {}
    own_modules: dict[str, list[float]] = {}
    pulled: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", COLD_APP], cwd=ROOT, env=env, capture_output=True, text=True
        )
        tree = _import_tree(result.stderr)
        parent_of = {name: parent for name, _, _, parent in tree}
        totals: dict[str, float] = {}
        firsts: dict[tuple[str, str], float] = {}
        for name, own, total, parent in tree:
            package = top(name) if kind(name) != "stdlib" else "(standard library)"
            totals[package] = totals.get(package, 0) + own
            if kind(name) == "project":
                own_modules.setdefault(name, []).append(own)
            if kind(name) == "third-party" and (parent is None or kind(parent) != "third-party"):
                # The outermost third-party import in this chain: charge it to the nearest project module above.
                importer = parent
                while importer is not None and kind(importer) != "project":
                    importer = parent_of.get(importer)
                key = (importer or "(interpreter)", top(name))
                firsts[key] = firsts.get(key, 0) + total
        for package, micros in totals.items():
            by_package.setdefault(package, []).append(micros)
        for key, micros in firsts.items():
            pulled.setdefault(key, []).append(micros)
    print("| package | import self time, summed over its modules |")
    print("|---|---|")
    medians = {package: statistics.median(v) for package, v in by_package.items()}
    for package, micros in sorted(medians.items(), key=lambda kv: -kv[1])[:20]:
        print(f"| {package} | {micros / 1000:.1f} ms |")
    print()
    print("| project module | self time (its own body: class and model definitions) |")
    print("|---|---|")
    module_medians = {name: statistics.median(v) for name, v in own_modules.items()}
    for name, micros in sorted(module_medians.items(), key=lambda kv: -kv[1])[:12]:
        print(f"| {name} | {micros / 1000:.1f} ms |")
    print()
    print("| project module | first imports (cumulative) |")
    print("|---|---|")
    by_importer: dict[str, list[tuple[str, float]]] = {}
    for (importer, package), values in pulled.items():
        by_importer.setdefault(importer, []).append((package, statistics.median(values)))
    for importer, packages in sorted(by_importer.items(), key=lambda kv: -sum(m for _, m in kv[1])):
        listed = ", ".join(f"{p} {m / 1000:.0f} ms" for p, m in sorted(packages, key=lambda pm: -pm[1]))
        print(f"| {importer} | {listed} |")


def _pruned_botocore(out: Path, services: tuple[str, ...]) -> Path:
    """A copy of the installed botocore whose data folder keeps only `services` (and the shared files): what a
    layer built that way would ship. Code and bytecode are copied unchanged."""
    import botocore

    source = Path(botocore.__file__).parent

    def ignore(folder: str, names: list[str]) -> set[str]:
        if Path(folder) == source / "data":
            return {n for n in names if (Path(folder) / n).is_dir() and n not in services}
        return set()

    shutil.copytree(source, out / "botocore", ignore=ignore)
    return out


def botocore_variants(env: dict[str, str], tmp: Path, rounds: int) -> None:
    """(a) import, (b) client, (c) first query for botocore, boto3 and pynamodb, with and without trimmed data."""
    table = env.get("EVENTS_TABLE", "sessions-local-events")
    plain = generate(tmp / "plain", compress=False)
    gz = generate(tmp / "gz")
    gz_endpoints = generate(tmp / "gz-endpoints", endpoints=True)
    pruned = _pruned_botocore(tmp / "pruned", ("dynamodb", "secretsmanager", "s3", "sts"))
    botocore_code = BOTOCORE.format(table=table)
    pynamodb_code = PYNAMODB.format(table=table)
    variants: dict[str, tuple[str, dict[str, str]]] = {
        "botocore, bundled models": (botocore_code, env),
        "botocore, AWS_DATA_PATH: trimmed service-2.json": (botocore_code, {**env, "AWS_DATA_PATH": str(plain)}),
        "botocore, AWS_DATA_PATH: trimmed service-2.json.gz": (botocore_code, {**env, "AWS_DATA_PATH": str(gz)}),
        "botocore, AWS_DATA_PATH: trimmed model + endpoints.json": (
            botocore_code,
            {**env, "AWS_DATA_PATH": str(gz_endpoints)},
        ),
        "botocore, data folder pruned to dynamodb, secretsmanager, s3, sts": (
            botocore_code,
            {**env, "PYTHONPATH": str(pruned)},
        ),
        "botocore, pruned data folder + AWS_DATA_PATH: trimmed .json.gz": (
            botocore_code,
            {**env, "PYTHONPATH": str(pruned), "AWS_DATA_PATH": str(gz)},
        ),
        "boto3.client instead of botocore": (BOTO3.format(table=table), env),
        "pynamodb Model, bundled models": (pynamodb_code, env),
        "pynamodb Model, AWS_DATA_PATH: trimmed .json.gz": (pynamodb_code, {**env, "AWS_DATA_PATH": str(gz)}),
    }
    for code, variant_env in variants.values():
        _run(code, variant_env)  # bytecode
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    names = list(variants)
    for i in range(rounds):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            code, variant_env = variants[name]
            samples[name].append(_run(code, variant_env))
    # (a) and (b) are CPU-bound: their CPU time is shown beside the wall time, being far less disturbed by other
    # work on the machine; (c) waits on the local stack, so wall time only.
    print("| variant | (a) import, wall / CPU | (b) client, wall / CPU | (c) first query | a+b+c | peak | operations |")
    print("|---|---|---|---|---|---|---|")
    for name, runs in samples.items():
        a, b, c, a_cpu, b_cpu = (
            statistics.median(r[k] for r in runs) * 1000
            for k in ("import", "client", "query", "import_cpu", "client_cpu")
        )
        total = statistics.median((r["import"] + r["client"] + r["query"]) for r in runs) * 1000
        rss = statistics.median(r["rss_kib"] for r in runs) / 1024
        extra = f"; calls {runs[0]['calls']}" if "calls" in runs[0] else ""
        print(
            f"| {name} | {a:.0f} / {a_cpu:.0f} ms | {b:.1f} / {b_cpu:.1f} ms | {c:.1f} ms | {total:.0f} ms | "
            f"{rss:.0f} MiB | {runs[0]['operations']}{extra} |"
        )


def client_pieces(env: dict[str, str], rounds: int) -> None:
    """Medians of each piece of data a DynamoDB client's creation reads (bundled models)."""
    runs = [_run(PIECES, env) for _ in range(rounds)]
    print("| piece of client creation (CPU time) | ms |")
    print("|---|---|")
    for name in runs[0]:
        print(f"| {name} | {statistics.median(r[name] for r in runs) * 1000:.1f} |")


def runtimes(env: dict[str, str], api_url: str, pythons: list[str], rounds: int) -> None:
    """This app's cold start and the authorizer's under other interpreters, each a virtualenv holding only
    requirements.txt, chalice and botocore (no moto, so no cryptography for PyJWT to pick up, as on Lambda)."""
    from bench.coldstart import COLD_AUTHORIZER, _access_token

    for python in pythons:
        _run(COLD_APP, env, python)  # bytecode
    apps: dict[str, list[Any]] = {python: [] for python in pythons}
    authorizers: dict[str, list[Any]] = {python: [] for python in pythons}
    for i in range(rounds):
        for python in pythons[i % len(pythons) :] + pythons[: i % len(pythons)]:
            apps[python].append(_run(COLD_APP, env, python))
            authorizers[python].append(
                _run(COLD_AUTHORIZER, {**env, "BENCH_ACCESS_TOKEN": _access_token(api_url)}, python)
            )
    print("| interpreter | cold start GET /api/events/ | peak | authorizer cold start | peak |")
    print("|---|---|---|---|---|")
    for python in pythons:
        version = subprocess.run(
            [python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True
        )
        a = statistics.median(r["seconds"] for r in apps[python]) * 1000
        a_mib = statistics.median(r["maxrss_kib"] for r in apps[python]) / 1024
        z = statistics.median(r["seconds"] for r in authorizers[python]) * 1000
        z_mib = statistics.median(r["maxrss_kib"] for r in authorizers[python]) / 1024
        print(f"| Python {version.stdout.strip()} | {a:.0f} ms | {a_mib:.0f} MiB | {z:.0f} ms | {z_mib:.0f} MiB |")


def package_as_shipped(env: dict[str, str], tmp: Path, rounds: int) -> None:
    """The app as Lambda runs it: the packaged zips unpacked, a bare interpreter (no site-packages), with and
    without compiled bytecode in the package (Lambda cannot write __pycache__ into /var/task or /opt)."""
    from deploy.package import package

    built = package("dev", tmp / "build")
    layouts = {}
    for compiled in (False, True):
        task, opt = _unzipped_package(built, tmp / f"pkg-{compiled}", compiled)
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        site = opt / "python" / "lib" / version / "site-packages"
        layouts[compiled] = {**env, "PYTHONPATH": f"{task}:{site}", "PYTHONDONTWRITEBYTECODE": "1", "_CWD": str(task)}
    base_python = getattr(sys, "_base_executable", sys.executable)
    runs: dict[bool, list[Any]] = {False: [], True: []}
    for i in range(rounds):
        for compiled in (False, True) if i % 2 == 0 else (True, False):
            runs[compiled].append(_run(COLD_APP, layouts[compiled], base_python, ("-S",)))
    print("| package as shipped | cold start (import app + GET /api/events/) | peak |")
    print("|---|---|---|")
    labels = {False: "no .pyc (as `chalice package` builds it today)", True: ".pyc compiled in (unchecked-hash)"}
    for compiled, label in labels.items():
        ms = statistics.median(r["seconds"] for r in runs[compiled]) * 1000
        rss = statistics.median(r["maxrss_kib"] for r in runs[compiled]) / 1024
        print(f"| {label} | {ms:.0f} ms | {rss:.0f} MiB |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--only", default="botocore,pieces,package,imports")
    parser.add_argument("--pythons", default="", help="interpreters for the `runtimes` part, comma-separated")
    args = parser.parse_args(argv)
    parts = args.only.split(",")
    with tempfile.TemporaryDirectory() as tmp, local_stack() as (env, api_url):
        # Empty, not "0": Python reads any non-empty value as "do not write" (this machine sets it).
        env = {**env, "PYTHONDONTWRITEBYTECODE": ""}
        for part in parts:
            if part == "botocore":
                botocore_variants(env, Path(tmp), args.rounds)
            elif part == "package":
                package_as_shipped(env, Path(tmp), args.rounds)
            elif part == "runtimes":
                runtimes(env, api_url, args.pythons.split(","), args.rounds)
            elif part == "pieces":
                client_pieces(env, args.rounds)
            elif part == "imports":
                import_costs(env, args.rounds)
            print()


if __name__ == "__main__":
    main()
