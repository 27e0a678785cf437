"""The original README's walkthrough, verbatim, against the local stack with its demo data."""

from concurrent.futures import ThreadPoolExecutor

import requests

from tests.support.retry import RETRY_AFTER
from tests.support.stack import bearer, token


def test_original_walkthrough_works_against_the_demo_data(base):
    assert requests.get(f"{base}/health/", timeout=10).json() == {"status": "ok"}
    creator = token(base, "creator_user")
    me = requests.get(f"{base}/api/me/", headers=bearer(creator), timeout=10)
    assert me.status_code == 200
    assert {k: me.json()[k] for k in ("username", "email", "role", "avatar")} == {
        "username": "creator_user",
        "email": "",
        "role": "CREATOR",
        "avatar": None,
    }
    body = {"title": "Advanced Django", "description": "Deep dive into Django internals"}
    created = requests.post(f"{base}/api/events/", json=body, headers=bearer(creator), timeout=10)
    assert created.status_code == 201
    event = created.json()
    assert requests.get(f"{base}/api/events/{event['id']}/", timeout=10).json() == event
    listed = requests.get(f"{base}/api/events/", timeout=10).json()["results"]
    assert listed[0]["id"] == event["id"]

    user = token(base, "user")
    forbidden = requests.post(f"{base}/api/events/", json=body, headers=bearer(user), timeout=10)
    assert (forbidden.status_code, forbidden.json()) == (
        403,
        {"detail": "You do not have permission to perform this action."},
    )
    anonymous = requests.post(f"{base}/api/events/", json=body, timeout=10)
    assert (anonymous.status_code, anonymous.json()) == (
        401,
        {"detail": "Authentication credentials were not provided."},
    )
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_demo_data_has_staff_creator_user_and_events(base):
    admin = requests.get(f"{base}/api/me/", headers=bearer(token(base, "admin")), timeout=10).json()
    assert admin["is_staff"] is True
    titles = [e["title"] for e in requests.get(f"{base}/api/events/?limit=100", timeout=10).json()["results"]]
    assert "Serverless with Chalice" in titles and "Unannounced workshop" not in titles


def test_paths_work_with_and_without_the_trailing_slash(base):
    assert requests.get(f"{base}/api/events", timeout=10).status_code == 200
    assert requests.get(f"{base}/api/events/", timeout=10).status_code == 200
    assert requests.get(f"{base}/health", timeout=10).status_code == 200


def test_cached_policy_covers_every_route_of_the_role(base):
    # The gateway caches the first policy per token: a CREATOR's first call to /api/me/ must not lock out POST.
    creator = token(base, "creator_user")
    assert requests.get(f"{base}/api/me/", headers=bearer(creator), timeout=10).status_code == 200
    reply = requests.post(
        f"{base}/api/events/", json={"title": "t", "description": "d"}, headers=bearer(creator), timeout=10
    )
    assert reply.status_code == 201
    assert requests.get(f"{base}/api/me/events/", headers=bearer(creator), timeout=10).status_code == 200
    user = token(base, "user")
    assert requests.get(f"{base}/api/me/", headers=bearer(user), timeout=10).status_code == 200
    assert requests.get(f"{base}/api/me/events/", headers=bearer(user), timeout=10).status_code == 403


def test_hostile_bodies_over_http_get_4xx(base):
    creator = bearer(token(base, "creator_user"))
    headers = {**creator, "Content-Type": "application/json"}
    bad_utf8 = requests.post(
        f"{base}/api/events/", data=b'{"title":"\xff","description":"x"}', headers=headers, timeout=10
    )
    assert bad_utf8.status_code == 400 and bad_utf8.json()["detail"].startswith("JSON parse error")
    huge = requests.post(
        f"{base}/api/events/", data=b'{"title":"' + b"x" * 300_000 + b'"}', headers=headers, timeout=10
    )
    assert huge.status_code == 413
    nan = requests.post(f"{base}/api/events/", data=b'{"title": NaN, "description": "x"}', headers=headers, timeout=10)
    assert nan.status_code == 400


def test_methods_http_server_does_not_know_get_a_json_4xx_not_a_501(base):
    # Found by schemathesis: TRACE reached http.server's own 501 page instead of the gateway emulation.
    for method in ("TRACE", "CONNECT", "BREW"):
        reply = requests.request(method, f"{base}/health/", timeout=10)
        assert reply.status_code in (404, 405), (method, reply.status_code)
        assert reply.json() == {"detail": "Not found."}


def test_next_links_point_back_at_the_local_api_whatever_the_client_claims(base):
    reply = requests.get(
        f"{base}/api/events/?limit=1", headers={"Host": "evil.example", "X-Forwarded-Proto": "javascript"}, timeout=10
    )
    link = reply.json()["next"]
    assert link.startswith(f"{base}/api/events/?limit=1&cursor=")
    assert requests.get(link, timeout=10).status_code == 200


def test_a_hung_local_aws_is_a_503_with_retry_after_not_a_request_that_waits(stack, base):
    access = token(base, "user")  # before the pause: signing in needs DynamoDB too
    with stack.paused_aws(), ThreadPoolExecutor(2) as both:
        # The client would give up after 30 s; the API's own AWS timeouts end each request well before. Sent
        # together (the local API serves each in a thread of its own): they wait out those timeouts at once.
        listing_sent = both.submit(requests.get, f"{base}/api/events/", timeout=30)
        me_sent = both.submit(requests.get, f"{base}/api/me/", headers=bearer(access), timeout=30)
        listing, me = listing_sent.result(), me_sent.result()
    assert (listing.status_code, listing.json()) == (
        503,
        {"detail": "Service temporarily unavailable, try again later."},
    )
    assert listing.headers["Retry-After"] in RETRY_AFTER
    # The authorizer's own read of the user fails too: the gateway's answer for a failing authorizer.
    assert me.status_code == 503 and me.headers["Retry-After"] in RETRY_AFTER
    assert requests.get(f"{base}/api/events/", timeout=30).status_code == 200
