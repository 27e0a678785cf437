"""Package each deployed stage once per test session (chalice package + deploy/template.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deploy.package import package


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {stage: package(stage, tmp_path_factory.mktemp(stage)) for stage in ("dev", "prod")}


@pytest.fixture(scope="session")
def templates(packaged: dict[str, Path]) -> dict[str, dict[str, Any]]:
    return {stage: json.loads((folder / "sam.json").read_text()) for stage, folder in packaged.items()}
