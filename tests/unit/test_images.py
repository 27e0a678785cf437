"""The header reader: types from magic bytes, sizes from PNG, JPEG and WebP headers, and refusals for damaged,
truncated and hostile headers (never any other exception, whatever the bytes)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.services import images
from chalicelib.services.images import JPEG, PNG, WEBP, DamagedImage, dimensions, sniff
from tests.support.images import (
    WEBP_LOSSLESS,
    WEBP_LOSSY,
    app_segment,
    jpeg,
    png,
    png_chunk,
    png_header,
    webp_extended,
    webp_lossless,
    webp_lossy,
)


def _size(data: bytes, whole: bool = True) -> tuple[int, int]:
    kind = sniff(data)
    assert kind is not None
    return dimensions(data, kind, whole=whole)


@pytest.mark.parametrize(
    ("data", "kind", "size"),
    [
        (png(3, 2), PNG, (3, 2)),
        (png(4096, 1), PNG, (4096, 1)),
        (jpeg(8, 8), JPEG, (8, 8)),
        (jpeg(640, 480), JPEG, (640, 480)),
        (WEBP_LOSSLESS, WEBP, (1, 1)),
        (WEBP_LOSSY, WEBP, (1, 1)),
        (webp_lossless(16384, 3), WEBP, (16384, 3)),
        (webp_lossy(300, 200), WEBP, (300, 200)),
        (webp_extended(5000, 7), WEBP, (5000, 7)),
    ],
)
def test_type_and_size_come_from_the_header(data, kind, size):
    assert (sniff(data), dimensions(data, kind, whole=True)) == (kind, size)


def test_sizes_over_the_limit_are_read_not_refused_here():
    # The limit is the service's; the reader reports what is declared, however large (up to each format's own).
    assert _size(png_header(4097, 1) + png_chunk(b"IEND", b"")) == (4097, 1)
    assert _size(png_header(2**31 - 1, 2**31 - 1)) == (2**31 - 1, 2**31 - 1)
    assert _size(jpeg(65535, 65535)) == (65535, 65535)
    assert _size(webp_extended(2**24, 2**24)) == (2**24, 2**24)
    assert _size(webp_lossy(0x3FFF | 0xC000, 10)) == (0x3FFF, 10)  # the scaling bits are not part of the size


def test_the_jpeg_frame_header_is_found_after_metadata_fill_bytes_and_standalone_markers():
    metadata = app_segment(65_535) + app_segment(40_000, 0xE2) + b"\xff\xff\xff" + b"\xff\x01"
    data = jpeg(1920, 1080, before_frame=metadata)
    assert _size(data) == (1920, 1080)
    progressive = jpeg(10, 20).replace(b"\xff\xc0", b"\xff\xc2")
    assert _size(progressive) == (10, 20)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, I am a text file pretending to be a PNG\n",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"GIF89a\x01\x00\x01\x00",
        b"\x89PNG\r\n\x1a",  # one byte short of the signature
        b"\xff\xd8",  # the start-of-image marker alone
        b"RIFF\x00\x00\x00\x00WAVEfmt ",
        b"BM" + bytes(60),
    ],
)
def test_anything_else_is_no_known_type(data):
    assert sniff(data) is None


@pytest.mark.parametrize(
    ("data", "kind", "end"),
    [
        (png(5, 5), PNG, 33),  # signature, IHDR's length, type, 13 bytes and CRC
        (jpeg(8, 8), JPEG, jpeg(8, 8).index(b"\xff\xc0") + 9),  # up to the frame header's width
        (WEBP_LOSSY, WEBP, 30),
        (WEBP_LOSSLESS, WEBP, 25),
        (webp_extended(9, 9), WEBP, 30),
    ],
)
def test_a_header_cut_at_any_byte_is_refused_as_cut_short(data, kind, end):
    label = images.LABELS[kind]
    for cut in range(len(sniff_prefix(kind)), end):
        with pytest.raises(DamagedImage) as raised:
            dimensions(data[:cut], kind, whole=True)
        assert str(raised.value) == f"The {label} image is cut short before its size.", cut
    assert dimensions(data[:end], kind, whole=True)  # and one byte more is enough


def sniff_prefix(kind: str) -> bytes:
    return {PNG: b"\x89PNG\r\n\x1a\n", JPEG: b"\xff\xd8\xff", WEBP: b"RIFF\x00\x00\x00\x00WEBP"}[kind]


def test_a_frame_header_beyond_what_was_read_is_told_from_a_file_cut_short():
    data = jpeg(100, 100, before_frame=app_segment(60_000) + app_segment(60_000))
    with pytest.raises(DamagedImage) as raised:
        dimensions(data[:65_536], JPEG, whole=False)
    assert str(raised.value) == "The JPEG image does not state its size within its first 65536 bytes."


def _png_with_ihdr(fields: bytes, kind: bytes = b"IHDR") -> bytes:
    return b"\x89PNG\r\n\x1a\n" + png_chunk(kind, fields)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            png(2, 2)[:29] + b"\x00\x00\x00\x00",
            "The PNG image's header chunk is damaged (its checksum does not match).",
        ),
        (
            _png_with_ihdr(struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0), b"IDAT"),
            "The PNG image does not start with its header chunk.",
        ),
        (
            _png_with_ihdr(struct.pack(">IIBBBBBB", 1, 1, 8, 2, 0, 0, 0, 0)),
            "The PNG image does not start with its header chunk.",
        ),
        (
            _png_with_ihdr(struct.pack(">IIBBBBB", 2**31, 1, 8, 2, 0, 0, 0)),
            "The PNG image's header chunk is damaged (a size beyond what PNG allows).",
        ),
        (
            _png_with_ihdr(struct.pack(">IIBBBBB", 1, 1, 3, 2, 0, 0, 0)),
            "The PNG image's header chunk is damaged (an impossible pixel format).",
        ),
        (
            _png_with_ihdr(struct.pack(">IIBBBBB", 1, 1, 8, 5, 0, 0, 0)),
            "The PNG image's header chunk is damaged (an impossible pixel format).",
        ),
        (png_header(1, 1, interlace=2), "The PNG image's header chunk is damaged (an impossible pixel format)."),
        (png_header(0, 10), "The PNG image states no size."),
        (png_header(10, 0), "The PNG image states no size."),
        (b"\xff\xd8\xff\xd9", "The JPEG image is damaged (no frame header before its data)."),
        (b"\xff\xd8\xff\xda\x00\x08" + bytes(6), "The JPEG image is damaged (no frame header before its data)."),
        (b"\xff\xd8\xff\xd8", "The JPEG image is damaged (no frame header before its data)."),
        (b"\xff\xd8\xff\xe0\x00\x01rest", "The JPEG image is damaged (a segment shorter than its own length field)."),
        (b"\xff\xd8\xff\xe0\x00\x00rest", "The JPEG image is damaged (a segment shorter than its own length field)."),
        (
            b"\xff\xd8\xff\xe0\x00\x04\x00\x00garbage",
            "The JPEG image is damaged (a segment does not start with a marker).",
        ),
        (
            b"\xff\xd8\xff\xc0\x00\x05\x08\x00\x10",
            "The JPEG image is damaged (a frame header too short to hold a size).",
        ),
        (jpeg(0, 8), "The JPEG image states no size."),  # height defined later (DNL): cannot be checked
        (webp_lossy(0, 5), "The WebP image states no size."),
        (
            WEBP_LOSSY[:20] + b"\x31" + WEBP_LOSSY[21:],
            "The WebP image is damaged (its first frame is not a key frame).",
        ),
        (
            WEBP_LOSSY[:23] + b"\x00\x00\x00" + WEBP_LOSSY[26:],
            "The WebP image is damaged (its first frame is not a key frame).",
        ),
        (WEBP_LOSSLESS[:20] + b"\x2e" + WEBP_LOSSLESS[21:], "The WebP image is damaged (an unknown lossless format)."),
        (WEBP_LOSSLESS[:24] + b"\x20" + WEBP_LOSSLESS[25:], "The WebP image is damaged (an unknown lossless format)."),
        (WEBP_LOSSY[:12] + b"ALPH" + WEBP_LOSSY[16:], "The WebP image is damaged (an unknown first chunk)."),
        (
            WEBP_LOSSY[:16] + struct.pack("<I", 2**32 - 1) + WEBP_LOSSY[20:],
            "The WebP image is damaged (its chunk is larger than its file).",
        ),
        (
            b"RIFF" + struct.pack("<I", 4) + WEBP_LOSSY[8:],
            "The WebP image is damaged (its chunk is larger than its file).",
        ),
    ],
)
def test_damaged_and_hostile_headers_are_refused_with_a_reason(data, message):
    kind = sniff(data)
    assert kind is not None
    with pytest.raises(DamagedImage) as raised:
        dimensions(data, kind, whole=True)
    assert str(raised.value) == message


def test_a_chain_of_empty_segments_ends_at_the_end_of_what_was_read():
    # Each segment is as short as allowed (its length field only): the reader walks, never loops.
    data = b"\xff\xd8" + b"\xff\xe1\x00\x02" * 50_000
    with pytest.raises(DamagedImage):
        dimensions(data, JPEG, whole=False)


@settings(max_examples=400, deadline=None)
@given(
    prefix=st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF\x10\x00\x00\x00WEBP"]),
    rest=st.binary(max_size=120),
    whole=st.booleans(),
)
def test_arbitrary_bytes_after_a_signature_give_a_size_or_a_refusal_and_nothing_else(prefix, rest, whole):
    data = prefix + rest
    kind = sniff(data)
    assert kind is not None
    try:
        width, height = dimensions(data, kind, whole=whole)
    except DamagedImage:
        return
    assert width >= 1 and height >= 1


@settings(max_examples=200, deadline=None)
@given(flips=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=6))
def test_corrupting_real_headers_gives_a_size_or_a_refusal(flips):
    for original in (png(7, 3), jpeg(8, 8, before_frame=app_segment(20)), WEBP_LOSSY, webp_extended(3, 3)):
        data = bytearray(original)
        for at, value in flips:
            if at < len(data):
                data[at] = value
        kind = sniff(bytes(data))
        if kind is None:
            continue
        try:
            dimensions(bytes(data), kind, whole=True)
        except DamagedImage:
            pass
