"""`make bench`: print one table of measurements taken in this run."""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime

from bench import bookings


def main() -> None:
    rows: list[tuple[str, str]] = []
    counts = bookings.requests_per_booking()
    rows.append(
        (
            "DynamoDB requests per booking (handler)",
            f"{counts['reads']:.1f} read + {counts['transactions']:.1f} transaction + {counts['other']:.1f} other",
        )
    )
    load = bookings.throughput()
    rows.append(
        ("bookings per second, local stack over HTTP", f"{load['per_second']:.1f} ({load['bookings']:.0f} bookings)")
    )
    rows.append(("booking latency p50 / p99, local stack", f"{load['p50_ms']:.1f} ms / {load['p99_ms']:.1f} ms"))
    print(
        f"\nmake bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, Python {sys.version.split()[0]}"
    )
    width = max(len(name) for name, _ in rows)
    print(f"| {'measure'.ljust(width)} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")


if __name__ == "__main__":
    main()
