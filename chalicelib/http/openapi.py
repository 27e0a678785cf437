"""The OpenAPI 3.1 document, generated from the operations the routes declare and their pydantic schemas."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.http.contract import HTML, JAVASCRIPT, OPERATIONS, Operation
from chalicelib.schemas.responses import ErrorDetail, FieldErrors
from chalicelib.security.access import Access

REF = "#/components/schemas/{model}"
ERROR_TEXT = {
    400: "Invalid input: field errors, or a `detail` (bad JSON, bad cursor).",
    401: "No or invalid credentials.",
    403: "Signed in, but not allowed.",
    404: "Not found (or not visible to the caller).",
    409: "Conflicts with the current state; `code` says why. Transient ones carry Retry-After.",
    413: "Body too large.",
    415: "Unsupported media type.",
    503: "A dependency is throttling or unavailable; retry after Retry-After seconds.",
}
MEDIA_TEXT = {HTML: "A web page.", JAVASCRIPT: "A script."}


def _json(ref: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": ref}}


def _ref(model: type[BaseModel]) -> dict[str, Any]:
    return {"$ref": REF.format(model=model.__name__)}


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "required": True, "schema": {"type": "string"}}


def _error_codes(op: Operation) -> list[int]:
    codes = set()
    if op.body is not None or op.query:
        codes.add(400)
    if op.body is not None:
        codes |= {413, 415}
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
    schema = {"anyOf": [_ref(ErrorDetail), _ref(FieldErrors)]} if code == 400 else _ref(ErrorDetail)
    response: dict[str, Any] = {"description": ERROR_TEXT[code], "content": _json(schema)}
    if code == 401:
        response["headers"] = {"WWW-Authenticate": _header('`Bearer realm="api"`')}
    if code == 503:
        response["headers"] = {"Retry-After": _header("Seconds to wait before retrying.")}
    return response


def _operation(op: Operation) -> dict[str, Any]:
    doc: dict[str, Any] = {"summary": op.summary, "operationId": f"{op.method.lower()}_{op.path}".replace("/", "_")}
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in op.path_params
    ]
    parameters += [
        {"name": q.name, "in": "query", "required": False, "schema": q.schema, "description": q.description}
        for q in op.query
    ]
    parameters += [
        {"name": h.name, "in": "header", "required": False, "schema": h.schema, "description": h.description}
        for h in op.headers
    ]
    if parameters:
        doc["parameters"] = parameters
    if op.body is not None:
        doc["requestBody"] = {"required": op.body_required, "content": _json(_ref(op.body))}
    responses: dict[str, Any] = {}
    for status, model in op.responses.items():
        if model is None:
            responses[str(status)] = {"description": "Done; no body."}
        elif isinstance(model, str):
            responses[str(status)] = {
                "description": MEDIA_TEXT[model],
                "content": {model: {"schema": {"type": "string"}}},
            }
        elif isinstance(model, type):
            responses[str(status)] = {"description": model.__doc__ or "OK", "content": _json(_ref(model))}
    for code in _error_codes(op):
        responses[str(code)] = _error_response(code)
    doc["responses"] = responses
    if op.access is not Access.PUBLIC:
        doc["security"] = [{"bearerAuth": []}]
    elif op.optional_auth:
        doc["security"] = [{}, {"bearerAuth": []}]
    return doc


def document_path(path: str) -> str:
    """The documented form of a route: the original API's paths end with a slash."""
    return path if path.endswith("/") else path + "/"


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    """The whole document (built once per process, on first request)."""
    inputs = {op.body for op in OPERATIONS if op.body is not None}
    outputs: set[type[BaseModel]] = {ErrorDetail, FieldErrors}
    for op in OPERATIONS:
        outputs |= {m for m in op.responses.values() if isinstance(m, type) and issubclass(m, BaseModel)}
    pairs: list[tuple[type[BaseModel], Any]] = []
    pairs += [(m, "validation") for m in sorted(inputs, key=lambda m: m.__name__)]
    pairs += [(m, "serialization") for m in sorted(outputs, key=lambda m: m.__name__)]
    _, definitions = models_json_schema(pairs, ref_template=REF)
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
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
