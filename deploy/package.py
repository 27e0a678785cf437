"""`make package STAGE=dev|prod`: chalice package merged with deploy/template.py, into build/<stage>/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
    return out


if __name__ == "__main__":
    print(package(sys.argv[1] if len(sys.argv) > 1 else "dev"))
