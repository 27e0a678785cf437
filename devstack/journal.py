"""The local AWS's write-ahead journal: each request that may change tables or buckets, on disk before its
answer leaves, so that a killed local AWS loses nothing it acknowledged.

Snapshots alone left a window: one runs at most every couple of seconds, so `kill -9` right after a 201 lost
the write. A snapshot per write would close it at the price of rewriting the whole of `dynamodb.json` (tens of
milliseconds for a few MB, every request waiting) for each one; appending the request and fsync-ing it costs
well under a millisecond, whatever the size of the data.

The journal is a series of segments, `journal-<n>.log`. A snapshot starts the next segment at the moment it
reads the state (under the lock every request takes), and its files record that number: they hold everything
in the segments before it. Older segments are deleted once the snapshot's files are written. On start, each
record of the remaining segments is replayed unless the file of the service it belongs to already holds it, so
a crash between writing `dynamodb.json` and `s3.json` neither loses nor applies twice anything (applying a
request twice can change the state: `ADD hits :one`).

A record is MAGIC, the payload's length and CRC-32, then the payload: a JSON header line and the request's body.
A record cut short by a crash ends its segment; it was never acknowledged, since its answer waits for the fsync.
A request is appended before it runs, so a disk that refuses it refuses the request with nothing done (moto's
/moto-api/reset, which is recorded as "reset" rather than replayed as a request, is appended once it succeeded).
"""

from __future__ import annotations

import json
import os
import re
import struct
import sys
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

MAGIC = b"LAJ1"
_FRAME = struct.Struct(">4sII")
_SEGMENT = re.compile(r"journal-(\d{12})\.log")


@dataclass(frozen=True)
class Record:
    segment: int
    header: dict[str, Any]
    body: bytes


def encode(header: dict[str, Any], body: bytes) -> bytes:
    payload = json.dumps(header, separators=(",", ":")).encode() + b"\n" + body
    return _FRAME.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


def decode(data: bytes) -> tuple[list[tuple[dict[str, Any], bytes]], int]:
    """The whole records at the start of `data`, and where they end (a torn or damaged record ends them)."""
    records: list[tuple[dict[str, Any], bytes]] = []
    offset = 0
    while offset + _FRAME.size <= len(data):
        magic, length, crc = _FRAME.unpack_from(data, offset)
        start = offset + _FRAME.size
        payload = data[start : start + length]
        if magic != MAGIC or len(payload) != length or zlib.crc32(payload) != crc:
            break
        line, _, body = payload.partition(b"\n")
        try:
            header = json.loads(line)
        except ValueError:
            break
        records.append((header, body))
        offset = start + length
    return records, offset


def fsync_dir(folder: Path) -> None:
    # A new or removed file is durable only once its folder is: without this a power cut could lose a segment.
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    """The segments in `folder`, and the one being appended to."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.fd: int | None = None
        self.path: Path | None = None
        self.number = 0
        self.size = 0
        self.unsynced = False

    def segments(self) -> list[tuple[int, Path]]:
        found = []
        for path in self.folder.iterdir():
            match = _SEGMENT.fullmatch(path.name)
            if match:
                found.append((int(match.group(1)), path))
        return sorted(found)

    def records(self) -> Iterator[Record]:
        """Every whole record of every segment, oldest first."""
        for number, path in self.segments():
            path.chmod(0o600)
            data = path.read_bytes()
            records, end = decode(data)
            if end != len(data):
                # Normally the one record a crash cut short; anything after it was never acknowledged either.
                print(f"local AWS: ignoring {len(data) - end} bytes at the end of {path}", file=sys.stderr, flush=True)
            for header, body in records:
                yield Record(number, header, body)

    def start(self, at_least: int) -> None:
        """Append from now on to a new, empty segment numbered after every existing one and at least `at_least`
        (never behind a record a crash cut short, which would hide everything after it)."""
        self._open(max([at_least, 1, *(number + 1 for number, _ in self.segments())]))

    def rotate(self) -> int:
        """Start the next segment and return its number: every record so far is in a segment before it."""
        self._open(self.number + 1)
        return self.number

    def _open(self, number: int) -> None:
        path = self.folder / f"journal-{number:012d}.log"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        try:
            fsync_dir(self.folder)
        except OSError:
            os.close(fd)
            path.unlink()  # so that the next try can take this number
            raise
        old, self.fd, self.path, self.number, self.size = self.fd, fd, path, number, 0
        if old is not None:
            try:
                if self.unsynced:
                    os.fdatasync(old)  # a failed request's record, so that no later record outlives it
            finally:
                os.close(old)
        self.unsynced = False

    def append(self, header: dict[str, Any], body: bytes) -> None:
        """Add a record (not yet durable: see sync); on failure the segment is left as it was."""
        if self.fd is None:
            raise RuntimeError("the journal is not open")
        frame = memoryview(encode(header, body))
        try:
            written = 0
            while written < len(frame):
                written += os.write(self.fd, frame[written:])
        except OSError:
            os.ftruncate(self.fd, self.size)  # no torn record in the middle of a segment
            raise
        self.size += len(frame)
        self.unsynced = True

    def sync(self) -> None:
        """Make every record appended so far durable."""
        if self.fd is not None and self.unsynced:
            os.fdatasync(self.fd)
            self.unsynced = False

    def drop_before(self, number: int) -> None:
        """Delete the segments a snapshot now holds."""
        dropped = False
        for segment, path in self.segments():
            if segment < number:
                path.unlink()
                dropped = True
        if dropped:
            fsync_dir(self.folder)

    def close(self) -> None:
        """Sync and close the segment being appended to; an empty one is removed (nothing to replay)."""
        if self.fd is None:
            return
        try:
            self.sync()
        finally:
            os.close(self.fd)
            self.fd = None
        if self.size == 0 and self.path is not None:
            self.path.unlink()
            fsync_dir(self.folder)
