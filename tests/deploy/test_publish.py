"""`make deploy`'s steps (deploy/publish.py) without AWS: the exact `aws cloudformation deploy` it runs (and that
the real CLI takes it, against moto), the origins it allows, and the site's release: every file uploaded before
the one stack update that switches to it, the release replaced kept, older ones deleted after the switch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from deploy.publish import (
    StackState,
    deploy,
    deploy_command,
    main,
    make_release,
    origins_with,
    prune_releases,
    release_of,
    releases,
    switch_release,
    upload_release,
)
from deploy.site import CACHE_CONTROL, CONFIG_FILE, config_script, site_files

NOW = datetime(2026, 1, 4, 9, 30, 0, tzinfo=UTC)
API = "https://abc.execute-api.eu-west-1.amazonaws.com/v1/"
DEPLOYED = {"SiteURL": "https://d111.cloudfront.net/", "SiteBucketName": "site-bucket", "EndpointURL": API}
EDGE = DEPLOYED["SiteURL"]  # the API under the site's origin: what config.js names
SITE_KEYS = [key for key, _ in site_files()] + [CONFIG_FILE]


def test_the_deploy_command_uploads_the_template_to_the_artifact_bucket_and_names_each_parameter():
    command = deploy_command(
        "build/dev/packaged.json",
        "sessions-marketplace-dev",
        "http://localhost:3000,https://d111.cloudfront.net",
        "https://d111.cloudfront.net",
        artifact_bucket="my-artifacts",
        parameters={"SiteRelease": "20260104T093000Z-3f2a9c0b1d4e", "SiteDomainName": ""},
    )
    assert command == [
        "aws",
        "cloudformation",
        "deploy",
        "--template-file",
        "build/dev/packaged.json",
        "--stack-name",
        "sessions-marketplace-dev",
        "--s3-bucket",
        "my-artifacts",
        "--s3-prefix",
        "sessions-marketplace-dev",
        "--capabilities",
        "CAPABILITY_IAM",
        "CAPABILITY_AUTO_EXPAND",
        "--no-fail-on-empty-changeset",
        "--parameter-overrides",
        "CorsAllowedOrigins=http://localhost:3000,https://d111.cloudfront.net",
        "WebAppUrl=https://d111.cloudfront.net",
        "SiteRelease=20260104T093000Z-3f2a9c0b1d4e",
        "SiteDomainName=",
    ]
    # Before the site's URL is known, WebAppUrl is left out: the stack keeps its value (or the default).
    assert deploy_command("t.json", "s", "", artifact_bucket="b")[-2:] == [
        "--parameter-overrides",
        "CorsAllowedOrigins=",
    ]


@pytest.mark.parametrize("key", ["CorsAllowedOrigins", "WebAppUrl", "Site Release", "A=B", ""])
def test_the_deploy_command_refuses_a_parameter_it_names_itself_or_one_the_cli_would_misread(key):
    with pytest.raises(ValueError, match="cannot be passed"):
        deploy_command("t.json", "s", "", "https://a.example", artifact_bucket="b", parameters={key: "x"})


# A template over the 51,200 bytes `aws cloudformation deploy` takes inline, as the packaged one (~200 KB) is.
BIG_TEMPLATE = {
    "Parameters": {
        "CorsAllowedOrigins": {"Type": "String", "Default": ""},
        "WebAppUrl": {"Type": "String", "Default": "https://default.example"},
        "SiteRelease": {"Type": "String", "Default": ""},
    },
    "Resources": {
        f"Topic{i}": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "x" * 90}} for i in range(600)
    },
}


# The CLI requirements-dev.txt installs beside the interpreter, else one on the PATH.
AWS_CLI = next(
    (str(c) for c in (Path(sys.executable).parent / "aws", shutil.which("aws")) if c and Path(c).is_file()), None
)


@pytest.mark.skipif(AWS_CLI is None, reason="the AWS CLI is not installed")
def test_the_real_cli_takes_the_command_uploads_the_template_and_keeps_the_parameters_not_named(tmp_path):
    from moto.server import ThreadedMotoServer

    template = tmp_path / "packaged.json"
    template.write_text(json.dumps(BIG_TEMPLATE))
    assert template.stat().st_size > 51_200
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        _, port = server.get_host_and_port()
        # moto finds the uploaded template by its URL's path when the endpoint's host is "localhost".
        endpoint = f"http://localhost:{port}"
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(tmp_path / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        }
        clients = {
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        s3, cloudformation = boto3.client("s3", **clients), boto3.client("cloudformation", **clients)
        s3.create_bucket(Bucket="artifacts")
        release = "20260104T093000Z-3f2a9c0b1d4e"
        origins = "http://localhost:3000,https://d111.cloudfront.net"

        def cli(command: list[str]) -> subprocess.CompletedProcess[str]:
            assert command[0] == "aws"
            return subprocess.run([AWS_CLI, *command[1:]], env=env, capture_output=True, text=True, timeout=120)

        first = deploy_command(
            str(template), "stack", origins, "https://d111.cloudfront.net", artifact_bucket="artifacts",
            parameters={"SiteRelease": release},
        )  # fmt: skip
        done = cli(first)
        assert done.returncode == 0, done.stderr
        # A second deploy that names only the origins: the release and the web app's URL stay as they were.
        done = cli(
            deploy_command(str(template), "stack", "https://a.example,https://b.example", artifact_bucket="artifacts")
        )
        assert done.returncode == 0, done.stderr
        [stack] = cloudformation.describe_stacks(StackName="stack")["Stacks"]
        assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {
            "CorsAllowedOrigins": "https://a.example,https://b.example",
            "WebAppUrl": "https://d111.cloudfront.net",
            "SiteRelease": release,
        }
        uploaded = [o["Key"] for o in s3.list_objects_v2(Bucket="artifacts")["Contents"]]
        assert uploaded and all(key.startswith("stack/") and key.endswith(".template") for key in uploaded)
        # What `make deploy` ran before: no bucket, and the CLI refuses the template before reaching AWS.
        without = first[: first.index("--s3-bucket")] + first[first.index("--s3-prefix") + 2 :]
        refused = cli(without)
        assert refused.returncode != 0
        assert "Templates with a size greater than 51,200 bytes must be deployed via an S3 Bucket" in refused.stderr
    finally:
        server.stop()


def test_the_site_origin_is_added_once_to_the_allowed_origins():
    site = "https://d111.cloudfront.net/"
    assert origins_with("", site) == "https://d111.cloudfront.net"
    assert origins_with("http://localhost:3000", site) == "http://localhost:3000,https://d111.cloudfront.net"
    assert origins_with("https://d111.cloudfront.net,https://a.example", site) == (
        "https://d111.cloudfront.net,https://a.example"
    )
    assert origins_with(" https://a.example , ", None) == "https://a.example"


def test_a_release_is_named_by_its_time_in_utc_and_a_hash_of_its_files(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "index.html").write_text("<html>")
    (tmp_path / "app" / "main.js").write_text("main")
    paris = timezone(timedelta(hours=1))
    release = make_release(API, datetime(2026, 1, 4, 10, 30, 0, tzinfo=paris), root=tmp_path)
    assert release.id.startswith("20260104T093000Z-") and len(release.id) == len("20260104T093000Z-") + 12
    assert release.files == (
        ("app/main.js", b"main"),
        ("index.html", b"<html>"),
        (CONFIG_FILE, config_script(API)),
    )
    assert release.prefix == f"releases/{release.id}/"
    same = make_release(API, NOW + timedelta(days=1), root=tmp_path)
    assert same.id.split("-")[1] == release.id.split("-")[1]
    # Any change of a file, or of the API the pages call, is another content.
    assert make_release("https://other.example/v1/", NOW, root=tmp_path).id.split("-")[1] != release.id.split("-")[1]
    (tmp_path / "app" / "main.js").write_text("main2")
    assert make_release(API, NOW, root=tmp_path).id.split("-")[1] != release.id.split("-")[1]


def test_a_key_belongs_to_the_release_it_is_under():
    assert release_of("releases/20260104T093000Z-3f2a9c0b1d4e/app/main.js") == "20260104T093000Z-3f2a9c0b1d4e"
    assert release_of("index.html") == ""  # the layout before releases
    assert release_of("app/releases/x.js") == ""


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="site-bucket")
        yield client


def test_a_release_holds_every_file_of_the_site_and_its_config_under_its_prefix(s3):
    release = make_release("https://abc.example/v1", NOW)
    keys = upload_release(s3, "site-bucket", release)
    assert keys == [release.prefix + key for key in SITE_KEYS]
    listed = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="site-bucket")["Contents"])
    assert listed == sorted(keys)
    for key, path in site_files():
        stored = s3.get_object(Bucket="site-bucket", Key=release.prefix + key)
        assert stored["Body"].read() == path.read_bytes()
        assert stored["CacheControl"] == CACHE_CONTROL
    head = s3.head_object(Bucket="site-bucket", Key=release.prefix + "index.html")
    assert (head["ContentType"], head["CacheControl"]) == ("text/html; charset=utf-8", "no-cache")
    head = s3.head_object(Bucket="site-bucket", Key=release.prefix + "app/main.js")
    assert head["ContentType"] == "text/javascript; charset=utf-8"
    config = s3.get_object(Bucket="site-bucket", Key=release.prefix + CONFIG_FILE)
    assert config["Body"].read().decode() == 'window.SESSIONS_CONFIG = {"apiUrl": "https://abc.example/v1/"};\n'
    assert (config["ContentType"], config["CacheControl"]) == ("text/javascript; charset=utf-8", "no-cache")
    assert releases(s3, "site-bucket") == [release.id]


def test_pruning_keeps_the_releases_named_and_deletes_everything_else(s3):
    for key in ("index.html", "releases/A/index.html", "releases/B/index.html", "releases/B/app/x.js", "releases/C/a"):
        s3.put_object(Bucket="site-bucket", Key=key, Body=b"x")
    assert prune_releases(s3, "site-bucket", keep={"B", "C"}) == ["index.html", "releases/A/index.html"]
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket="site-bucket")["Contents"]) == [
        "releases/B/app/x.js",
        "releases/B/index.html",
        "releases/C/a",
    ]
    assert releases(s3, "site-bucket") == ["B", "C"]


# --- The deploy's steps, in order: a fake CloudFormation, S3 and CLI writing to one log ---


class FakeCloudFormation:
    """describe_stacks answers from a list of states (None: no stack yet), one per call."""

    def __init__(self, *states: StackState | None) -> None:
        self.states = list(states)

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        state = self.states.pop(0)
        if state is None:
            raise RuntimeError(f"An error occurred (ValidationError): Stack with id {StackName} does not exist")
        return {
            "Stacks": [
                {
                    "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in state.outputs.items()],
                    "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in state.parameters.items()],
                }
            ]
        }


class FakeS3:
    """A bucket's keys, and a log of what was put and deleted (shared with the fake CLI's runs)."""

    def __init__(self, log: list[tuple[str, Any]], keys: Iterable[str] = ()) -> None:
        self.log, self.objects = log, {key: b"" for key in keys}

    def put_object(self, Bucket: str, Key: str, Body: bytes, ContentType: str, CacheControl: str) -> None:
        assert (Bucket, CacheControl) == ("site-bucket", "no-cache")
        self.objects[Key] = Body
        self.log.append(("put", Key))

    def get_paginator(self, name: str) -> Any:
        assert name == "list_objects_v2"
        objects = self.objects

        class Paginator:
            def paginate(self, Bucket: str, Prefix: str = "") -> list[dict[str, Any]]:
                return [{"Contents": [{"Key": k} for k in sorted(objects) if k.startswith(Prefix)]}]

        return Paginator()

    def delete_objects(self, Bucket: str, Delete: dict[str, Any]) -> None:
        keys = [o["Key"] for o in Delete["Objects"]]
        for key in keys:
            del self.objects[key]
        self.log.append(("delete", sorted(keys)))


def _overrides(command: list[str]) -> str:
    """The command's parameter overrides (they come last), space-separated."""
    return " ".join(command[command.index("--parameter-overrides") + 1 :])


