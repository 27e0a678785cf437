"""`python -m devstack`: the local stack behind `make run`, until Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from devstack.stack import ROOT, LocalStack


def main() -> None:
    stack = LocalStack(
        port=int(os.environ.get("PORT", "8000")),
        aws_port=int(os.environ.get("LOCAL_AWS_PORT", "8001")),
        data_dir=Path(os.environ.get("LOCAL_DATA_DIR", ROOT / ".local" / "data")),
    )
    signal.signal(signal.SIGINT, signal.default_int_handler)  # inherited as ignored from background shells
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        stack.start()
        print(f"\nSessions Marketplace API on {stack.url}  (Ctrl-C stops it; data in {stack.data_dir})", flush=True)
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
