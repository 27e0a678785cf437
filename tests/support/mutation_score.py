"""Print the mutation score of the last `mutmut run` (`make mutants`), per module and in total.

Score = (killed + timed out) / (every mutant - skipped): a mutant no test reached counts as surviving."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

DETECTED = ("killed", "timeout", "caught by type check")


def _counts(mutants: Path) -> dict[str, Counter[str]]:
    by_module: dict[str, Counter[str]] = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        # A module none of whose mutants ran was left out of the run (`make mutants MUTANTS=...`).
        if any(code is not None for code in codes.values()):
            module = str(meta.relative_to(mutants)).removesuffix(".meta")
            by_module[module] = Counter(status_by_exit_code[code] for code in codes.values())
    return by_module


def _score(counts: Counter[str]) -> float:
    tested = sum(counts.values()) - counts["skipped"]
    return 100 * sum(counts[s] for s in DETECTED) / tested if tested else 0.0


def main(mutants: Path) -> int:
    by_module = _counts(mutants)
    if not by_module:
        print(f"No mutation results under {mutants}/: run `make mutants`.")
        return 1
    total: Counter[str] = Counter()
    print(f"{'module':<45} {'mutants':>7} {'killed':>7} {'survived':>8} {'no tests':>8} {'score':>7}")
    for module, counts in by_module.items():
        total += counts
        killed = sum(counts[s] for s in DETECTED)
        row = f"{module:<45} {sum(counts.values()):>7} {killed:>7} {counts['survived']:>8} {counts['no tests']:>8}"
        print(f"{row} {_score(counts):>6.1f}%")
    print(f"mutation score: {_score(total):.1f}% ({sum(total[s] for s in DETECTED)} of {sum(total.values())} killed)")
    if total["not checked"]:
        print(f"{total['not checked']} mutants were not run: an interrupted or filtered run.")
    print("surviving mutants: `.venv/bin/mutmut results`; one of them: `.venv/bin/mutmut show <name>`")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "mutants")))
