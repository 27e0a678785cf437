"""Real image files made in pure Python (the project has no image library): PNGs of any size, a baseline JPEG,
the two smallest WebP files, and headers built field by field for the hostile cases."""

from __future__ import annotations

import base64
import struct
import zlib

# The 1 x 1 WebP files browsers' feature tests decode (lossless, then lossy).
WEBP_LOSSLESS = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
WEBP_LOSSY = base64.b64decode("UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header(width: int, height: int, depth: int = 8, colour: int = 2, interlace: int = 0) -> bytes:
    """Signature and IHDR only."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)


def png(width: int, height: int, rgb: tuple[int, int, int] = (200, 40, 90)) -> bytes:
    """A complete, decodable PNG of one colour (rows compress to almost nothing, so any size stays small)."""
    row = b"\x00" + bytes(rgb) * width
    pixels = zlib.compress(row * height, 9)
    return png_header(width, height) + png_chunk(b"IDAT", pixels) + png_chunk(b"IEND", b"")


def jpeg(width: int = 8, height: int = 8, *, before_frame: bytes = b"") -> bytes:
    """A baseline greyscale JPEG, every block mid-grey: complete up to 512 x 512, beyond that a faithful header
    with the data of the first blocks only. `before_frame` goes between the JFIF segment and the frame header."""

    def segment(marker: int, data: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(data) + 2) + data

    jfif = segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    quantisation = segment(0xDB, b"\x00" + bytes([1] * 64))
    frame = segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
    # One code each, "0": DC difference category 0 and the AC end-of-block, so a block is the bits 00.
    dc = segment(0xC4, b"\x00" + bytes([1] + [0] * 15) + b"\x00")
    ac = segment(0xC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00")
    scan = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    blocks = min(((width + 7) // 8) * ((height + 7) // 8), 4096)
    bits = "00" * blocks
    bits += "1" * (-len(bits) % 8)
    data = bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8)).replace(b"\xff", b"\xff\x00")
    return b"\xff\xd8" + jfif + before_frame + quantisation + frame + dc + ac + scan + data + b"\xff\xd9"


def app_segment(size: int, marker: int = 0xE1) -> bytes:
    """A metadata segment (APP1, as Exif is) of `size` bytes in all."""
    return bytes([0xFF, marker]) + struct.pack(">H", size - 2) + b"\x00" * (size - 4)


def webp_extended(width: int, height: int) -> bytes:
    """A VP8X header declaring a canvas of width x height (then a lossless 1 x 1 frame)."""
    canvas = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    frame = WEBP_LOSSLESS[12:]
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(canvas)) + canvas + frame
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_lossless(width: int, height: int) -> bytes:
    """The 1 x 1 lossless file with the size fields of its header rewritten."""
    bits = (width - 1) | ((height - 1) << 14) | (1 << 28)  # alpha hint as in the original, version 0
    return WEBP_LOSSLESS[:21] + struct.pack("<I", bits) + WEBP_LOSSLESS[25:]


def webp_lossy(width: int, height: int) -> bytes:
    """The 1 x 1 lossy file with the size fields of its key frame rewritten."""
    return WEBP_LOSSY[:26] + struct.pack("<HH", width, height) + WEBP_LOSSY[30:]
