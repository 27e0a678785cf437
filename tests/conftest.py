"""Environment for every test: set before the app is imported, since settings load at cold start."""

import json
import os
from pathlib import Path

from devstack.inprocess import configure_environment

TEST_SIGNING_KEY = "test-signing-key-that-is-long-enough-0123456789"

configure_environment(TEST_SIGNING_KEY)


def pytest_collection_modifyitems(items):
    """Under `make mutants`, run each mutant's tests quickest first (durations from mutmut's stats run): the
    run stops at the first failure (-x), so a mutant dies at its cheapest killer. Order only, never selection."""
    if not os.environ.get("MUTANT_UNDER_TEST"):
        return
    stats = Path("mutmut-stats.json")
    if stats.exists():
        durations = json.loads(stats.read_text())["duration_by_test"]
        items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
