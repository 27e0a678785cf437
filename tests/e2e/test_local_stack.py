"""The local stack itself (`make run`): a large snapshot, restarts right after Ctrl-C, busy ports, S3 objects
kept across restarts in private files, the environment over .chalice/config.json, and a local AWS that hangs."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

from devstack.stack import ROOT, LocalStack, PortInUse, free_port, port_is_free
from tests.support.stack import bearer, token

EVENTS_TABLE = "sessions-local-events"
BUCKET = "sessions-local-uploads"
BULK_EVENTS = 1500
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _ulid(n: int) -> str:
    """A valid id of our own making, so that the bulk events can be read back through the API."""
    chars = []
    for _ in range(26):
        n, rem = divmod(n, 32)
        chars.append(_CROCKFORD[rem])
    return "01" + "".join(reversed(chars))[2:]


def _stack(data_dir: Path, **env: str) -> LocalStack:
    return LocalStack(free_port(), free_port(), data_dir, extra_env={"BCRYPT_ROUNDS": "4", **env}, quiet=True)


def _aws(endpoint: str, service: str, config: Config | None = None) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=config,
    )


def _count(dynamodb: Any, table: str) -> int:
    pages = dynamodb.get_paginator("scan").paginate(TableName=table, Select="COUNT")
    return sum(page["Count"] for page in pages)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _make_run(
    data_dir: Path, port: int, aws_port: int, log: Path, payments_port: int | None = None, web_port: int = 0
) -> subprocess.Popen[bytes]:
    """`python -m devstack` as `make run` starts it, in its own process group (as a terminal's foreground job)."""
    env = {
        **os.environ,
        "PORT": str(port),
        "LOCAL_AWS_PORT": str(aws_port),
        "LOCAL_PAYMENTS_PORT": str(payments_port or free_port()),
        "WEB_PORT": str(web_port or free_port()),  # never the default 3000, which a developer's make run may hold
        "LOCAL_DATA_DIR": str(data_dir),
        "BCRYPT_ROUNDS": "4",
        "CORS_ALLOWED_ORIGINS": "https://shell.example.test",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "devstack"], cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
        )


