"""The one place protected routes refuse what the authorizer did not authenticate, checked on every route."""

from __future__ import annotations

import time
import types

import pytest

from chalicelib.security.access import protected_routes
from tests.integration.conftest import PASSWORD

SOME_ID = "01M8DJKSQ4WJA7GH71FHCTVASD"
ROUTES = sorted(protected_routes())
# Routes whose success revokes the caller's tokens (the authorizer then refuses them as blacklisted).
SIGNING_OUT = {("/api/me/logout-all", "POST")}


def _call(api, path: str, method: str, token: str):
    concrete = path.replace("{event_id}", SOME_ID).replace("{booking_id}", SOME_ID) + "/"
    body = {} if method in ("POST", "PATCH", "PUT") else None
    return api.request(method, concrete, body, token=token)


def _expired_body() -> dict:
    return {
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is expired"}],
    }


@pytest.mark.parametrize(("path", "method"), ROUTES)
def test_every_protected_route_refuses_a_token_the_authorizer_could_not_verify(api, path, method):
    reply = _call(api, path, method, "garbage")
    assert reply.status == 401
    assert reply.json["code"] == "token_not_valid"
    assert reply.json["messages"][0]["message"] == "Token is invalid"


@pytest.mark.parametrize(("path", "method"), ROUTES)
def test_every_protected_route_refuses_a_policy_cached_past_the_tokens_expiry(
    api, make_user, monkeypatch, path, method
):
    make_user("admin", staff=True)  # staff: the policy covers every route
    token = api.token("admin", PASSWORD)
    assert _call(api, path, method, token).status != 401
    if (path, method) in SIGNING_OUT:
        token = api.token("admin", PASSWORD)
    import chalicelib.http.requests as requests_module

    # The gateway still holds an Allow for this token (its cache TTL may outlive the token); the app's clock
    # has passed the token's exp.
    later = types.SimpleNamespace(time=lambda: time.time() + 301)
    monkeypatch.setattr(requests_module, "time", later)
    reply = _call(api, path, method, token)
    assert (reply.status, reply.json) == (401, _expired_body())
    assert reply.headers["www-authenticate"] == 'Bearer realm="api"'


USER_ROUTES = [(p, m) for (p, m), access in sorted(protected_routes().items()) if access.value == "signed_in"]
NOT_FOR_USERS = [(p, m) for (p, m), access in sorted(protected_routes().items()) if access.value != "signed_in"]


@pytest.mark.parametrize(("path", "method"), NOT_FOR_USERS)
def test_a_role_that_may_not_call_a_route_gets_403_from_the_app_but_401_once_its_token_expired(
    api, make_user, monkeypatch, path, method
):
    make_user("plain")
    token = api.token("plain", PASSWORD)
    refused = _call(api, path, method, token)
    assert (refused.status, refused.json) == (403, {"detail": "You do not have permission to perform this action."})
    import chalicelib.http.requests as requests_module

    # The policy cached for this token covers the route; the token has expired since: 401, so a client
    # refreshes, rather than a 403 that says the account may not.
    later = types.SimpleNamespace(time=lambda: time.time() + 301)
    monkeypatch.setattr(requests_module, "time", later)
    reply = _call(api, path, method, token)
    assert (reply.status, reply.json) == (401, _expired_body())
