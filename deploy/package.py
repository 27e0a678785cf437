"""`make package STAGE=dev|prod`: chalice package merged with deploy/template.py, into build/<stage>/."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from deploy.template import ROOT, STAGES, merge_template


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
    trim_layer(out / "layer-deployment.zip")
    return out


# Packages pip installs as declared requirements that nothing in the function imports: drf-spectacular-sidecar
# (Redoc's bundle for /api/docs/) requires Django, and ships Swagger UI and source maps the API never serves.
UNUSED_IN_LAYER = re.compile(
    r"^python/lib/python3\.\d+/site-packages/("
    r"django/|django-[^/]+\.dist-info/|sqlparse/|sqlparse-[^/]+\.dist-info/|asgiref/|asgiref-[^/]+\.dist-info/"
    r"|drf_spectacular_sidecar/static/drf_spectacular_sidecar/swagger-ui-dist/"
    r"|drf_spectacular_sidecar/static/.*\.map$)",
    re.IGNORECASE,
)


def trim_layer(layer: Path) -> None:
    """Rewrite the dependency layer without what UNUSED_IN_LAYER names."""
    trimmed = layer.with_suffix(".trimmed.zip")
    with zipfile.ZipFile(layer) as source, zipfile.ZipFile(trimmed, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if not UNUSED_IN_LAYER.match(info.filename):
                with source.open(info) as data, target.open(info, "w") as out:
                    shutil.copyfileobj(data, out)
    trimmed.replace(layer)


if __name__ == "__main__":
    print(package(sys.argv[1] if len(sys.argv) > 1 else "dev"))
