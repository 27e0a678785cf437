"""Signed one-click unsubscribe links: what a signature covers, and which keys verify it."""

from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.security.tokens import StaticKeys
from chalicelib.security.unsubscribe import sign, unsubscribe_url, verify

USER = "01M8DJKSQ4WJA7GH71FHCTVASD"
OTHER = "01M8DJKSQ4WJA7GH71FHCTVASE"
KEY = b"k" * 32
NEW_KEY = b"n" * 32


def _query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query, strict_parsing=True).items()}


def test_the_link_names_the_user_and_the_kind_and_carries_the_signature():
    url = unsubscribe_url("https://api.example.com/v1/", USER, "reminder", StaticKeys(KEY))
    assert url.startswith("https://api.example.com/v1/api/unsubscribe?")
    query = _query(url)
    assert query == {"u": USER, "k": "reminder", "s": sign(USER, "reminder", StaticKeys(KEY))}
    assert len(query["s"]) == 43  # all 32 bytes of the HMAC, base64url without padding
    assert verify(USER, "reminder", query["s"], StaticKeys(KEY))


def test_the_signature_is_hmac_sha256_of_the_user_and_kind_with_a_derived_key():
    import base64
    import hashlib
    import hmac

    derived = hmac.new(KEY, b"unsubscribe-v1", hashlib.sha256).digest()
    mac = hmac.new(derived, f"unsubscribe:{USER}:digest".encode(), hashlib.sha256).digest()
    assert sign(USER, "digest", StaticKeys(KEY)) == base64.urlsafe_b64encode(mac).decode().rstrip("=")


def test_a_tampered_signature_another_user_or_another_kind_is_refused():
    signature = sign(USER, "reminder", StaticKeys(KEY))
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert not verify(USER, "reminder", flipped, StaticKeys(KEY))
    assert not verify(USER, "reminder", signature[:-1], StaticKeys(KEY))
    assert not verify(USER, "reminder", "", StaticKeys(KEY))
    assert not verify(OTHER, "reminder", signature, StaticKeys(KEY))
    assert not verify(USER, "digest", signature, StaticKeys(KEY))
    assert not verify(USER, "reminder", signature + "é", StaticKeys(KEY))


def test_transactional_and_unknown_kinds_have_no_link():
    with pytest.raises(ValueError, match="'booking_confirmed' is not a notification one can unsubscribe from"):
        sign(USER, "booking_confirmed", StaticKeys(KEY))
    with pytest.raises(ValueError):
        unsubscribe_url("https://api.example.com", USER, "sms", StaticKeys(KEY))
    # Even a signature made for it with the key itself does not verify: only optional kinds can be stopped.
    assert not verify(USER, "booking_confirmed", sign(USER, "reminder", StaticKeys(KEY)), StaticKeys(KEY))


def test_a_link_signed_before_a_rotation_still_verifies_and_one_two_rotations_old_does_not():
    signature = sign(USER, "digest", StaticKeys(KEY))
    assert verify(USER, "digest", signature, StaticKeys(NEW_KEY, previous=KEY))
    assert not verify(USER, "digest", signature, StaticKeys(NEW_KEY))
    assert not verify(USER, "digest", signature, StaticKeys(b"x" * 32, previous=NEW_KEY))


def test_links_are_signed_with_the_current_key():
    rotated = StaticKeys(NEW_KEY, previous=KEY)
    assert sign(USER, "reminder", rotated) == sign(USER, "reminder", StaticKeys(NEW_KEY))
    assert sign(USER, "reminder", rotated) != sign(USER, "reminder", StaticKeys(KEY))


def test_the_previous_key_is_read_only_when_the_current_one_fails():
    class CountingKeys(StaticKeys):
        previous_reads = 0

        def previous(self):
            CountingKeys.previous_reads += 1
            return super().previous()

    keys = CountingKeys(NEW_KEY, previous=KEY)
    assert verify(USER, "reminder", sign(USER, "reminder", StaticKeys(NEW_KEY)), keys)
    assert CountingKeys.previous_reads == 0
    assert verify(USER, "reminder", sign(USER, "reminder", StaticKeys(KEY)), keys)
    assert CountingKeys.previous_reads == 1


def test_the_links_lead_to_the_route_that_serves_them():
    from chalicelib.http.notifications import UNSUBSCRIBE_PATH
    from chalicelib.security.unsubscribe import PATH

    assert PATH == UNSUBSCRIBE_PATH
