"""`make bench`: one table of measurements, every figure taken in this run (a benchmark, never a test)."""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime

from bench import app, bookings

TARGETS = {
    "own_ms": 50.0,
    "function_bytes": 1_000_000,
    "read_requests": 2,
}


def main() -> None:
    rows: list[tuple[str, str, str]] = []
    cold = app.cold_start()
    rows.append(("cold start: import + one GET /api/events/ (median of 12 processes)", f"{cold['app_ms']:.0f} ms", ""))
    rows.append(("cold start floor: same third-party imports + one raw Query", f"{cold['floor_ms']:.0f} ms", ""))
    own_ok = cold["own_ms"] <= TARGETS["own_ms"]
    rows.append(
        (
            "app's own start cost (median of pairwise differences)",
            f"{cold['own_ms']:.0f} ms",
            _verdict(own_ok, "<= 50 ms"),
        )
    )
    sizes = app.package_sizes()
    rows.append(
        (
            "function zip (project code)",
            f"{sizes['function']:,} bytes",
            _verdict(sizes["function"] < TARGETS["function_bytes"], "< 1 MB"),
        )
    )
    rows.append(("dependency layer zip", f"{sizes['layer']:,} bytes", ""))
    items = app.items_read_by_first_page()
    same = len(set(items.values())) == 1
    for size, read in items.items():
        rows.append(
            (
                f"items read by the first page of GET /api/events/, {size:,} events",
                str(read),
                _verdict(same, "same at every size"),
            )
        )
    for row in app.per_endpoint():
        reads_ok = row["requests"] <= TARGETS["read_requests"] or not row["endpoint"].startswith("GET")
        rows.append(
            (
                f"{row['endpoint']}: DynamoDB requests; warm p50 / p99",
                f"{row['requests']}; {row['p50']:.1f} / {row['p99']:.1f} ms",
                _verdict(reads_ok, "reads <= 2") if row["endpoint"].startswith("GET") else "",
            )
        )
    counts = bookings.requests_per_booking()
    rows.append(
        (
            "booking: DynamoDB requests (handler)",
            f"{counts['reads']:.0f} read + {counts['transactions']:.0f} transaction",
            _verdict(counts["transactions"] == 1 and counts["reads"] <= 1, "1 transaction, <= 1 read"),
        )
    )
    load = bookings.throughput()
    rows.append(("bookings per second, local stack over HTTP (16 clients)", f"{load['per_second']:.1f}", ""))
    rows.append(("booking latency p50 / p99, local stack", f"{load['p50_ms']:.0f} / {load['p99_ms']:.0f} ms", ""))
    cpu = os.cpu_count()
    print(
        f"\nmake bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {cpu} cores, "
        f"Python {sys.version.split()[0]}\n"
    )
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    header = ("measure", "value", "target")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def _verdict(ok: bool, target: str) -> str:
    return f"{'met' if ok else 'MISSED'}: {target}"


if __name__ == "__main__":
    main()
