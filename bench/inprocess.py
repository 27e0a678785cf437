"""bench's own in-process setup: the local stage's environment and a client behind the gateway emulation.

bench never imports tests (they may change freely); this mirrors what the tests' conftest and support.api do,
minus the contract checks, which are the tests' business."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIGNING_KEY = "bench-signing-key-that-is-long-enough-0123456789"


def configure_environment() -> None:
    """Set, before the app is imported (settings load at cold start), what the app needs on moto's mock_aws."""
    for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        # mock_aws does not intercept a custom endpoint.
        os.environ.pop(name, None)
    os.environ.update(
        {
            "STAGE": "local",
            "JWT_SIGNING_KEY": SIGNING_KEY,
            "BCRYPT_ROUNDS": "4",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            # Every request runs the authorizer, so its DynamoDB read is seen (and set apart) each time.
            "AUTHORIZER_TTL_SECONDS": "0",
            # Password-reset e-mails the bench triggers go to a scratch folder, not the project's .local/mail.
            "MAIL_DIR": tempfile.mkdtemp(prefix="bench-mail-"),
        }
    )
    # The local stage's variables, as chalice sets them for `chalice local` and chalice.test.Client.
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for name, value in config["stages"]["local"]["environment_variables"].items():
        os.environ.setdefault(name, value)


@dataclass
class Reply:
    """Status, headers and raw body of one answer."""

    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None


class Api:
    """Requests through devstack's API Gateway emulation, as `make run` serves them."""

    def __init__(self, app: Any) -> None:
        from chalice.cli.factory import CLIFactory

        from devstack.gateway import EmulatedGateway

        config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name="local")
        self.gateway = EmulatedGateway(app, config)

    def request(self, method: str, path: str, body: Any = None, token: str | None = None) -> Reply:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else b""
        response = self.gateway.handle_request(method, path, headers, data)
        body = response["body"]
        raw = body if isinstance(body, bytes) else (body or "").encode()
        return Reply(response["statusCode"], {k.lower(): v for k, v in response["headers"].items()}, raw)

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("PATCH", path, body, **kw)

    def token(self, username: str, password: str) -> str:
        """An access token for the user."""
        reply = self.post("/api/token/", {"username": username, "password": password})
        assert reply.status == 200, reply.raw[:200]
        return str(reply.json["access"])
