"""End-to-end fixtures: the real local stack (the code behind `make run`) on free ports, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from devstack.stack import LocalStack, free_port
from tests.support.contract import check


@pytest.fixture(autouse=True)
def every_answer_matches_the_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """Check each HTTP answer an end-to-end test receives against the published OpenAPI document."""
    send = requests.Session.send

    def checked_send(self: requests.Session, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        response = send(self, request, **kwargs)
        check(str(request.method), str(request.url), response.status_code, dict(response.headers), response.content)
        return response

    monkeypatch.setattr(requests.Session, "send", checked_send)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    local = LocalStack(
        port=free_port(),
        aws_port=free_port(),
        data_dir=tmp_path_factory.mktemp("local-data"),
        extra_env={"BCRYPT_ROUNDS": "4"},
    )
    local.start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def base(stack: LocalStack) -> str:
    return stack.url


def token(base: str, username: str, password: str = "password") -> str:
    reply = requests.post(f"{base}/api/token/", json={"username": username, "password": password}, timeout=10)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["access"])


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}