def _deploy(states: list[StackState | None], keys: Iterable[str] = (), **options: Any) -> tuple[Any, list, FakeS3]:
    log: list[tuple[str, Any]] = []
    s3 = FakeS3(log, keys)
    deployed = deploy(
        options.pop("stage", "dev"),
        "stack",
        "packaged.json",
        options.pop("origins", None),
        cloudformation=FakeCloudFormation(*states),
        s3=s3,
        artifact_bucket="artifacts",
        run=lambda command: log.append(("run", _overrides(list(command)))),
        now=lambda: NOW,
        **options,
    )
    return deployed, log, s3


def test_a_first_deploy_creates_the_stack_then_uploads_the_release_then_switches_to_it_with_the_sites_origin():
    release = make_release(EDGE, NOW)
    created = StackState(outputs=DEPLOYED, parameters={"SiteRelease": ""})
    deployed, log, s3 = _deploy([None, created])
    assert (deployed.site_url, deployed.release, deployed.previous) == ("https://d111.cloudfront.net/", release.id, "")
    assert log == [
        ("run", "CorsAllowedOrigins=http://localhost:3000"),  # the stage's defaults (.chalice/config.json)
        *[("put", release.prefix + key) for key in SITE_KEYS],
        (
            "run",
            "CorsAllowedOrigins=http://localhost:3000,https://d111.cloudfront.net "
            f"WebAppUrl=https://d111.cloudfront.net SiteRelease={release.id}",
        ),
        # Nothing else in the bucket: nothing to delete.
    ]
    assert s3.objects[release.prefix + CONFIG_FILE] == config_script(EDGE)


