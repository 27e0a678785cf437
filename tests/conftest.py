"""Environment for every test: set before the app is imported, since settings load at cold start."""

import json
import os
from pathlib import Path

TEST_SIGNING_KEY = "test-signing-key-that-is-long-enough-0123456789"

for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
    # mock_aws does not intercept a custom endpoint.
    os.environ.pop(name, None)
os.environ.update(
    {
        "STAGE": "local",
        "JWT_SIGNING_KEY": TEST_SIGNING_KEY,
        "BCRYPT_ROUNDS": "4",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AUTHORIZER_TTL_SECONDS": "0",
    }
)

# The local stage's variables, as chalice sets them for `chalice local` and chalice.test.Client.
_config = json.loads((Path(__file__).resolve().parent.parent / ".chalice" / "config.json").read_text())
for _name, _value in _config["stages"]["local"]["environment_variables"].items():
    os.environ.setdefault(_name, _value)


def pytest_collection_modifyitems(items):
    """Under `make mutants`, run each mutant's tests quickest first (durations from mutmut's stats run): the
    run stops at the first failure (-x), so a mutant dies at its cheapest killer. Order only, never selection."""
    if not os.environ.get("MUTANT_UNDER_TEST"):
        return
    stats = Path("mutmut-stats.json")
    if stats.exists():
        durations = json.loads(stats.read_text())["duration_by_test"]
        items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
