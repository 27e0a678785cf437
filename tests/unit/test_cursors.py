import base64
import json

import pytest

from chalicelib.errors import MalformedRequest
from chalicelib.security.cursors import decode_cursor, encode_cursor

KEY = b"k" * 32


def test_cursor_round_trips_within_its_list():
    cursor = encode_cursor({"id": "01A", "created_sk": "2026#01A"}, "events", KEY)
    assert decode_cursor(cursor, "events", KEY) == {"id": "01A", "created_sk": "2026#01A"}


def test_modified_cursor_is_refused():
    cursor = encode_cursor({"id": "01A"}, "events", KEY)
    tampered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    with pytest.raises(MalformedRequest, match="^Invalid cursor$"):
        decode_cursor(tampered, "events", KEY)


def test_cursor_of_another_list_is_refused():
    cursor = encode_cursor({"id": "01A"}, "me-events:01B", KEY)
    with pytest.raises(MalformedRequest, match="^Invalid cursor$"):
        decode_cursor(cursor, "me-events:01C", KEY)


@pytest.mark.parametrize("garbage", ["", "!!!", "a", "A" * 200])
def test_garbage_cursor_is_refused(garbage):
    with pytest.raises(MalformedRequest, match="^Invalid cursor$"):
        decode_cursor(garbage, "events", KEY)


@pytest.mark.parametrize("position", range(16))
def test_every_byte_of_the_signature_counts(position):
    raw = bytearray(base64.urlsafe_b64decode(encode_cursor({"id": "01A"}, "events", KEY) + "=="))
    raw[position] ^= 0x01
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(MalformedRequest, match="^Invalid cursor$"):
        decode_cursor(forged, "events", KEY)


def test_the_cursor_format_is_fixed_so_cursors_outlive_a_deployment():
    # A client holding a `next` link across a deployment must still be able to follow it: any change to the
    # key derivation, the MAC's input or the payload's encoding breaks this known answer.
    assert encode_cursor({"id": "01A", "created_sk": "2026#01A"}, "events", KEY) == (
        "hAn4p4542kFVRbBuOiRSoHsiY3JlYXRlZF9zayI6IjIwMjYjMDFBIiwiaWQiOiIwMUEifQ"
    )
    assert decode_cursor("ITA4Y1V0TZBjNhZ9EFkuIHsiaWQiOiIwMUEifQ", "events", KEY) == {"id": "01A"}


@pytest.mark.parametrize("start", [["01A"], {"id": 1}, {"id": None}, "01A"])
def test_a_signed_cursor_whose_start_is_not_a_map_of_strings_is_refused(start):
    # Only the server can sign one, but a start key DynamoDB would refuse must be a 400 here, never a 500.
    cursor = encode_cursor(start, "events", KEY)
    assert json.loads(base64.urlsafe_b64decode(cursor + "==")[16:]) == start
    with pytest.raises(MalformedRequest, match="^Invalid cursor$"):
        decode_cursor(cursor, "events", KEY)


def test_a_cursor_of_the_previous_key_is_still_good_and_the_previous_key_is_read_only_for_it():
    asked: list[str] = []

    def previous() -> bytes:
        asked.append("previous")
        return KEY

    old = encode_cursor({"id": "01A"}, "events", KEY)
    current = b"n" * 32
    assert decode_cursor(encode_cursor({"id": "01B"}, "events", current), "events", current, previous) == {"id": "01B"}
    assert asked == []
    assert decode_cursor(old, "events", current, previous) == {"id": "01A"}
    assert asked == ["previous"]


@pytest.mark.parametrize("previous", [None, lambda: None, lambda: b"o" * 32])
def test_a_cursor_of_neither_key_is_refused(previous):
    cursor = encode_cursor({"id": "01A"}, "events", KEY)
    with pytest.raises(MalformedRequest, match="^Invalid cursor$"):
        decode_cursor(cursor, "events", b"n" * 32, previous)
