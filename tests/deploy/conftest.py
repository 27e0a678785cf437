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
    """Both stages, packaged once for the whole run: by `make test` before the tests (TEST_PACKAGES names the
    folder), or else here, by the first worker that needs them, under a lock in the run's shared temporary folder
    (the other waits: packing both at once would build chalice's layer twice, where the second stage reuses the
    first's). The output is read-only."""
    made = os.environ.get("TEST_PACKAGES")
    if made:
        folders = {stage: Path(made) / stage for stage in ("dev", "prod")}
        missing = [str(folder) for folder in folders.values() if not (folder / "sam.json").exists()]
        assert not missing, f"TEST_PACKAGES names no package in {missing}: run `make test`, or unset it"
        return folders
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
