"""Environment for every test: set before the app is imported, since settings load at cold start."""

import json
import os
from pathlib import Path

from devstack.inprocess import configure_environment

TEST_SIGNING_KEY = "test-signing-key-that-is-long-enough-0123456789"

configure_environment(TEST_SIGNING_KEY)


# `make test` hands whole files to its workers in collection order (--dist loadfile): the long files (local
# stacks, browsers, packaging) go first, so that the run ends on short unit files rather than with one worker
# alone on a minute-long file while the other waits.
FOLDER_ORDER = ("e2e", "browser", "deploy", "integration", "contract", "unit")


def _folder_rank(item) -> int:
    parts = Path(str(item.path)).parts
    folder = parts[parts.index("tests") + 1] if "tests" in parts else ""
    return FOLDER_ORDER.index(folder) if folder in FOLDER_ORDER else len(FOLDER_ORDER)


def pytest_collection_modifyitems(items):
    """Long test folders first (FOLDER_ORDER; a stable sort: each file's tests keep their order). Under `make
    mutants`, instead each mutant's tests quickest first (durations from mutmut's stats run): the run stops at
    the first failure (-x), so a mutant dies at its cheapest killer. Order only, never selection."""
    if not os.environ.get("MUTANT_UNDER_TEST"):
        items.sort(key=_folder_rank)
        return
    stats = Path("mutmut-stats.json")
    if stats.exists():
        durations = json.loads(stats.read_text())["duration_by_test"]
        items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
