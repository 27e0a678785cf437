"""API Gateway emulation for `chalice local` and `chalice.test.Client`.

Chalice's local gateway cannot turn a raising authorizer into a 401, does not cache policies, and answers
unknown paths with AWS-style bodies. This one behaves like the deployed REST API: the authorizer's
`Unauthorized` becomes the UNAUTHORIZED gateway response, a policy that does not cover the route becomes
ACCESS_DENIED, policies are cached per token for the authorizer's TTL, and every gateway-made answer uses
the same definitions (chalicelib.http.gateway_responses) as the deployed template.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import ARNMatcher, LocalARNBuilder, LocalGateway

from chalicelib.http.gateway_responses import GATEWAY_RESPONSES

Response = dict[str, Any]
# An authorizer that raises an exception with exactly this message makes API Gateway answer 401.
UNAUTHORIZED = "Unauthorized"


def gateway_response(kind: str, status: int | None = None) -> Response:
    """The answer API Gateway gives for response type `kind`."""
    definition = GATEWAY_RESPONSES[kind]
    return {
        "statusCode": definition.status or status or 400,
        "headers": {"Content-Type": "application/json", **dict(definition.headers)},
        "multiValueHeaders": {},
        "body": definition.body(),
    }


class EmulatedGateway(LocalGateway):
    """LocalGateway with API Gateway's authorizer semantics and gateway responses."""

    def __init__(self, app_object: Chalice, config: Config, domain_name: str = "testserver") -> None:
        super().__init__(app_object, config)
        self._domain_name = domain_name
        self._arns = LocalARNBuilder()
        self._policy_cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def handle_request(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> Response:
        context = self._generate_lambda_context()
        if isinstance(body, bytes):
            # The REST API hands text bodies to the function as a string, replacing undecodable bytes.
            body = body.decode("utf-8", errors="replace")  # type: ignore[assignment]
        try:
            event = self._generate_lambda_event(method, path, headers, body)
        except ValueError:
            return gateway_response("MISSING_AUTHENTICATION_TOKEN")
        event["requestContext"].update(
            {"requestId": str(uuid.uuid4()), "stage": "local", "domainName": self._domain_name}
        )
        route = self._app_object.routes.get(event["requestContext"]["resourcePath"], {}).get(method)
        if route is None:
            return gateway_response("MISSING_AUTHENTICATION_TOKEN")
        if route.authorizer is not None:
            denied = self._authorize(route.authorizer, method, path, event, context)
            if denied is not None:
                return denied
        return self._app_object(event, context)

    def _authorize(
        self, authorizer: Any, method: str, path: str, event: dict[str, Any], context: Any
    ) -> Response | None:
        token = next((v for k, v in event["headers"].items() if k.lower() == "authorization"), None)
        if not token:
            return gateway_response("UNAUTHORIZED")
        arn = self._arns.build_arn(method, path.split("?")[0])
        result = self._cached(token)
        if result is None:
            auth_event = {"type": "TOKEN", "authorizationToken": token, "methodArn": arn}
            try:
                result = authorizer(auth_event, context)
            except Exception as exc:  # noqa: BLE001 - mirrors the gateway: any other error is a failure
                return gateway_response("UNAUTHORIZED" if str(exc) == UNAUTHORIZED else "AUTHORIZER_FAILURE")
            ttl = getattr(getattr(authorizer, "config", None), "ttl_seconds", 0) or 0
            if ttl > 0:
                with self._lock:
                    self._policy_cache[token] = (time.monotonic() + ttl, result)
        resources = [
            resource
            for statement in result.get("policyDocument", {}).get("Statement", [])
            if statement.get("Effect") == "Allow"
            for resource in statement.get("Resource", [])
        ]
        if not ARNMatcher(arn).does_any_resource_match(resources):
            return gateway_response("ACCESS_DENIED")
        event["requestContext"]["authorizer"] = {**result.get("context", {}), "principalId": result["principalId"]}
        return None

    def _cached(self, token: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._policy_cache.get(token)
            if entry is None or entry[0] < time.monotonic():
                self._policy_cache.pop(token, None)
                return None
            return entry[1]
