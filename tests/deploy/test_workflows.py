"""The GitHub Actions workflows (.github/workflows): CI runs what .ci/run runs; the deploy gets AWS credentials
only from OIDC, deploys dev then smoke-tests it, promotes to prod through the approved `prod` environment, and
never runs two deploys of a stage at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"


def _load(name: str) -> dict[str, Any]:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def _step(job: dict[str, Any], uses: str) -> dict[str, Any]:
    [step] = [s for s in job["steps"] if s.get("uses", "").startswith(uses + "@")]
    return step


def _runs(job: dict[str, Any]) -> list[str]:
    return [s["run"] for s in job["steps"] if "run" in s]


def test_the_workflows_are_these_two():
    assert sorted(p.name for p in WORKFLOWS.iterdir()) == ["ci.yml", "deploy.yml"]


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml"])
def test_no_workflow_holds_or_reads_a_stored_aws_key(name):
    text = (WORKFLOWS / name).read_text().lower()
    for forbidden in ("aws_secret_access_key", "aws-secret-access-key", "aws_access_key_id", "aws-access-key-id"):
        assert forbidden not in text
    assert "secrets." not in text
    # Nothing more than reading the repository, but where a job says so (the deploy's OIDC token).
    assert _load(name)["permissions"] == {"contents": "read"}


def test_ci_runs_make_test_on_python_3_11_with_chromium_on_every_push_and_pull_request():
    workflow = _load("ci.yml")
    assert set(workflow["on"]) == {"push", "pull_request"}
    [job] = workflow["jobs"].values()
    assert job["runs-on"].startswith("ubuntu-")
    assert _step(job, "actions/setup-python")["with"]["python-version"] == "3.11"
    runs = _runs(job)
    assert runs[-1] == "bash .ci/run"
    assert (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text().rstrip().endswith("make test")
    assert any("playwright install --with-deps chromium" in run and "CHROMIUM=" in run for run in runs)


def test_deploy_follows_a_successful_ci_of_main_pushed_to_this_repository():
    workflow = _load("deploy.yml")
    assert workflow["on"]["workflow_run"] == {"workflows": ["CI"], "types": ["completed"], "branches": ["main"]}
    condition = " ".join(workflow["jobs"]["dev"]["if"].split())
    for part in (
        "github.event.workflow_run.conclusion == 'success'",
        "github.event.workflow_run.event == 'push'",
        "github.event.workflow_run.head_repository.full_name == github.repository",
        "github.event_name == 'workflow_dispatch' && github.ref == 'refs/heads/main'",
    ):
        assert part in condition
    assert workflow["jobs"]["prod"]["needs"] == "dev"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_each_stage_deploys_with_an_oidc_role_then_smoke_tests_one_deploy_at_a_time(stage):
    job = _load("deploy.yml")["jobs"][stage]
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert job["environment"] == stage
    assert job["concurrency"] == {"group": f"deploy-{stage}", "cancel-in-progress": False}
    credentials = _step(job, "aws-actions/configure-aws-credentials")["with"]
    assert credentials["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert set(credentials) == {"role-to-assume", "role-session-name", "aws-region"}
    assert job["env"]["ARTIFACT_BUCKET"] == "${{ vars.ARTIFACT_BUCKET }}"
    assert _step(job, "actions/checkout")["with"]["ref"] == "${{ github.event.workflow_run.head_sha || github.sha }}"
    assert _step(job, "actions/setup-python")["with"]["python-version"] == "3.11"
    names = [s.get("uses", "").split("@")[0] or s["run"] for s in job["steps"]]
    assert names == [
        "actions/checkout",
        "actions/setup-python",
        "aws-actions/configure-aws-credentials",
        f"make deploy STAGE={stage}",
        f".venv/bin/python -m deploy.smoke --stack sessions-marketplace-{stage}",
    ]
