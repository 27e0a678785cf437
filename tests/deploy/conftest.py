"""Package each deployed stage once per test session (chalice package + deploy/template.py)."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

import pytest

from deploy.package import package


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both stages, packaged once for the whole run: the deploy test files land on either worker, and packaging
    (about 10 s a stage) used to be done by each worker, plus once more by the rehearsal. Each stage is packed
    under its own lock in the run's shared temporary folder, the workers starting from different stages: a worker
    that arrives while the other packs one stage packs the other instead of waiting for both; then both read the
    same (read-only) output."""
    base = tmp_path_factory.getbasetemp()
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    shared = base.parent if worker else base
    stages = ["dev", "prod"]
    if worker and int(worker.removeprefix("gw")) % 2:
        stages.reverse()
    folders = {stage: shared / "packaged" / stage for stage in stages}
    for stage, folder in folders.items():
        with (shared / f"packaged-{stage}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            done = shared / "packaged" / f"{stage}.done"
            if not done.exists():
                package(stage, folder)
                done.touch()
    return {stage: folders[stage] for stage in ("dev", "prod")}


@pytest.fixture(scope="session")
def templates(packaged: dict[str, Path]) -> dict[str, dict[str, Any]]:
    return {stage: json.loads((folder / "sam.json").read_text()) for stage, folder in packaged.items()}