def test_a_later_deploy_switches_in_a_second_update_then_deletes_all_but_the_new_and_the_replaced_release():
    release = make_release(EDGE, NOW)
    live, older, orphan = "20251201T000000Z-aaaaaaaaaaaa", "20251101T000000Z-bbbbbbbbbbbb", "20251215T000000Z-cccc"
    current = StackState(
        outputs=DEPLOYED, parameters={"CorsAllowedOrigins": "https://app.example", "SiteRelease": live}
    )
    keys = [f"releases/{r}/{k}" for r in (live, older, orphan) for k in ("index.html", CONFIG_FILE)]
    deployed, log, s3 = _deploy([current, current], keys)
    assert (deployed.release, deployed.previous) == (release.id, live)
    same = "CorsAllowedOrigins=https://app.example,https://d111.cloudfront.net WebAppUrl=https://d111.cloudfront.net"
    assert log == [
        ("run", same),  # SiteRelease not named: the site stays on its release while the functions change
        *[("put", release.prefix + key) for key in SITE_KEYS],
        ("run", f"{same} SiteRelease={release.id}"),  # the switch: only SiteRelease differs
        ("delete", sorted(f"releases/{r}/{k}" for r in (older, orphan) for k in ("index.html", CONFIG_FILE))),
    ]
    assert releases(s3, "site-bucket") == [live, release.id]


