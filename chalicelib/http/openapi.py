"""The OpenAPI 3.1 document, generated from the operations the routes declare: request schemas from their
pydantic models, answers from the field lists in http/views.py."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from chalicelib.domain.enums import Access
from chalicelib.http.contract import OPERATIONS, Answer, Operation
from chalicelib.http.views import REF, Shape

ERROR_TEXT = {
    400: "Invalid input: field errors, or a `detail` (bad JSON, bad cursor).",
    401: "No or invalid credentials. A presented but invalid or expired token answers simplejwt's body with "
    '`"code": "token_not_valid"`: refresh and retry.',
    403: "Signed in, but not allowed.",
    404: "Not found (or not visible to the caller).",
    409: "Conflicts with the current state; `code` says why. Transient ones carry Retry-After.",
    413: "Body too large.",
    415: "Unsupported media type.",
    429: "Throttled (DRF's body, `Expected available in N seconds.`); retry after Retry-After seconds.",
    503: "A dependency is throttling or unavailable; retry after Retry-After seconds.",
}
ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    "ErrorDetail": {
        "type": "object",
        "description": "DRF's non-field error: `detail`, plus `code` (and simplejwt's `messages`) where sent.",
        "properties": {
            "detail": {"type": "string"},
            "code": {"type": "string"},
            "messages": {"type": "array", "items": {"type": "object"}},
        },
        "required": ["detail"],
        "additionalProperties": False,
    },
    "FieldErrors": {
        "type": "object",
        "description": "DRF's validation errors: field name (or `non_field_errors`) to messages.",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": REF.format(name=name)}


def _header(description: str, required: bool = True) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": {"type": "string"}}


def _error_codes(op: Operation) -> list[int]:
    codes = set()
    if op.body is not None or op.query or op.raw_body is not None:
        codes.add(400)
    if op.body is not None:
        codes |= {413, 415}
    if op.raw_body is not None:
        codes.add(413)
    if op.access is not Access.PUBLIC:
        codes |= {401, 403}
    if op.optional_auth:
        codes.add(401)
    if op.path_params:
        codes.add(404)
    if op.conflicts:
        codes.add(409)
    if op.uses_database:
        codes.add(503)
    codes |= set(op.errors)
    return sorted(codes)


def _error_response(code: int) -> dict[str, Any]:
    schema = {"anyOf": [_ref("ErrorDetail"), _ref("FieldErrors")]} if code == 400 else _ref("ErrorDetail")
    response: dict[str, Any] = {"description": ERROR_TEXT[code], "content": _json(schema)}
    if code == 401:
        response["headers"] = {"WWW-Authenticate": _header('`Bearer realm="api"`')}
    if code == 409:
        response["headers"] = {"Retry-After": _header("Seconds to wait before retrying a transient conflict.", False)}
    if code in (429, 503):
        response["headers"] = {"Retry-After": _header("Seconds to wait before retrying.")}
    return response


def _success(answer: Answer) -> dict[str, Any]:
    if answer is None:
        return {"description": "Done; no body."}
    if isinstance(answer, Shape):
        return {"description": answer.description, "content": _json(_ref(answer.name))}
    return {"description": f"A `{answer}` document.", "content": {answer: {"schema": {"type": "string"}}}}


def operation_id(op: Operation) -> str:
    """An identifier in every language a client may be generated in: `post_api_events_event_id_bookings`."""
    return re.sub(r"[^a-z0-9]+", "_", f"{op.method} {op.path}".lower()).strip("_")


def _operation(op: Operation) -> dict[str, Any]:
    doc: dict[str, Any] = {"summary": op.summary, "operationId": operation_id(op)}
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in op.path_params
    ]
    parameters += [
        {"name": q.name, "in": "query", "required": q.required, "schema": q.schema, "description": q.description}
        for q in op.query
    ]
    parameters += [
        {"name": h.name, "in": "header", "required": h.required, "schema": h.schema, "description": h.description}
        for h in op.headers
    ]
    if parameters:
        doc["parameters"] = parameters
    if op.body is not None:
        doc["requestBody"] = {"required": op.body_required, "content": _json(_ref(op.body.name))}
    if op.raw_body is not None:
        doc["requestBody"] = {
            "required": True,
            "description": op.raw_body.description,
            "content": {op.raw_body.media_type: {"schema": op.raw_body.schema}},
        }
    responses = {str(status): _success(answer) for status, answer in op.responses.items()}
    for code in _error_codes(op):
        responses[str(code)] = _error_response(code)
    doc["responses"] = responses
    if op.access is not Access.PUBLIC:
        doc["security"] = [{"bearerAuth": []}]
    elif op.optional_auth:
        doc["security"] = [{}, {"bearerAuth": []}]
    return doc


def document_path(path: str) -> str:
    """The documented form of a route: the original API's paths end with a slash; files (`console.js`) do not."""
    if path.endswith("/") or "." in path.rsplit("/", 1)[-1]:
        return path
    return path + "/"


def _schemas() -> dict[str, Any]:
    from pydantic.json_schema import models_json_schema

    inputs = sorted({op.body.load() for op in OPERATIONS if op.body is not None}, key=lambda m: m.__name__)
    _, definitions = models_json_schema([(m, "validation") for m in inputs], ref_template=REF.replace("name", "model"))
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    for op in OPERATIONS:
        for answer in op.responses.values():
            if isinstance(answer, Shape):
                schemas.update({shape.name: shape.schema() for shape in answer.shapes()})
    schemas.update(ERROR_SCHEMAS)
    return dict(sorted(schemas.items()))


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    """The whole document (built once per process, on first request)."""
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(document_path(op.path), {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Sessions Marketplace API",
            "version": "1.0.0",
            "description": "Creators publish sessions (events); users find and book them. Errors use DRF's shapes.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
