"""The authorizer's policy, checked against every protected route with API Gateway's ARN matching."""

import pytest
from chalice.app import AuthRequest, AuthResponse, AuthRoute
from chalice.local import ARNMatcher

import app as app_module
from chalicelib.domain.enums import Access, Role
from chalicelib.security.access import policy_routes, protected_routes
from tests.support.factories import principal

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef/v1/GET/api/me"


def _allowed_arns(who):
    response = AuthResponse(routes=[AuthRoute(p, m) for p, m in policy_routes()], principal_id=who.user_id)
    statement = response.to_dict(AuthRequest("TOKEN", "t", METHOD_ARN))["policyDocument"]["Statement"][0]
    return statement["Resource"]


def _arn(method: str, path: str) -> str:
    concrete = path.replace("{event_id}", "01M8DJKSQ4WJA7GH71FHCTVASD")
    return f"arn:aws:execute-api:us-east-1:123456789012:abcdef/v1/{method}{concrete}"


WHO = {
    "user": principal(Role.USER),
    "creator": principal(Role.CREATOR),
    "staff": principal(Role.USER, staff=True),
}


@pytest.mark.parametrize("who", WHO)
def test_every_callers_policy_reaches_every_protected_route_and_the_app_checks_the_role(who):
    # A route left out of a cached policy is the gateway's own 403, even once the token has expired: the app
    # must see the request to answer 401 first (tests/integration/test_authorization.py).
    resources = _allowed_arns(WHO[who])
    for path, method in protected_routes():
        for suffix in ("", "/"):
            assert ARNMatcher(_arn(method, path + suffix)).does_any_resource_match(resources), (who, method, path)


def test_a_token_the_app_must_refuse_itself_reaches_every_protected_route():
    resources = AuthResponse(routes=[AuthRoute(p, m) for p, m in policy_routes()], principal_id="anonymous").to_dict(
        AuthRequest("TOKEN", "t", METHOD_ARN)
    )["policyDocument"]["Statement"][0]["Resource"]
    for path, method in protected_routes():
        assert ARNMatcher(_arn(method, path)).does_any_resource_match(resources), (method, path)


def test_every_protected_route_is_behind_the_authorizer_and_every_public_one_is_not():
    declared = protected_routes()
    behind = set()
    for path, entries in app_module.app.routes.items():
        for method, entry in entries.items():
            assert (entry.authorizer is not None) == ((path, method) in declared), (method, path)
            if entry.authorizer is not None:
                behind.add((path, method))
    assert behind == set(declared)  # the route table names no route the app lacks


def test_a_protected_route_the_route_table_does_not_know_cannot_be_declared():
    from chalice.app import Blueprint

    from chalicelib.http.routing import Router
    from chalicelib.security.access import UndeclaredRoute

    routes = Router(Blueprint("probe"))
    with pytest.raises(UndeclaredRoute, match=r"^GET /api/secret \(signed_in\) is not in"):
        routes.route("/api/secret", "GET", Access.SIGNED_IN, summary="x", responses={200: None})(lambda: None)
    with pytest.raises(UndeclaredRoute):  # known, but with another access level
        routes.route("/api/me", "GET", Access.STAFF, summary="x", responses={200: None})(lambda: None)


def test_creating_events_needs_a_creator_or_staff():
    assert protected_routes()[("/api/events", "POST")] is Access.CREATOR
    assert not WHO["user"].has(Access.CREATOR)
    assert WHO["creator"].has(Access.CREATOR) and WHO["staff"].has(Access.CREATOR)