def test_a_deploy_whose_site_is_the_live_release_uploads_nothing_and_switches_nothing():
    release = make_release(EDGE, NOW)
    live = "20251201T000000Z-" + release.id.split("-")[1]
    current = StackState(outputs=DEPLOYED, parameters={"CorsAllowedOrigins": "", "SiteRelease": live})
    keys = [f"releases/{live}/{key}" for key in SITE_KEYS] + ["releases/20251101T000000Z-bbbbbbbbbbbb/index.html"]
    deployed, log, _ = _deploy([current, current], keys)
    assert (deployed.release, deployed.previous) == (live, "")
    assert log == [("run", "CorsAllowedOrigins=https://d111.cloudfront.net WebAppUrl=https://d111.cloudfront.net")]
    # The same content, but a file of the live release missing: uploaded again as a new release.
    deployed, log, _ = _deploy([current, current], keys[1:])
    assert deployed.release == release.id and log[-2][0] == "run" and log[-1][0] == "delete"


def test_the_files_of_the_layout_before_releases_stay_until_the_next_switch():
    release = make_release(EDGE, NOW)
    legacy = StackState(outputs=DEPLOYED, parameters={"CorsAllowedOrigins": "", "SiteRelease": ""})
    deployed, log, s3 = _deploy([legacy, legacy], ["index.html", "app/main.js"])
    assert (deployed.release, deployed.previous) == (release.id, "")
    assert [entry[0] for entry in log] == ["run", *["put"] * len(SITE_KEYS), "run"]
    assert {"index.html", "app/main.js"} <= set(s3.objects)


