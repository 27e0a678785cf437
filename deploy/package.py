"""`make package STAGE=dev|prod`: chalice package merged with deploy/template.py, into build/<stage>/."""

from __future__ import annotations

import compileall
import gzip
import json
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from deploy.template import ROOT, STAGES, finish_template, merge_template


def package(stage: str, out: Path | None = None) -> Path:
    """Write build/<stage>/ (sam.json, deployment.zip, layer-deployment.zip) and return the folder."""
    if stage not in STAGES:
        raise SystemExit(f"STAGE must be one of {', '.join(STAGES)}")
    out = out or ROOT / "build" / stage
    out.mkdir(parents=True, exist_ok=True)
    extra = out / "resources.json"
    extra.write_text(json.dumps(merge_template(stage), indent=2))
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    chalice = Path(sys.executable).parent / "chalice"
    subprocess.run(
        [str(chalice), "package", "--stage", stage, "--merge-template", str(extra), str(out)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    # What depends on the functions chalice emitted (deploy/template.finish_template), applied after its merge.
    sam = out / "sam.json"
    sam.write_text(json.dumps(finish_template(stage, json.loads(sam.read_text())), indent=2))
    _check_runtime(sam)
    move_to_layer(out / "deployment.zip", out / "layer-deployment.zip", RUNTIME_PACKAGE)
    for prefix in DATA_IN_LAYER:
        move_to_layer(out / "deployment.zip", out / "layer-deployment.zip", prefix)
    finish_zip(out / "deployment.zip")
    finish_zip(out / "layer-deployment.zip")
    return out


# Chalice copies its runtime (chalice/app.py, 90 KB of source) into the function's zip; it is a third-party
# package like the others, so it joins them in the layer (Lambda puts /opt/python on sys.path): the function's
# zip holds the project's code only, and a new version of the project does not upload chalice again.
RUNTIME_PACKAGE = "chalice/"
LAYER_PACKAGES = "python/"
# Third-party data files (Django's common-password list, Unicode's confusables: 110 KB compressed) go there too,
# read through chalicelib.data_files, which finds them on sys.path: the function zip is the project's code.
DATA_IN_LAYER = ("chalicelib/services/data/", "chalicelib/security/data/")


def move_to_layer(function_zip: Path, layer_zip: Path, prefix: str) -> None:
    """Move the function zip's entries under `prefix` into the layer's importable folder."""
    kept: list[tuple[zipfile.ZipInfo, bytes]] = []
    moved: list[tuple[zipfile.ZipInfo, bytes]] = []
    with zipfile.ZipFile(function_zip) as source:
        for info in source.infolist():
            (moved if info.filename.startswith(prefix) else kept).append((info, source.read(info)))
    if not moved:
        raise SystemExit(f"the function zip has no {prefix}: chalice packages it elsewhere now, or it moved")
    with zipfile.ZipFile(function_zip, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in kept:
            target.writestr(info, data)
    with zipfile.ZipFile(layer_zip, "a", zipfile.ZIP_DEFLATED) as layer:
        present = set(layer.namelist())
        for info, data in moved:
            name = LAYER_PACKAGES + info.filename
            if name in present:
                raise SystemExit(f"the layer already holds {name}")
            layer.writestr(name, data)


def _check_runtime(template: Path) -> None:
    # Bytecode is only valid for the interpreter version that wrote it: the runtime chalice chose must be ours.
    runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"
    runtimes = {
        r["Properties"].get("Runtime")
        for r in json.loads(template.read_text())["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    }
    if runtimes != {runtime}:
        raise SystemExit(f"functions run {sorted(runtimes)} but this interpreter compiles for {runtime}")


# Packages pip installs as declared requirements that nothing in the function imports: drf-spectacular-sidecar
# (Redoc's bundle for /api/docs/) requires Django, and ships Swagger UI and source maps the API never serves.
UNUSED_IN_LAYER = re.compile(
    r"^python/lib/python3\.\d+/site-packages/("
    r"django/|django-[^/]+\.dist-info/|sqlparse/|sqlparse-[^/]+\.dist-info/|asgiref/|asgiref-[^/]+\.dist-info/"
    r"|drf_spectacular_sidecar/static/drf_spectacular_sidecar/swagger-ui-dist/"
    r"|drf_spectacular_sidecar/static/.*\.map$)",
    re.IGNORECASE,
)


# Every AWS API the functions call (a test checks the code's create_client calls against it). botocore scans its
# data folder, one subfolder per service (over 400), when it creates a client; the layer keeps only these.
BOTOCORE_SERVICES = frozenset({"dynamodb", "s3", "secretsmanager", "sesv2"})
BOTOCORE_SERVICE_DATA = re.compile(r"^python/lib/python3\.\d+/site-packages/botocore/data/([^/]+)/")
# Bytecode that Python trusts without comparing it with the source: Lambda's /var/task and /opt are read-only
# and the zips date every file 1980, so a timestamp-checked .pyc would be refused and every module compiled
# from source at each cold start.
STALE_BYTECODE = re.compile(r"(^|/)__pycache__/|\.pyc$")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _unused(name: str) -> bool:
    if UNUSED_IN_LAYER.match(name) or STALE_BYTECODE.search(name):
        return True
    service = BOTOCORE_SERVICE_DATA.match(name)
    return service is not None and service.group(1) not in BOTOCORE_SERVICES


def finish_zip(archive: Path) -> None:
    """Rewrite a zip chalice built: without what nothing imports, and with unchecked-hash bytecode for every
    module, in a reproducible order and with reproducible dates."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with zipfile.ZipFile(archive) as source:
            modes = {}
            for info in source.infolist():
                if info.is_dir() or _unused(info.filename):
                    continue
                source.extract(info, folder)
                modes[info.filename] = info.external_attr
        for endpoints in folder.glob("python/lib/python3.*/site-packages/botocore/data/endpoints.json"):
            prune_endpoints(endpoints)
        # Beside each source, in the zip, even where PYTHONPYCACHEPREFIX says otherwise (make test sets it).
        prefix, sys.pycache_prefix = sys.pycache_prefix, None
        try:
            compileall.compile_dir(
                folder, quiet=2, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH, workers=1
            )
        finally:
            sys.pycache_prefix = prefix
        finished = archive.with_suffix(".finished.zip")
        with zipfile.ZipFile(finished, "w", zipfile.ZIP_DEFLATED) as target:
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                name = path.relative_to(folder).as_posix()
                info = zipfile.ZipInfo(name, ZIP_TIME)
                info.external_attr = modes.get(name, 0o644 << 16)
                info.compress_type = zipfile.ZIP_DEFLATED
                with path.open("rb") as data, target.open(info, "w") as out:
                    shutil.copyfileobj(data, out)
        finished.replace(archive)


def prune_endpoints(endpoints: Path) -> None:
    """Keep, in botocore's endpoint catalogue, only the services the layer keeps data for. botocore parses the
    whole file (1.2 MB, over 300 services) when it creates its first client: about 12 ms of every cold start,
    for entries no client of ours ever looks up. The catalogue names a service by its endpoint prefix (SES v2
    is "email"), which each kept service's own data states."""
    data = endpoints.parent
    prefixes = set()
    for service in BOTOCORE_SERVICES:
        [model] = sorted(data.glob(f"{service}/*/service-2.json*"))[-1:]
        raw = gzip.decompress(model.read_bytes()) if model.suffix == ".gz" else model.read_bytes()
        prefixes.add(json.loads(raw)["metadata"]["endpointPrefix"])
    catalogue = json.loads(endpoints.read_text())
    for partition in catalogue["partitions"]:
        partition["services"] = {k: v for k, v in partition["services"].items() if k in prefixes}
    endpoints.write_text(json.dumps(catalogue, separators=(",", ":")))


if __name__ == "__main__":
    # python -m deploy.package [STAGE [FOLDER]]: build/<stage>/ unless a folder is named (make test's packages).
    print(package(sys.argv[1] if len(sys.argv) > 1 else "dev", Path(sys.argv[2]) if len(sys.argv) > 2 else None))
