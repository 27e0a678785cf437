"""Check HTTP answers against the OpenAPI document the API publishes."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from chalicelib.http.openapi import openapi_document


class ContractViolation(AssertionError):
    """An answer the document does not describe."""


@lru_cache(maxsize=1)
def _compiled() -> tuple[list[tuple[re.Pattern[str], str]], Registry]:
    document = openapi_document()
    patterns = []
    for path in document["paths"]:
        regex = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path.rstrip("/"))) + "/?$"
        patterns.append((re.compile(regex), path))
    resource = Resource(contents=document, specification=DRAFT202012)
    return patterns, Registry().with_resource("urn:api", resource)


def _operation(method: str, path: str) -> dict[str, Any] | None:
    patterns, _ = _compiled()
    for regex, template in patterns:
        if regex.match(path):
            return openapi_document()["paths"][template].get(method.lower())
    return None


def check(method: str, url: str, status: int, headers: dict[str, str], body: bytes) -> bool:
    """Raise ContractViolation when a documented operation answers outside its document.

    Returns False for requests the document does not cover (unknown paths, 405s, preflight)."""
    operation = _operation(method, urlsplit(url).path)
    if operation is None:
        return False
    responses = operation["responses"]
    if str(status) not in responses:
        raise ContractViolation(f"{method} {url}: status {status} is not documented ({sorted(responses)})")
    response = responses[str(status)]
    lower = {k.lower(): v for k, v in headers.items()}
    for name, spec in response.get("headers", {}).items():
        if spec.get("required") and name.lower() not in lower:
            raise ContractViolation(f"{method} {url}: {status} lacks the {name} header")
    content = response.get("content")
    if not content:
        if body:
            raise ContractViolation(f"{method} {url}: {status} should have no body")
        return True
    media = lower.get("content-type", "").split(";")[0].strip()
    if media not in content:
        raise ContractViolation(f"{method} {url}: content type {media!r} is not one of {sorted(content)}")
    if media == "application/json":
        schema = _absolute(content[media]["schema"])
        _, registry = _compiled()
        validator = jsonschema.Draft202012Validator(schema, registry=registry)
        errors = sorted(validator.iter_errors(json.loads(body)), key=lambda e: list(e.path))
        if errors:
            raise ContractViolation(f"{method} {url}: {status} body breaks its schema: {errors[0].message}")
    return True


def _absolute(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: ("urn:api" + v if k == "$ref" and v.startswith("#") else _absolute(v)) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_absolute(v) for v in schema]
    return schema
