"""The app in process, on moto's mock_aws, behind the API Gateway emulation `make run` uses: for the tests and
the benchmarks (which never import the tests). It drives the emulation directly rather than through
chalice.test.Client, whose gateway can only be replaced through a private attribute."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def configure_environment(signing_key: str, **extra: str) -> None:
    """Set, before the app is imported (settings load at its cold start), what it needs on moto's mock_aws: the
    local stage's variables (as chalice sets them for `chalice local`), `extra` over them."""
    for name in (
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ENDPOINT_URL",
        "AWS_PROFILE",
    ):
        # mock_aws does not intercept a custom endpoint.
        os.environ.pop(name, None)
    os.environ.update(
        {
            "STAGE": "local",
            "JWT_SIGNING_KEY": signing_key,
            "BCRYPT_ROUNDS": "4",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            # Every request runs the authorizer: no policy cache hides a change between two requests.
            "AUTHORIZER_TTL_SECONDS": "0",
            **extra,
        }
    )
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for name, value in config["stages"]["local"]["environment_variables"].items():
        os.environ.setdefault(name, value)


@dataclass
class Reply:
    """Status, headers (lower-cased names) and raw body of one answer."""

    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None


Check = Callable[[str, str, Reply], None]


class InProcessApi:
    """Requests to `app` through the gateway emulation; `check`, when given, sees every (method, path, reply)."""

    def __init__(self, app: Any, check: Check | None = None) -> None:
        from chalice.cli.factory import CLIFactory

        from devstack.gateway import EmulatedGateway

        config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name="local")
        self.gateway = EmulatedGateway(app, config)
        self.check = check

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Reply:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        response = self.gateway.handle_request(method, path, sent, data)
        answer = response["body"]
        answer_bytes = answer if isinstance(answer, bytes) else (answer or "").encode()
        received = {k.lower(): v for k, v in {**response["headers"], **response["multiValueHeaders"]}.items()}
        reply = Reply(response["statusCode"], received, answer_bytes)
        if self.check is not None:
            self.check(method, path, reply)
        return reply

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.request("DELETE", path, **kw)

    def token(self, username: str, password: str) -> str:
        """An access token for the user."""
        reply = self.post("/api/token/", {"username": username, "password": password})
        assert reply.status == 200, reply.raw[:200]
        return str(reply.json["access"])
