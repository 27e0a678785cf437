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
    (about 10 s a stage) used to be done by each worker, plus once more by the rehearsal. The first worker packs
    under a lock in the run's shared temporary folder; the others wait for it and read the same (read-only) output."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folders = {stage: shared / "packaged" / stage for stage in ("dev", "prod")}
    with (shared / "packaged.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / "packaged" / "done"
        if not done.exists():
            for stage, folder in folders.items():
                package(stage, folder)
            done.touch()
    return folders


@pytest.fixture(scope="session")
def templates(packaged: dict[str, Path]) -> dict[str, dict[str, Any]]:
    return {stage: json.loads((folder / "sam.json").read_text()) for stage, folder in packaged.items()}
