"""GET /api/schema/ (the OpenAPI document) and GET /api/docs/ (a page that renders it)."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.http.contract import HTML
from chalicelib.http.openapi import openapi_document
from chalicelib.http.routing import Router
from chalicelib.http.views import OPENAPI_DOCUMENT

docs_bp = Blueprint(__name__)
routes = Router(docs_bp)

# Redoc renders the document in the reader's browser; the API serves only this page and the JSON.
PAGE = r"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Sessions Marketplace API</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
  <div id="redoc"></div>
  <script src="https://cdn.redoc.ly/redoc/v2.1.5/bundles/redoc.standalone.js"></script>
  <script>
    // Relative to wherever the API is mounted (an API Gateway stage adds a prefix), with or without the slash.
    Redoc.init(window.location.pathname.replace(/docs\/?$/, "schema/"), {}, document.getElementById("redoc"));
  </script>
</body>
</html>
"""


@routes.route(
    "/api/schema", "GET", summary="This OpenAPI 3.1 document", responses={200: OPENAPI_DOCUMENT}, uses_database=False
)
def schema() -> dict[str, Any]:
    """The OpenAPI document."""
    return openapi_document()


@routes.route("/api/docs", "GET", summary="A page rendering the document", responses={200: HTML}, uses_database=False)
def docs() -> Response:
    """Human-readable API documentation."""
    return Response(body=PAGE, status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})
