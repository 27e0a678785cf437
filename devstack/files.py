"""What the local stack's processes share below the stack itself: their exit codes, how often their servers look
for a shutdown, and how they keep secrets and data on disk (readable by their owner only)."""

from __future__ import annotations

import os
from pathlib import Path

# Exit codes of the child servers, so that the stack can say what went wrong in one line.
PORT_IN_USE_EXIT = 98
DATA_IN_USE_EXIT = 75
# serve_forever's poll interval: shutdown() waits for the loop's next look, at its default (0.5 s) that long on
# every stop of every server.
STOP_POLL_SECONDS = 0.05


def private_dir(path: Path) -> None:
    """Create `path` if needed, readable by its owner only (the data holds password hashes and the JWT key)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` atomically with `data`, mode 0600 from the start (never briefly readable by others)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # a leftover .tmp keeps its old mode through O_CREAT
        with os.fdopen(fd, "wb", closefd=False) as out:
            out.write(data)
            out.flush()
            os.fsync(fd)
    finally:
        os.close(fd)
    tmp.replace(path)
