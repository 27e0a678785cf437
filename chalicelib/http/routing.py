"""Route declaration: access level, authorizer, contract, body validation and error mapping, in one call."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Chalice, Request, Response

from chalicelib import bootstrap
from chalicelib.domain.enums import Access
from chalicelib.errors import DomainError, PermissionDenied
from chalicelib.http.authorizer import jwt_authorizer
from chalicelib.http.contract import Answer, InputRef, Operation, Parameter, RawBody, declare_operation
from chalicelib.http.logs import log_exception
from chalicelib.http.requests import principal, read_body
from chalicelib.http.responses import error_response, json_response, server_error
from chalicelib.security.access import declare

if TYPE_CHECKING:
    from chalicelib.domain.access import Principal

View = Callable[..., Any]
ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
ANY_CONTENT_TYPE = ["*/*"]  # the app answers 415 itself, in DRF's words
PREFLIGHT_MAX_AGE = "600"
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key"
# Views complete_routes adds to every path: not operations of the API, so not in its document.
GENERATED_VIEWS = frozenset({"preflight", "method_not_allowed"})


class Router:
    """Declares routes on a blueprint. A view gets the path parameters, and `data` (the validated body) when
    the route declares a body; it returns a body (200) or a Response, and raises domain errors."""

    def __init__(self, blueprint: Blueprint) -> None:
        self.blueprint = blueprint

    @property
    def request(self) -> Request:
        """The request being served."""
        return self.blueprint.current_request

    def caller(self) -> Principal:
        """The verified caller of a protected route."""
        return principal(self.request)

    def route(
        self,
        path: str,
        method: str,
        access: Access = Access.PUBLIC,
        *,
        summary: str,
        responses: Mapping[int, Answer],
        body: InputRef | None = None,
        body_required: bool = True,
        raw_body: RawBody | None = None,
        query: tuple[Parameter, ...] = (),
        headers: tuple[Parameter, ...] = (),
        conflicts: bool = False,
        errors: tuple[int, ...] = (),
        optional_auth: bool = False,
        uses_database: bool = True,
        cache_control: str | None = None,
    ) -> Callable[[View], View]:
        """Register a view for `method` at `path`. Protected access levels go through the authorizer, and the
        handler refuses, in this one place, any request the authorizer did not authenticate (a bad or expired
        token it let through so that the answer can say why) before anything else runs."""
        if access is not Access.PUBLIC:
            declare(path, [method], access)  # refused here, before anything is registered, unless in the table
        operation = Operation(
            path=path,
            method=method,
            summary=summary,
            access=access,
            body=body,
            body_required=body_required,
            raw_body=raw_body,
            query=query,
            headers=headers,
            responses=dict(responses),
            conflicts=conflicts,
            errors=errors,
            optional_auth=optional_auth,
            uses_database=uses_database,
        )
        declare_operation(operation)

        def decorator(view: View) -> View:
            @functools.wraps(view)
            def handler(**params: str) -> Response:
                try:
                    response = self._serve(operation, view, params)
                except DomainError as exc:
                    return error_response(exc)
                except Exception:  # noqa: BLE001 - a bug: log it, tell the client nothing about it
                    log_exception(self.request)
                    return server_error()
                if cache_control:
                    response.headers["Cache-Control"] = cache_control
                return response

            options: dict[str, Any] = {"methods": [method], "content_types": ANY_CONTENT_TYPE}
            if access is not Access.PUBLIC:
                options["authorizer"] = jwt_authorizer
            self.blueprint.route(path, **options)(handler)
            return view

        return decorator

    def _serve(self, operation: Operation, view: View, params: dict[str, Any]) -> Response:
        if operation.access is not Access.PUBLIC and not self.caller().has(operation.access):
            raise PermissionDenied()
        if operation.body is not None:
            from chalicelib.schemas.validation import validate

            raw = read_body(self.request, bootstrap.settings().max_body_bytes)
            params = {**params, "data": validate(operation.body.load(), raw)}
        result = view(**params)
        return result if isinstance(result, Response) else json_response(result)


def complete_routes(app: Chalice) -> None:
    """Give every path a CORS preflight answer and DRF's 405 for the methods it lacks.

    Without these, API Gateway answers an undefined method with a 403 and preflight with static headers."""
    for path, entries in list(app.routes.items()):
        allowed = sorted(entries)
        missing = [m for m in ALL_METHODS if m not in entries]
        if "OPTIONS" not in entries:
            app.route(path, methods=["OPTIONS"], content_types=ANY_CONTENT_TYPE)(_preflight(allowed))
        if missing:
            app.route(path, methods=missing, content_types=ANY_CONTENT_TYPE)(_not_allowed(app, allowed))


def _preflight(allowed: list[str]) -> View:
    def preflight(**_: str) -> Response:
        # The CORS middleware adds the origin headers; this only answers what may be sent.
        return Response(
            body="",
            status_code=204,
            headers={
                "Access-Control-Allow-Methods": ", ".join([*allowed, "OPTIONS"]),
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
            },
        )

    return preflight


def _not_allowed(app: Chalice, allowed: list[str]) -> View:
    def method_not_allowed(**_: str) -> Response:
        method = app.current_request.method if app.current_request else "?"
        return json_response(
            {"detail": f'Method "{method}" not allowed.'}, 405, {"Allow": ", ".join([*allowed, "OPTIONS"])}
        )

    return method_not_allowed
