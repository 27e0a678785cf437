"""`make bench`: one table of measurements, every figure taken in this run (a benchmark, never a test)."""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from typing import Any

from bench import app, bookings, coldstart, hot_event, search

TARGETS = {
    "cold_ratio": 0.75,  # this app's cold start over the original's, same run
    "own_ms": 20.0,
    "authorizer_ratio": 0.6,  # the authorizer's cold start over this app's before lazy imports (below)
    "function_bytes": 1_000_000,
    "read_requests": 2,
}
# The authorizer's target is relative to this app's cold start before imports were made lazy: 400 ms beside the
# original's 303 ms when the target was set (15 alternating pairs on this machine). Absolute times swing with the
# load of a shared machine, so that figure is carried into each run through the original's time in the run.
BEFORE_OVER_ORIGINAL = 400.0 / 303.0


def main() -> None:
    rows: list[tuple[str, str, str]] = []
    rows.extend(_cold_rows(coldstart.cold_start()))
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
    rows.extend(search.rows())
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
    rows.extend(hot_event.bench_rows())
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


def _cold_rows(cold: dict[str, Any]) -> list[tuple[str, str, str]]:
    n = cold["pairs"]
    ratio = cold["app_ms"] / cold["original_ms"]
    dev_ratio = cold["dev_ms"] / cold["original_ms"]
    before_ms = cold["original_ms"] * BEFORE_OVER_ORIGINAL
    authorizer_ratio = cold["authorizer_ms"] / before_ms
    reference = cold["reference"]
    same = not reference["mismatches"] and reference["checked"] > 0
    failure = cold["authorizer_failure"]
    return [
        (
            f"cold start as packaged (function + layer zips, read-only, no site-packages): import app.py + one GET "
            f"/api/events/ (median of {n}); peak memory",
            f"{cold['app_ms']:.0f} ms; {cold['app_mib']:.0f} MiB",
            "",
        ),
        (
            f"original Django backend: setup + one GET /api/events/ from SQLite (median of {n}, alternating)",
            f"{cold['original_ms']:.0f} ms; {cold['original_mib']:.0f} MiB",
            "",
        ),
        (
            "cold start ours as packaged / original",
            f"{ratio:.2f}",
            _verdict(ratio <= TARGETS["cold_ratio"], f"<= {TARGETS['cold_ratio']}"),
        ),
        (
            "cold start from the project's virtualenv (has moto's cryptography, which PyJWT would load); over original",
            f"{cold['dev_ms']:.0f} ms; {dev_ratio:.2f}",
            _verdict(dev_ratio <= TARGETS["cold_ratio"], f"<= {TARGETS['cold_ratio']}"),
        ),
        (
            "peak memory ours as packaged / original",
            f"{cold['app_mib'] / cold['original_mib']:.2f}",
            _verdict(cold["app_mib"] <= cold["original_mib"], "<= 1.00"),
        ),
        ("cold start floor as packaged: same third-party imports + one raw Query", f"{cold['floor_ms']:.0f} ms", ""),
        ("cold start floor / original", f"{cold['floor_ms'] / cold['original_ms']:.2f}", ""),
        (
            "botocore floor: import botocore + one DynamoDB client + one raw Query; over original",
            f"{cold['botocore_ms']:.0f} ms; {cold['botocore_ms'] / cold['original_ms']:.2f}",
            "",
        ),
        (
            "app's own start cost as packaged (median of pairwise differences)",
            f"{cold['own_ms']:.0f} ms",
            _verdict(cold["own_ms"] <= TARGETS["own_ms"], f"<= {TARGETS['own_ms']:.0f} ms"),
        ),
        (
            f"authorizer cold start as packaged (Lambda imports only {cold['handler'].rsplit('.', 1)[0]}) + one "
            f"TOKEN authorization; over ours before lazy imports (original x {BEFORE_OVER_ORIGINAL:.2f} = "
            f"{before_ms:.0f} ms); peak memory",
            f"{cold['authorizer_ms']:.0f} ms; {authorizer_ratio:.2f}; {cold['authorizer_mib']:.0f} MiB"
            if not failure
            else f"fails: {failure[:70]}",
            _verdict(
                authorizer_ratio <= TARGETS["authorizer_ratio"] and not failure, f"<= {TARGETS['authorizer_ratio']}"
            ),
        ),
        *_instruction_rows(cold["instructions"]),
        (
            "original rebuild answers like the reference (health, tokens, me, events, 404s)",
            f"{reference['checked'] - len(reference['mismatches'])} of {reference['checked']} requests",
            _verdict(same, "all the same"),
        ),
    ]


def _instruction_rows(counts: dict[str, int]) -> list[tuple[str, str, str]]:
    # The same cold starts counted in instructions: they repeat from run to run, so they show the effect of a
    # change that the wall-clock medians above, on a shared machine, can hide. The targets stay on the times.
    if not counts:
        return [("instructions per cold start (callgrind)", "not counted: valgrind is not installed", "")]
    app, floor, original = counts["app"], counts["floor"], counts["original"]
    return [
        (
            "instructions per cold start (callgrind, one run each): ours as packaged; original; ours / original",
            f"{app / 1e6:,.0f} M; {original / 1e6:,.0f} M; {app / original:.2f}",
            "",
        ),
        (
            "instructions: floor / original; app's own (ours - floor), share of ours",
            f"{floor / original:.2f}; {(app - floor) / 1e6:,.0f} M, {(app - floor) / app:.1%}",
            "",
        ),
    ]


def _verdict(ok: bool, target: str) -> str:
    return f"{'met' if ok else 'MISSED'}: {target}"


if __name__ == "__main__":
    main()
