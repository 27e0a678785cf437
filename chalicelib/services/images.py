"""What an image file says about itself in its first bytes: its type (the magic bytes) and its pixel size, read
from the header of a PNG, JPEG or WebP file. Nothing is decoded: a few kilobytes may declare an image of
billions of pixels (a decompression bomb), and only the declaration is read, so the size can be refused before
anyone (a browser, a thumbnailer) decodes it. Pure Python on purpose: no image library on any code path."""

from __future__ import annotations

import struct
import zlib

PNG = "image/png"
JPEG = "image/jpeg"
WEBP = "image/webp"
LABELS = {PNG: "PNG", JPEG: "JPEG", WEBP: "WebP"}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Bit depths each PNG colour type allows (PNG specification, section 11.2.2).
PNG_DEPTHS = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}
PNG_MAX = 2**31 - 1
# JPEG start-of-frame markers (they carry the size); C4 (DHT), C8 (JPG) and CC (DAC) are in the range but are not.
JPEG_FRAMES = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
# Markers without a length: TEM and the restart markers.
JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
JPEG_SOI, JPEG_EOI, JPEG_SOS = 0xD8, 0xD9, 0xDA
VP8_START_CODE = b"\x9d\x01\x2a"
VP8L_SIGNATURE = 0x2F


class DamagedImage(Exception):
    """The header is cut short, inconsistent or hostile; the message says so in the client's terms."""


def sniff(head: bytes) -> str | None:
    """The media type the magic bytes announce, or None for anything but PNG, JPEG and WebP."""
    if head.startswith(PNG_SIGNATURE):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def dimensions(head: bytes, content_type: str, *, whole: bool) -> tuple[int, int]:
    """(width, height) in pixels as the header of an image of `content_type` (what `sniff` said) declares them.

    `head` is the file's first bytes; `whole` says whether that is the entire file, so that a header running
    past its end is told from one that starts further in than was read. Raises DamagedImage."""
    label = LABELS[content_type]
    reader = {PNG: _png, JPEG: _jpeg, WEBP: _webp}[content_type]
    try:
        width, height = reader(head)
    except _CutShort:
        if whole:
            raise DamagedImage(f"The {label} image is cut short before its size.") from None
        raise DamagedImage(f"The {label} image does not state its size within its first {len(head)} bytes.") from None
    if width < 1 or height < 1:
        raise DamagedImage(f"The {label} image states no size.")
    return width, height


class _CutShort(Exception):
    """The header goes on past the bytes at hand."""


def _need(head: bytes, end: int) -> None:
    if len(head) < end:
        raise _CutShort()


def _png(head: bytes) -> tuple[int, int]:
    # Signature, then IHDR: it must be the first chunk, 13 bytes long, with a matching CRC.
    _need(head, 33)
    length, kind = struct.unpack(">I4s", head[8:16])
    if kind != b"IHDR" or length != 13:
        raise DamagedImage("The PNG image does not start with its header chunk.")
    (crc,) = struct.unpack(">I", head[29:33])
    if zlib.crc32(head[12:29]) != crc:
        raise DamagedImage("The PNG image's header chunk is damaged (its checksum does not match).")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", head[16:29])
    if width > PNG_MAX or height > PNG_MAX:
        raise DamagedImage("The PNG image's header chunk is damaged (a size beyond what PNG allows).")
    if depth not in PNG_DEPTHS.get(colour, set()) or compression != 0 or filtering != 0 or interlace > 1:
        raise DamagedImage("The PNG image's header chunk is damaged (an impossible pixel format).")
    return width, height


def _jpeg(head: bytes) -> tuple[int, int]:
    # Segments follow the start-of-image marker: a marker (0xFF, any number of 0xFF fill bytes, a code), then,
    # but for a few standalone markers, a big-endian length that counts itself. The size is in the first
    # start-of-frame segment, which may come after metadata segments of up to 64 KiB each (Exif, ICC, XMP).
    pos = 2
    while True:
        _need(head, pos + 1)
        if head[pos] != 0xFF:
            raise DamagedImage("The JPEG image is damaged (a segment does not start with a marker).")
        while pos < len(head) and head[pos] == 0xFF:
            pos += 1
        _need(head, pos + 1)
        marker = head[pos]
        pos += 1
        if marker in JPEG_STANDALONE:
            continue
        if marker in (0x00, JPEG_SOI, JPEG_EOI, JPEG_SOS):
            # Image data (SOS) or the end of the image before any frame header: nothing declares the size.
            raise DamagedImage("The JPEG image is damaged (no frame header before its data).")
        _need(head, pos + 2)
        (length,) = struct.unpack(">H", head[pos : pos + 2])
        if length < 2:
            raise DamagedImage("The JPEG image is damaged (a segment shorter than its own length field).")
        if marker in JPEG_FRAMES:
            if length < 8:
                raise DamagedImage("The JPEG image is damaged (a frame header too short to hold a size).")
            _need(head, pos + 7)
            height, width = struct.unpack(">HH", head[pos + 3 : pos + 7])
            return width, height
        pos += length


def _webp(head: bytes) -> tuple[int, int]:
    # RIFF container: "RIFF", size, "WEBP", then the first chunk: "VP8 " (lossy), "VP8L" (lossless) or "VP8X"
    # (extended: the canvas size, which every frame must fit).
    _need(head, 20)
    (riff_size,) = struct.unpack("<I", head[4:8])
    kind = head[12:16]
    (chunk_size,) = struct.unpack("<I", head[16:20])
    if riff_size < 12 or chunk_size > riff_size - 12:
        raise DamagedImage("The WebP image is damaged (its chunk is larger than its file).")
    data = 20
    if kind == b"VP8 ":
        _need(head, data + 10)
        (tag,) = struct.unpack("<I", head[data : data + 3] + b"\x00")
        if tag & 1 or head[data + 3 : data + 6] != VP8_START_CODE:
            raise DamagedImage("The WebP image is damaged (its first frame is not a key frame).")
        width, height = struct.unpack("<HH", head[data + 6 : data + 10])
        return width & 0x3FFF, height & 0x3FFF  # the top two bits are a scaling hint
    if kind == b"VP8L":
        _need(head, data + 5)
        (bits,) = struct.unpack("<I", head[data + 1 : data + 5])
        if head[data] != VP8L_SIGNATURE or bits >> 29:
            raise DamagedImage("The WebP image is damaged (an unknown lossless format).")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8X":
        _need(head, data + 10)
        width = int.from_bytes(head[data + 4 : data + 7], "little") + 1
        height = int.from_bytes(head[data + 7 : data + 10], "little") + 1
        return width, height
    raise DamagedImage("The WebP image is damaged (an unknown first chunk).")
