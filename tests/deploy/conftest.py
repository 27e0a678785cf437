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
    under its own lock in the run's shared temporary folder: a worker packs any stage nobody has packed or is
    packing, and waits only when the other is packing the last one; then both read the same (read-only) output."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folders = {stage: shared / "packaged" / stage for stage in ("dev", "prod")}
    waiting = False
    while pending := [stage for stage in folders if not (shared / "packaged" / f"{stage}.done").exists()]:
        for stage in pending:
            with (shared / f"packaged-{stage}.lock").open("w") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | (0 if waiting else fcntl.LOCK_NB))
                except BlockingIOError:
                    continue  # the other worker is packing it
                done = shared / "packaged" / f"{stage}.done"
                if not done.exists():
                    package(stage, folders[stage])
                    done.touch()
        waiting = True  # every stage left is being packed by the other worker: wait for it
    return folders


@pytest.fixture(scope="session")
def templates(packaged: dict[str, Path]) -> dict[str, dict[str, Any]]:
    return {stage: json.loads((folder / "sam.json").read_text()) for stage, folder in packaged.items()}
