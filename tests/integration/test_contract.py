"""The OpenAPI document: valid, complete, served, and describing what the API answers."""

import re

import pytest
from openapi_spec_validator import validate

import app as app_module
from chalicelib.http.openapi import document_path, openapi_document
from chalicelib.http.routing import GENERATED_VIEWS
from tests.support.contract import ContractViolation, check


def test_document_is_valid_openapi_3_1():
    document = openapi_document()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_route_is_documented_and_nothing_else():
    routes = {
        (document_path(path), method.lower())
        for path, entries in app_module.app.routes.items()
        for method, entry in entries.items()
        if entry.view_name not in GENERATED_VIEWS
    }
    documented = {(path, method) for path, ops in openapi_document()["paths"].items() for method in ops}
    assert routes == documented


def test_operation_ids_are_unique_identifiers():
    # Generated clients name their functions after these (tests/e2e/test_generated_client.py).
    ids = [op["operationId"] for ops in openapi_document()["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids)) and all(re.fullmatch("[a-z][a-z0-9_]*", i) for i in ids), ids
    assert openapi_document()["paths"]["/api/events/{event_id}/bookings/"]["post"]["operationId"] == (
        "post_api_events_event_id_bookings"
    )


def test_protected_operations_declare_the_bearer_scheme_and_public_ones_do_not():
    for path, entries in app_module.app.routes.items():
        for method, entry in entries.items():
            if entry.view_name in GENERATED_VIEWS:
                continue
            operation = openapi_document()["paths"][document_path(path)][method.lower()]
            if entry.authorizer is not None:
                assert operation["security"] == [{"bearerAuth": []}], (method, path)
                assert {"401", "403"} <= set(operation["responses"])
            else:
                assert {"bearerAuth": []} not in operation.get("security", [{}])[:1], (method, path)


def test_schema_and_docs_are_served(api):
    served = api.get("/api/schema/")
    assert served.status == 200 and served.json == openapi_document()
    page = api.get("/api/docs/")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert b"redoc" in page.raw


def test_contract_check_catches_an_undocumented_status_and_a_wrong_body():
    with pytest.raises(ContractViolation):
        check("GET", "http://x/api/me/", 418, {}, b"")
    with pytest.raises(ContractViolation):
        check("GET", "http://x/health/", 200, {"Content-Type": "application/json"}, b'{"status": "bad"}')
    assert check("GET", "http://x/health/", 200, {"Content-Type": "application/json"}, b'{"status": "ok"}')
    assert not check("GET", "http://x/nowhere/", 404, {}, b"")


def test_partial_updates_document_their_body_as_optional(api, user_token):
    # Found by schemathesis' negative checks: an empty PATCH is a valid no-op, so the body is not required.
    for path in ("/api/me/", "/api/events/{event_id}/"):
        assert openapi_document()["paths"][path]["patch"]["requestBody"]["required"] is False
    assert api.request("PATCH", "/api/me/", token=user_token).status == 200
