"""Cache headers: public GETs to anonymous callers are kept by the edge for a few seconds, answers to a token
never, failures never (issue 25, item 5)."""

import pytest
from chalice.app import Request, Response

from chalicelib.http.middleware import cors_and_access_log
from chalicelib.settings import ConfigurationError, load_settings
from tests.support.faults import intercepted_calls

SHARED = "public, max-age=0, s-maxage=5"
VARY = "Origin, Authorization"
PRIVATE = "private, no-store"
EVENT = {"title": "Launch night", "description": "D", "capacity": 3, "starts_at": "2099-05-01T18:00:00Z"}
READS = frozenset({"GetItem", "Query", "BatchGetItem", "TransactGetItems", "Scan"})


@pytest.fixture
def public_paths(api, creator_token):
    event = api.post("/api/events/", EVENT, token=creator_token).json
    return [
        "/api/events/",
        "/api/events/?upcoming=true",
        "/api/events/?creator=" + event["creator"],
        "/api/events/?q=launch&sort=soonest",
        f"/api/events/{event['id']}/",
        f"/api/events/{event['id']}/calendar.ics",
        "/api/creators/creator_user/",
        "/api/creators/creator_user/events/?when=past",
    ]


def test_public_reads_of_anonymous_callers_are_shared_for_the_setting_s_seconds(api, public_paths):
    for path in public_paths:
        reply = api.get(path)
        assert (reply.status, reply.headers["cache-control"], reply.headers["vary"]) == (200, SHARED, VARY), path


def test_the_same_reads_with_a_token_stay_private(api, public_paths, user_token):
    for path in public_paths:
        reply = api.get(path, token=user_token)
        assert (reply.status, reply.headers["cache-control"]) == (200, PRIVATE), path
        assert "vary" not in reply.headers, path


def test_a_signed_in_answer_is_private_even_where_the_anonymous_one_is_shared(api, creator_token):
    draft = api.post("/api/events/", {**EVENT, "status": "draft"}, token=creator_token).json
    path = f"/api/events/{draft['id']}/"
    anonymous, creator = api.get(path), api.get(path, token=creator_token)
    assert (anonymous.status, anonymous.headers["cache-control"]) == (404, SHARED)
    assert (creator.status, creator.headers["cache-control"]) == (200, PRIVATE)


def test_refusals_are_kept_no_longer_than_a_success(api):
    unknown = api.get("/api/events/01J00000000000000000000000/")
    bad_cursor = api.get("/api/events/?cursor=nonsense")
    no_such_organizer = api.get("/api/creators/nobody/")
    assert [(r.status, r.headers["cache-control"]) for r in (unknown, bad_cursor, no_such_organizer)] == [
        (404, SHARED),
        (400, SHARED),
        (404, SHARED),
    ]


def test_an_unavailable_store_is_never_kept(api, public_paths):
    def throttled(name, params, proceed):
        if name in READS:
            from botocore.exceptions import ClientError

            error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}}
            raise ClientError(error, name)
        return proceed(name, params)

    with intercepted_calls(throttled):
        replies = [api.get(path) for path in public_paths[:1] + public_paths[4:5]]
    assert [(r.status, r.headers["cache-control"]) for r in replies] == [(503, "no-store"), (503, "no-store")]
    assert ["vary" in r.headers for r in replies] == [False, False]


def test_routes_that_say_otherwise_keep_their_own_cache_control(api, user_token):
    categories = api.get("/api/categories/")
    signed_categories = api.get("/api/categories/", token=user_token)
    health = api.get("/health/")
    console = api.get("/admin/")
    assert [(r.headers["cache-control"], r.headers.get("vary")) for r in (categories, signed_categories)] == [
        ("public, max-age=3600", VARY),
        ("public, max-age=3600", VARY),
    ]
    assert (health.headers["cache-control"], console.headers["cache-control"]) == ("no-store", "no-cache")


def test_writes_are_not_marked_shareable(api, creator_token):
    anonymous = api.post("/api/register/", {"username": "x"})
    created = api.post("/api/events/", EVENT, token=creator_token)
    assert (anonymous.status, anonymous.headers.get("cache-control")) == (400, None)
    assert (created.status, created.headers["cache-control"]) == (201, PRIVATE)


def _get(path: str, headers: dict[str, str]) -> Request:
    return Request(
        {
            "httpMethod": "GET",
            "path": path,
            "headers": headers,
            "multiValueQueryStringParameters": None,
            "pathParameters": None,
            "stageVariables": None,
            "body": None,
            "isBase64Encoded": False,
            "requestContext": {"requestId": "r", "resourcePath": path, "httpMethod": "GET"},
        }
    )


@pytest.mark.parametrize(("seconds", "expected"), [(30, "public, max-age=0, s-maxage=30"), (0, None)])
def test_the_shared_lifetime_is_the_setting_and_zero_shares_nothing(seconds, expected):
    middleware = cors_and_access_log(("https://app.example.com",), seconds)
    reply = middleware(_get("/api/events/", {"origin": "https://app.example.com"}), lambda r: Response(body="{}"))
    assert (reply.headers.get("Cache-Control"), reply.headers["Vary"]) == (
        expected,
        VARY if expected else "Origin",
    )


def test_the_setting_defaults_to_five_seconds_and_is_bounded_by_the_edge_s_maximum():
    assert load_settings({}).edge_cache_seconds == 5
    assert load_settings({"EDGE_CACHE_SECONDS": "60"}).edge_cache_seconds == 60
    with pytest.raises(ConfigurationError, match="EDGE_CACHE_SECONDS must be between 0 and 60, got 61"):
        load_settings({"EDGE_CACHE_SECONDS": "61"})
