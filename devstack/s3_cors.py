"""S3's CORS answered by the local AWS as S3 answers it: from the bucket's CORS rules, or not at all.

moto's server wraps every service in flask-cors, which allows any origin on every answer, and its own S3
preflight matches origins by prefix and ignores the method and headers asked for: a page from any origin could
post uploads to the local AWS and read the answers, where S3 refuses. So the local AWS runs with moto's global
CORS off and this layer answers for S3 as S3 does ("How Amazon S3 evaluates the CORS configuration on a
bucket"): the first rule whose origin, method and requested headers all match decides; no rule is a 403
preflight and an answer without CORS headers (the browser then hides it from the page)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

Rules = list[dict[str, Any]]
NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request "
    "method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the "
    "resource's CORS spec."
)
NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"


def _wildcard(pattern: str, value: str, *, fold: bool) -> bool:
    # An S3 CORS origin or header may hold one `*`, standing for any run of characters; the rest is literal.
    flags = re.IGNORECASE if fold else 0
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), value, flags) is not None


def matching_rule(rules: Rules, origin: str, method: str, headers: Iterable[str] = ()) -> dict[str, Any] | None:
    """The first rule allowing `origin` to send `method` with `headers` (the preflight's requested headers)."""
    for rule in rules:
        if not any(_wildcard(allowed, origin, fold=False) for allowed in rule.get("AllowedOrigins", [])):
            continue
        if method not in rule.get("AllowedMethods", []):
            continue
        allowed_headers = rule.get("AllowedHeaders", [])
        if all(any(_wildcard(a, h, fold=True) for a in allowed_headers) for h in headers):
            return rule
    return None


def _allow(rule: dict[str, Any], origin: str) -> list[tuple[str, str]]:
    any_origin = "*" in rule.get("AllowedOrigins", [])
    headers = [
        ("Access-Control-Allow-Origin", "*" if any_origin else origin),
        ("Access-Control-Allow-Methods", ", ".join(rule["AllowedMethods"])),
        ("Vary", VARY),
    ]
    if rule.get("ExposeHeaders"):
        headers.append(("Access-Control-Expose-Headers", ", ".join(rule["ExposeHeaders"])))
    if rule.get("MaxAgeSeconds") is not None:
        headers.append(("Access-Control-Max-Age", str(rule["MaxAgeSeconds"])))
    return headers


def _forbidden(message: str, method: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessForbidden</Code>'
        f"<Message>{message}</Message><Method>{method}</Method><ResourceType>BUCKET</ResourceType></Error>"
    ).encode()


class S3Cors:
    """WSGI middleware in front of moto: CORS for every S3 request that carries an Origin header."""

    def __init__(self, app: Any, rules_of: Callable[[str], Rules | None]) -> None:
        self.app = app
        self.rules_of = rules_of  # a bucket's CORS rules; None without a CORS configuration

    @staticmethod
    def bucket(environ: dict[str, Any]) -> str | None:
        """The bucket a path-style S3 request names (DynamoDB requests carry X-Amz-Target and name none)."""
        if environ.get("HTTP_X_AMZ_TARGET"):
            return None
        name = environ.get("PATH_INFO", "").lstrip("/").split("/", 1)[0]
        return name if name and name != "moto-api" else None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        origin = environ.get("HTTP_ORIGIN")
        bucket = self.bucket(environ)
        if not origin or bucket is None:
            return self.app(environ, start_response)
        rules = self.rules_of(bucket)
        method = environ.get("REQUEST_METHOD", "")
        asked = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
        if method == "OPTIONS" and asked:
            requested = [h.strip() for h in environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "").split(",")]
            requested = [h for h in requested if h]
            rule = matching_rule(rules or [], origin, asked, requested)
            if rule is None:
                body = _forbidden(NOT_ENABLED if rules is None else NOT_ALLOWED, asked)
                start_response(
                    "403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
                )
                return [body]
            headers = _allow(rule, origin)
            if requested:
                headers.append(("Access-Control-Allow-Headers", ", ".join(requested)))
            start_response("200 OK", [*headers, ("Content-Length", "0")])
            return [b""]
        rule = matching_rule(rules or [], origin, method)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(name, value) for name, value in headers if not name.lower().startswith("access-control-")]
            return start_response(status, kept + (_allow(rule, origin) if rule else []), exc_info)

        return self.app(environ, start)
