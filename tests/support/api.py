"""The in-process client of the integration tests: devstack's, with every answer checked against the published
OpenAPI document unless a test turns that off."""

from __future__ import annotations

from typing import Any

from devstack.inprocess import InProcessApi, Reply
from tests.support.contract import check

__all__ = ["Api", "Reply", "proxy_event"]


class Api(InProcessApi):
    """Requests through the same gateway emulation `make run` uses."""

    check_contract = True

    def __init__(self, app: Any) -> None:
        super().__init__(app, self._check)

    def _check(self, method: str, path: str, reply: Reply) -> None:
        if self.check_contract:
            check(method, f"http://test{path}", reply.status, reply.headers, reply.raw)


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
