"""Data survives a restart of the local stack (make run), and demo data is seeded only once."""

import requests

from devstack.stack import LocalStack, free_port
from tests.support.stack import bearer, token


def test_data_survives_a_restart_and_demo_data_is_not_seeded_twice(tmp_path):
    def start() -> LocalStack:
        stack = LocalStack(port=free_port(), aws_port=free_port(), data_dir=tmp_path, extra_env={"BCRYPT_ROUNDS": "4"})
        stack.start()
        return stack

    first = start()
    try:
        creator = token(first.url, "creator_user")
        body = {"title": "Kept", "description": "across restarts"}
        event = requests.post(f"{first.url}/api/events/", json=body, headers=bearer(creator), timeout=10).json()
        count = len(requests.get(f"{first.url}/api/events/?limit=100", timeout=10).json()["results"])
    finally:
        first.stop()
    second = start()
    try:
        assert requests.get(f"{second.url}/api/events/{event['id']}/", timeout=10).json() == event
        assert len(requests.get(f"{second.url}/api/events/?limit=100", timeout=10).json()["results"]) == count
        # Tokens survive too: the signing key is kept with the data.
        assert requests.get(f"{second.url}/api/me/", headers=bearer(creator), timeout=10).status_code == 200
    finally:
        second.stop()
