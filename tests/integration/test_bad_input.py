"""Malformed or hostile input gets a clear 4xx, never a 500, and changes nothing."""

import json

import pytest

import app as app_module
from tests.support.faults import recorded_calls

EVENT = {"title": "T", "description": "D"}
GARBAGE_BODIES = [
    b"{",
    b"\xff\xfe\x00garbage",
    b"[]",
    b"null",
    b"42",
    b'"text"',
    b'{"title": NaN}',
    b"[" * 5000 + b"]" * 5000,
    json.dumps({"title": {"nested": [1, 2]}, "description": 7, "capacity": "many", "unknown": 1}).encode(),
    json.dumps({"username": 5, "password": None, "email": [], "refresh": {}, "token": 1.5}).encode(),
    json.dumps({"starts_at": "yesterday", "price": "-1", "currency": "EURO", "timezone": "../../etc/passwd"}).encode(),
]


def _concrete(path: str, event_id: str) -> str:
    return path.replace("{event_id}", event_id) + "/"


def test_no_route_answers_garbage_with_a_server_error(api, creator_token):
    event_id = api.post("/api/events/", EVENT, token=creator_token).json["id"]
    for path, entries in app_module.app.routes.items():
        for method in entries:
            for body in GARBAGE_BODIES:
                reply = api.request(method, _concrete(path, event_id), raw=body, token=creator_token)
                assert reply.status < 500, (method, path, body[:40], reply.status, reply.raw[:200])
                if reply.status >= 400 and reply.raw:
                    assert isinstance(reply.json, dict), (method, path)


def test_invalid_json_is_a_parse_error(api, creator_token):
    reply = api.request("POST", "/api/events/", raw=b"{'title': 1}", token=creator_token)
    assert (reply.status, reply.json) == (
        400,
        {"detail": "JSON parse error - Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"},
    )


def test_body_that_is_not_utf8_is_400(api, creator_token):
    reply = api.request("POST", "/api/events/", raw=b'{"title": "\xff\xfe", "description": "x"}', token=creator_token)
    assert (reply.status, reply.json) == (400, {"detail": "JSON parse error - request body is not valid UTF-8"})


def test_body_that_is_not_an_object_is_a_non_field_error(api, creator_token):
    reply = api.request("POST", "/api/events/", raw=b"[1, 2]", token=creator_token)
    assert reply.json == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


def test_huge_body_is_413_and_creates_nothing(api, creator_token):
    reply = api.post("/api/events/", {"title": "T", "description": "x" * 200_000}, token=creator_token)
    assert (reply.status, reply.json) == (413, {"detail": "Request body is larger than 65536 bytes."})
    assert api.get("/api/events/").json["results"] == []


def test_a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_413(api, creator_token):
    def body_of(size: int) -> bytes:
        head = b'{"title": "T", "description": "'
        return head + b"x" * (size - len(head) - 2) + b'"}'

    at_limit = api.request("POST", "/api/events/", raw=body_of(65_536), token=creator_token)
    assert (at_limit.status, at_limit.json) == (
        400,
        {"description": ["Ensure this field has no more than 10000 characters."]},
    )
    over = api.request("POST", "/api/events/", raw=body_of(65_537), token=creator_token)
    assert (over.status, over.json) == (413, {"detail": "Request body is larger than 65536 bytes."})


def test_unsupported_media_type_is_415(api, creator_token):
    reply = api.request(
        "POST", "/api/events/", raw=b"title=x", token=creator_token, headers={"Content-Type": "text/plain"}
    )
    assert (reply.status, reply.json) == (415, {"detail": 'Unsupported media type "text/plain" in request.'})


def test_wrong_types_and_overlong_strings_are_field_errors(api, creator_token):
    reply = api.post(
        "/api/events/",
        {
            "title": ["x"],
            "description": "d" * 10_001,
            "capacity": 1.5,
            "price": "abc",
            "online_url": "javascript:alert(1)",
        },
        token=creator_token,
    )
    assert reply.status == 400
    assert reply.json == {
        "title": ["Not a valid string."],
        "description": ["Ensure this field has no more than 10000 characters."],
        "capacity": ["A valid integer is required."],
        "price": ["A valid number is required."],
        "online_url": ["Enter a valid https URL."],
    }


def test_unknown_paths_are_404_and_undefined_methods_405(api):
    assert (api.get("/nope").status, api.get("/api/events/x/y/z").status) == (404, 404)
    reply = api.request("PUT", "/api/events/01M8DJKSQ4WJA7GH71FHCTVASD/")
    assert reply.status == 405 and reply.headers["allow"] == "DELETE, GET, PATCH, OPTIONS"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # A page of events is its index's Query: the seats shown are the copy on the events (seat_copies).
        ("/api/events/", ["Query"]),
        ("/api/events", ["Query"]),
        # A creator's own: the caller's account first (is it still a creator?).
        ("/api/me/events/", ["GetItem", "Query"]),
        ("/api/me/", ["GetItem", "GetItem"]),
    ],
)
def test_no_request_path_scans_a_table(api, creator_token, path, expected):
    for _ in range(3):
        api.post("/api/events/", EVENT, token=creator_token)
    with recorded_calls() as calls:
        reply = api.get(path, token=creator_token)
    assert reply.status == 200
    assert calls == expected


def test_preflight_answers_allowed_origins_only(api):
    for origin in ("http://localhost:3000", "http://127.0.0.1:5173", "http://localhost:8080"):
        allowed = api.request("OPTIONS", "/api/events/", headers={"Origin": origin})
        assert allowed.status == 204
        assert allowed.headers["access-control-allow-origin"] == origin
        assert allowed.headers["access-control-allow-methods"] == "GET, POST, OPTIONS"
        assert allowed.headers["access-control-allow-headers"] == "Authorization, Content-Type, Idempotency-Key"
    for stranger in (
        "https://evil.example",
        "http://localhost.evil.example:3000",
        "http://127.0.0.1:5173.evil.example",
    ):
        reply = api.request("OPTIONS", "/api/events/", headers={"Origin": stranger})
        assert "access-control-allow-origin" not in reply.headers, stranger
