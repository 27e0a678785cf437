"""`python -m devstack`: the local stack behind `make run`, until Ctrl-C.

It returns only once every child process has exited, so that a `make run` started right after the previous
one returned finds the ports free and the final snapshot written.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from devstack.stack import ROOT, LocalStack, StackError, stage_variables


def main() -> int:
    # A stage variable set in the shell wins over .chalice/config.json (STAGE excepted: this is the local one).
    chosen = {name: os.environ[name] for name in stage_variables() if name in os.environ and name != "STAGE"}
    stack = LocalStack(
        port=int(os.environ.get("PORT", "8000")),
        aws_port=int(os.environ.get("LOCAL_AWS_PORT", "8001")),
        data_dir=Path(os.environ.get("LOCAL_DATA_DIR", ROOT / ".local" / "data")),
        extra_env=chosen,
        payments_port=int(os.environ.get("LOCAL_PAYMENTS_PORT", "8002")),
        web_port=int(os.environ.get("WEB_PORT", "3000")),
    )
    # Explicit, because background shells start jobs with SIGINT ignored; SIGTERM means the same as Ctrl-C,
    # and either one again while stopping kills the child being waited for (see LocalStack.stop).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        stack.start()
        print(
            f"\nSessions Marketplace web app on {stack.web_url}, API on {stack.url}"
            f"  (Ctrl-C stops them; data in {stack.data_dir})",
            flush=True,
        )
        print(f"Local payments (Stripe's stand-in) on {stack.payments_url}", flush=True)
        while (dead := stack.dead_child()) is None:
            time.sleep(0.5)
        print(f"make run: {' '.join(map(str, dead.args))} exited with {dead.returncode}; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    except StackError as exc:
        print(f"make run: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
