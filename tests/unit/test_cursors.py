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
    with pytest.raises(MalformedRequest):
        decode_cursor(tampered, "events", KEY)


def test_cursor_of_another_list_is_refused():
    cursor = encode_cursor({"id": "01A"}, "me-events:01B", KEY)
    with pytest.raises(MalformedRequest):
        decode_cursor(cursor, "me-events:01C", KEY)


@pytest.mark.parametrize("garbage", ["", "!!!", "a", "A" * 200])
def test_garbage_cursor_is_refused(garbage):
    with pytest.raises(MalformedRequest):
        decode_cursor(garbage, "events", KEY)


@pytest.mark.parametrize("position", range(16))
def test_every_byte_of_the_signature_counts(position):
    import base64

    raw = bytearray(base64.urlsafe_b64decode(encode_cursor({"id": "01A"}, "events", KEY) + "=="))
    raw[position] ^= 0x01
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(MalformedRequest, match="^Invalid cursor$"):
        decode_cursor(forged, "events", KEY)