def test_origins_given_replace_the_stacks_and_a_domain_goes_to_both_updates():
    release = make_release("https://app.example.org/", NOW)
    current = StackState(outputs=DEPLOYED, parameters={"CorsAllowedOrigins": "https://app.example", "SiteRelease": ""})
    domain = {"SiteDomainName": "app.example.org", "SiteCertificateArn": "arn:aws:acm:us-east-1:1:certificate/x"}
    on_domain = StackState(outputs={**DEPLOYED, "SiteURL": "https://app.example.org/"}, parameters={"SiteRelease": ""})
    _, log, _ = _deploy([current, on_domain], origins="https://b.example", parameters=domain)
    named = "SiteDomainName=app.example.org SiteCertificateArn=arn:aws:acm:us-east-1:1:certificate/x"
    assert [entry for entry in log if entry[0] == "run"] == [
        (
            "run",
            "CorsAllowedOrigins=https://b.example,https://d111.cloudfront.net "
            f"WebAppUrl=https://d111.cloudfront.net {named}",
        ),
        (
            "run",
            "CorsAllowedOrigins=https://b.example,https://d111.cloudfront.net,https://app.example.org "
            f"WebAppUrl=https://app.example.org {named} SiteRelease={release.id}",
        ),
    ]  # fmt: skip


def test_a_web_app_url_given_replaces_the_sites_own_from_the_first_update():
    created = StackState(outputs=DEPLOYED, parameters={"SiteRelease": ""})
    _, log, _ = _deploy([None, created], stage="prod", web_app_url="https://sessions.example.org")
    release = make_release(EDGE, NOW)
    assert [entry for entry in log if entry[0] == "run"] == [
        ("run", "CorsAllowedOrigins= WebAppUrl=https://sessions.example.org"),
        (
            "run",
            "CorsAllowedOrigins=https://d111.cloudfront.net WebAppUrl=https://sessions.example.org "
            f"SiteRelease={release.id}",
        ),
    ]


def test_a_failed_switch_deletes_nothing():
    current = StackState(outputs=DEPLOYED, parameters={"CorsAllowedOrigins": "", "SiteRelease": "A"})
    log: list[tuple[str, Any]] = []
    s3 = FakeS3(log, ["releases/A/index.html", "releases/0/index.html"])
    runs = []

    def run(command: Any) -> None:
        runs.append(command)
        if len(runs) == 2:
            raise subprocess.CalledProcessError(255, command)

    with pytest.raises(subprocess.CalledProcessError):
        deploy(
            "dev", "stack", "packaged.json", None, cloudformation=FakeCloudFormation(current, current), s3=s3,
            artifact_bucket="artifacts", run=run, now=lambda: NOW,
        )  # fmt: skip
    assert not [entry for entry in log if entry[0] == "delete"]
    assert {"releases/A/index.html", "releases/0/index.html"} <= set(s3.objects)


# --- Rolling the site back, and the command line ---


class RollbackCloudFormation(FakeCloudFormation):
    def __init__(self, state: StackState) -> None:
        super().__init__(state)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def update_stack(self, **kwargs: Any) -> None:
        self.calls.append(("update_stack", kwargs))

    def get_waiter(self, name: str) -> Any:
        calls = self.calls

        class Waiter:
            def wait(self, **kwargs: Any) -> None:
                calls.append((f"wait {name}", kwargs))

        return Waiter()


