"""An in-process client: the app behind the API Gateway emulation (the same one `make run` uses), on moto's
mock_aws. It drives the emulation directly rather than through chalice.test.Client, whose gateway can only be
replaced through a private attribute."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalice.cli.factory import CLIFactory

from devstack.gateway import EmulatedGateway
from tests.support.contract import check

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Reply:
    """Status, headers and parsed JSON body of one answer."""

    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None


class Api:
    """Requests through the same gateway emulation `make run` uses."""

    # Every answer is checked against the published OpenAPI document unless a test turns this off.
    check_contract = True

    def __init__(self, app: Any) -> None:
        config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name="local")
        self.gateway = EmulatedGateway(app, config)

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
        body = response["body"]
        body_bytes = body if isinstance(body, bytes) else (body or "").encode()
        headers = {k.lower(): v for k, v in {**response["headers"], **response["multiValueHeaders"]}.items()}
        reply = Reply(response["statusCode"], headers, body_bytes)
        if self.check_contract:
            check(method, f"http://test{path}", reply.status, reply.headers, reply.raw)
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
        reply = self.post("/api/token/", {"username": username, "password": password})
        assert reply.status == 200, reply.json
        return str(reply.json["access"])


def proxy_event(resource: str, path: str) -> dict[str, Any]:
    """The API Gateway proxy event of a GET of route `resource` called at `path` (with its stage: /v1/...)."""
    return {
        "resource": resource,
        "path": path,
        "httpMethod": "GET",
        "headers": {"Host": "example.execute-api.us-east-1.amazonaws.com"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {"resourcePath": resource, "httpMethod": "GET", "path": path, "requestId": "t"},
    }