def _wait_until_it_answers(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 300  # only so that a hang fails the test instead of the whole run
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer; log:\n{log.read_text()}")


@pytest.fixture(scope="module")
def large_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A data folder holding the demo data and BULK_EVENTS more events (a few MB); and the number of events."""
    data_dir = tmp_path_factory.mktemp("large-data")
    stack = _stack(data_dir)
    stack.start()
    try:
        dynamodb = _aws(stack.aws_url, "dynamodb")
        template = dynamodb.scan(TableName=EVENTS_TABLE, Limit=1)["Items"][0]
        for start in range(0, BULK_EVENTS, 25):
            batch = []
            for n in range(start, start + 25):
                event_id = _ulid(n)
                item = {
                    **template,
                    "id": {"S": event_id},
                    "created_sk": {"S": f"{template['created_at']['S']}#{event_id}"},
                    "title": {"S": f"Bulk {n}"},
                    # Few items and long ones: a snapshot of a few MB made quickly.
                    "description": {"S": f"Event number {n}. " + "Long description. " * 100},
                }
                batch.append({"PutRequest": {"Item": item}})
            dynamodb.batch_write_item(RequestItems={EVENTS_TABLE: batch})
        events = _count(dynamodb, EVENTS_TABLE)
    finally:
        stack.stop()
    assert (data_dir / "dynamodb.json").stat().st_size > 2_000_000
    return data_dir, events


def test_a_large_snapshot_is_loaded_before_the_local_aws_answers(large_data):
    # Before the fix the local AWS answered while it was still loading: `createtables` then met tables half
    # restored ("Table already exists") and the stack did not start.
    data_dir, events = large_data
    stack = _stack(data_dir)
    stack.start()
    try:
        assert _count(_aws(stack.aws_url, "dynamodb"), EVENTS_TABLE) == events
        last = requests.get(f"{stack.url}/api/events/{_ulid(BULK_EVENTS - 1)}/", timeout=10)
        assert (last.status_code, last.json()["title"]) == (200, f"Bulk {BULK_EVENTS - 1}")
    finally:
        stack.stop()


def test_make_run_returns_after_its_children_and_restarts_at_once_with_everything(large_data, tmp_path):
    data_dir, events = large_data
    port, aws_port, payments_port, web_port = free_port(), free_port(), free_port(), free_port()
    log = tmp_path / "make-run.log"
    created: list[dict] = []
    # Twice: the second start finds the large data and what the first made just before its Ctrl-C.
    for _ in range(2):
        run = _make_run(data_dir, port, aws_port, log, payments_port, web_port)
        try:
            _wait_until_it_answers(run, f"http://127.0.0.1:{web_port}/", log)
            base = f"http://127.0.0.1:{port}"
            config = requests.get(f"http://127.0.0.1:{web_port}/config.js", timeout=10).text
            assert f'"apiUrl": "{base}/"' in config  # the web app, on its own origin, names this API
            origin = {"Origin": "https://shell.example.test"}  # set in the shell: wins over config.json
            allowed = requests.get(f"{base}/health/", headers=origin, timeout=10).headers
            assert allowed.get("Access-Control-Allow-Origin") == "https://shell.example.test"
            assert _count(_aws(f"http://127.0.0.1:{aws_port}", "dynamodb"), EVENTS_TABLE) == events + len(created)
            for event in created:
                assert requests.get(f"{base}/api/events/{event['id']}/", timeout=10).json() == event
            body = {"title": f"Round {len(created)}", "description": "made just before Ctrl-C"}
            reply = requests.post(
                f"{base}/api/events/", json=body, headers=bearer(token(base, "creator_user")), timeout=10
            )
            assert reply.status_code == 201
            created.append(reply.json())
            children = _children(run.pid)
            # The local AWS, the API, the local payment provider and the notifier (the web app is a thread of make
            # run's process).
            assert len(children) == 4
        finally:
            os.killpg(run.pid, signal.SIGINT)  # Ctrl-C: the whole foreground process group gets it
            code = run.wait(timeout=300)
        assert code == 0, log.read_text()
        assert [pid for pid in children if _alive(pid)] == []
        assert port_is_free(port) and port_is_free(aws_port) and port_is_free(payments_port) and port_is_free(web_port)


@pytest.mark.parametrize(
    ("variable", "what"), [("PORT", "API"), ("LOCAL_AWS_PORT", "local AWS"), ("WEB_PORT", "web app")]
)
def test_a_busy_port_is_named_in_one_line_and_nothing_starts(variable, what, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {
            **os.environ,
            "PORT": str(free_port()),
            "LOCAL_AWS_PORT": str(free_port()),
            "WEB_PORT": str(free_port()),
            variable: str(port),
        }
        env["LOCAL_DATA_DIR"] = str(tmp_path)
        run = subprocess.run(
            [sys.executable, "-m", "devstack"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr == (
        f"make run: port {port} ({what}, {variable}) is already in use: stop what listens there (an earlier "
        f"`make run`?) or choose another port, e.g. `make run {variable}={port + 10}`\n"
    )


@pytest.mark.parametrize("server", ["devstack.aws", "devstack.api"])
def test_a_server_that_finds_its_port_taken_says_so_with_its_own_exit_code(server, tmp_path):
    # The stack checks its ports first; this is the case of a port taken between that check and the bind.
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        command = [sys.executable, "-m", server, "--port", str(port)]
        if server == "devstack.aws":
            command += ["--data-dir", str(tmp_path)]
        run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    name = "local AWS" if server == "devstack.aws" else "API"
    assert (run.returncode, run.stderr) == (98, f"{name}: port {port} is already in use\n")


def test_a_data_folder_in_use_by_another_local_aws_is_refused(tmp_path):
    # Two stacks on one folder would each write their own snapshot over the other's.
    with (tmp_path / ".lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        command = [sys.executable, "-m", "devstack.aws", "--port", str(free_port()), "--data-dir", str(tmp_path)]
        run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert (run.returncode, run.stderr) == (75, f"local AWS: {tmp_path} is used by another local stack\n")


def test_the_stack_reports_a_port_taken_after_its_check_as_port_in_use(tmp_path, monkeypatch):
    monkeypatch.setattr("devstack.stack.port_is_free", lambda port: True)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        stack = LocalStack(free_port(), busy.getsockname()[1], tmp_path, quiet=True)
        with pytest.raises(PortInUse) as raised:
            stack.start()
    assert raised.value.port == stack.aws_port
    assert stack.processes == []


def test_a_web_port_taken_after_the_check_is_reported_as_port_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        stack = LocalStack(free_port(), free_port(), tmp_path, quiet=True, web_port=busy.getsockname()[1])
        with pytest.raises(PortInUse) as raised:
            stack._serve_web()
    assert (raised.value.port, stack.web) == (stack.web_port, None)
    assert "(web app, WEB_PORT) is already in use" in str(raised.value)


def test_uploads_survive_a_restart_and_the_data_files_are_private(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    (data_dir / "jwt-signing-key").write_text("k" * 64)  # as earlier versions left it: 0644
    (data_dir / "jwt-signing-key").chmod(0o644)
    picture = bytes(range(256)) * 40  # not UTF-8, 10 KB
    first = _stack(data_dir)
    first.start()
    try:
        s3 = _aws(first.aws_url, "s3")
        s3.put_object(
            Bucket=BUCKET, Key="avatars/u1/me.png", Body=picture, ContentType="image/png", Metadata={"owner": "u1"}
        )
        s3.put_object(Bucket=BUCKET, Key="notes/hello.txt", Body=b"hello", ContentType="text/plain")
        s3.put_object(Bucket=BUCKET, Key="gone.txt", Body=b"bye")
        s3.delete_object(Bucket=BUCKET, Key="gone.txt")
    finally:
        first.stop()
    second = _stack(data_dir)
    second.start()
    try:
        s3 = _aws(second.aws_url, "s3")
        got = s3.get_object(Bucket=BUCKET, Key="avatars/u1/me.png")
        assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (picture, "image/png", {"owner": "u1"})
        got = s3.get_object(Bucket=BUCKET, Key="notes/hello.txt")
        assert (got["Body"].read(), got["ContentType"]) == (b"hello", "text/plain")
        listed = s3.list_objects_v2(Bucket=BUCKET)["Contents"]
        assert [o["Key"] for o in listed] == ["avatars/u1/me.png", "notes/hello.txt"]
        with pytest.raises(ClientError):
            s3.get_object(Bucket=BUCKET, Key="gone.txt")
    finally:
        second.stop()
    modes = {str(p.relative_to(data_dir)): p.stat().st_mode & 0o777 for p in data_dir.rglob("*")}
    assert modes.pop("s3") == 0o700
    assert set(modes) >= {"dynamodb.json", "s3.json", "jwt-signing-key"}
    assert len([name for name in modes if name.startswith("s3/")]) == 2  # one file per object's content
    assert {name: mode for name, mode in modes.items() if mode != 0o600} == {}
    assert data_dir.stat().st_mode & 0o777 == 0o700


def test_a_variable_set_in_the_environment_wins_over_config_json(tmp_path):
    stack = _stack(tmp_path, CORS_ALLOWED_ORIGINS="https://app.example.test")
    stack.start()
    try:
        ours = requests.get(f"{stack.url}/health/", headers={"Origin": "https://app.example.test"}, timeout=10)
        assert ours.headers.get("Access-Control-Allow-Origin") == "https://app.example.test"
        # config.json's local origins are replaced, not added to.
        theirs = requests.get(f"{stack.url}/health/", headers={"Origin": "http://localhost:3000"}, timeout=10)
        assert "Access-Control-Allow-Origin" not in theirs.headers
    finally:
        stack.stop()


def test_a_paused_local_aws_makes_calls_time_out_and_answers_again_when_resumed(stack):
    quick = Config(connect_timeout=2, read_timeout=1, retries={"total_max_attempts": 1})
    dynamodb = _aws(stack.aws_url, "dynamodb", quick)
    with stack.paused_aws(), pytest.raises(ReadTimeoutError):
        dynamodb.describe_table(TableName=EVENTS_TABLE)
    resumed = _aws(stack.aws_url, "dynamodb", Config(read_timeout=60, retries={"total_max_attempts": 1}))
    assert resumed.describe_table(TableName=EVENTS_TABLE)["Table"]["TableName"] == EVENTS_TABLE
