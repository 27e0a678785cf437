"""checkov on both stages' packaged templates: every finding is either fixed or accepted with its reason
(deploy/protection.CHECKOV_ACCEPTED, written into the resources' Metadata), so a new gap fails the build."""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from pathlib import Path

from deploy.protection import CHECKOV_ACCEPTED

ROOT = Path(__file__).resolve().parents[2]
# Its own virtualenv (make checkov, which make test runs): its pins are older than the project's.
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def _without_skips(template: dict) -> dict:
    for resource in template["Resources"].values():
        metadata = resource.get("Metadata", {})
        metadata.pop("checkov", None)
        if "Metadata" in resource and not metadata:
            del resource["Metadata"]
    return template


def test_checkov_finds_nothing_but_the_accepted_findings_and_each_is_still_needed(packaged, tmp_path):
    assert CHECKOV.exists(), "run `make checkov` (make test does) to create .venv-checkov"
    # checkov is scanned on each stage's template without its skips only (it costs about 25 s a file): what it
    # reports there must be exactly the accepted findings, on the accepted types; the next test proves that every
    # resource of those types carries their skips, which checkov honours, so the templates as packaged pass.
    files = {}
    for stage, folder in packaged.items():
        bare = tmp_path / f"{stage}-without-skips.json"
        bare.write_text(json.dumps(_without_skips(json.loads((folder / "sam.json").read_text()))))
        files[stage] = bare
    # One run for both files: checkov takes a while starting. --skip-download: offline, no guidelines fetched.
    args = [str(CHECKOV), "--framework", "cloudformation", "-o", "json", "--compact", "--quiet", "--skip-download"]
    for path in files.values():
        args += ["-f", str(path)]
    result = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path)
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = defaultdict(set)
    for part in reports:
        for finding in part["results"].get("failed_checks", []):
            name = next(k for k, p in files.items() if finding["file_path"].endswith(p.name))
            failed[name].add((finding["check_id"], finding["resource"].split(".")[0]))
    for stage in packaged:
        bare = failed[stage]
        # Each accepted finding is one checkov still reports on that type: none is kept once fixed, and nothing
        # else is found.
        assert {check for check, _ in bare} == set(CHECKOV_ACCEPTED), stage
        for check, resource_type in bare:
            assert resource_type in CHECKOV_ACCEPTED[check][0], (check, resource_type)
    assert result.returncode == 1  # the files without their skips fail, as they should


def test_the_accepted_findings_are_written_on_every_resource_of_their_types(templates):
    for template in templates.values():
        for resource in template["Resources"].values():
            expected = [
                {"id": check, "comment": why}
                for check, (types, why) in CHECKOV_ACCEPTED.items()
                if resource["Type"] in types
            ]
            assert resource.get("Metadata", {}).get("checkov", {}).get("skip", []) == expected