def test_a_rollback_is_an_update_of_site_release_alone_with_the_template_and_parameters_as_they_are():
    state = StackState(
        outputs=DEPLOYED,
        parameters={"CorsAllowedOrigins": "https://a.example", "WebAppUrl": "https://a.example", "SiteRelease": "N"},
    )
    cloudformation = RollbackCloudFormation(state)
    s3 = FakeS3([], ["releases/N/index.html", "releases/P/index.html"])
    switch_release(cloudformation, s3, "stack", "P")
    assert cloudformation.calls == [
        (
            "update_stack",
            {
                "StackName": "stack",
                "UsePreviousTemplate": True,
                "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
                "Parameters": [
                    {"ParameterKey": "CorsAllowedOrigins", "UsePreviousValue": True},
                    {"ParameterKey": "WebAppUrl", "UsePreviousValue": True},
                    {"ParameterKey": "SiteRelease", "ParameterValue": "P"},
                ],
            },
        ),
        ("wait stack_update_complete", {"StackName": "stack"}),
    ]
    with pytest.raises(SystemExit, match="no release Q in site-bucket: N, P"):
        switch_release(RollbackCloudFormation(state), s3, "stack", "Q")


def test_the_command_line_wants_the_artifact_bucket_and_a_domain_with_its_certificate(capsys):
    base = ["deploy", "dev", "--stack", "s", "--template", "t.json"]
    with pytest.raises(SystemExit) as exit_:
        main(base)
    assert exit_.value.code == 2 and "--artifact-bucket" in capsys.readouterr().err
    for partial in (["--site-domain-name", "a.example.com"], ["--site-certificate-arn", "arn"]):
        with pytest.raises(SystemExit) as exit_:
            main([*base, "--artifact-bucket", "b", *partial])
        assert exit_.value.code == 2
        assert "--site-domain-name and --site-certificate-arn go together" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main([*base, "--artifact-bucket", "b", "--site-domain-name", "", "--site-certificate-arn", "arn"])
    assert exit_.value.code == 2


def test_make_deploy_passes_the_artifact_bucket_and_the_stacks_prefix():
    dry = subprocess.run(
        ["make", "-n", "deploy", "ARTIFACT_BUCKET=my-artifacts", "STAGE=prod"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout
    flat = " ".join(dry.replace("\\\n", " ").split())
    assert (
        "aws cloudformation package --template-file build/prod/sam.json --s3-bucket my-artifacts "
        "--s3-prefix sessions-marketplace-prod --output-template-file build/prod/packaged.json"
    ) in flat
    assert (
        ".venv/bin/python -m deploy.publish deploy prod --stack sessions-marketplace-prod "
        "--template build/prod/packaged.json --artifact-bucket 'my-artifacts'"
    ) in flat


def test_the_releases_command_lists_them_oldest_first_with_the_live_one_marked(monkeypatch, capsys):
    state = StackState(outputs=DEPLOYED, parameters={"SiteRelease": "B"})
    s3 = FakeS3([], ["releases/A/index.html", "releases/B/index.html", "releases/B/config.js", "index.html"])
    clients = {"cloudformation": FakeCloudFormation(state), "s3": s3}
    monkeypatch.setattr(boto3, "client", lambda name, **_: clients[name])
    assert main(["releases", "--stack", "stack"]) == 0
    assert capsys.readouterr().out == "A\nB  (live)\n"


def test_the_rollback_command_switches_and_says_so(monkeypatch, capsys):
    state = StackState(outputs=DEPLOYED, parameters={"CorsAllowedOrigins": "", "SiteRelease": "B"})
    cloudformation = RollbackCloudFormation(state)
    clients = {"cloudformation": cloudformation, "s3": FakeS3([], ["releases/A/index.html", "releases/B/x"])}
    monkeypatch.setattr(boto3, "client", lambda name, **_: clients[name])
    assert main(["rollback", "--stack", "stack", "--release", "A"]) == 0
    assert cloudformation.calls[0][1]["Parameters"][-1] == {"ParameterKey": "SiteRelease", "ParameterValue": "A"}
    assert capsys.readouterr().out == "stack serves release A\n"
