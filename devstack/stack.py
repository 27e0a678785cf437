"""Start and stop the whole local stack: the code behind `make run` and the end-to-end tests."""

from __future__ import annotations

import errno
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devstack import payments as local_payments
from devstack.files import DATA_IN_USE_EXIT, PORT_IN_USE_EXIT, private_dir, write_private
from devstack.web import WebPortInUse, WebServer

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
BUCKET_SUFFIX = "uploads"
# Loading a large snapshot takes a while; the point of a limit is only to report a server that hangs.
AWS_START_TIMEOUT = 600.0
API_START_TIMEOUT = 120.0
# How long a child may take to exit before it is killed: the local AWS writes its final snapshot first (a kill
# keeps the previous one, which is replaced atomically).
AWS_STOP_TIMEOUT = 300.0
API_STOP_TIMEOUT = 20.0


class StackError(RuntimeError):
    """The stack could not start, for a reason one line explains."""


class PortInUse(StackError):
    def __init__(self, port: int, variable: str, what: str) -> None:
        super().__init__(
            f"port {port} ({what}, {variable}) is already in use: stop what listens there (an earlier `make run`?) "
            f"or choose another port, e.g. `make run {variable}={port + 10}`"
        )
        self.port = port


def stage_variables(stage: str = "local") -> dict[str, str]:
    """The stage's variables in .chalice/config.json: the local stack's defaults."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return dict(config["stages"][stage].get("environment_variables", {}))


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:`port` now (as our servers bind: TIME_WAIT does not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def _signing_key(data_dir: Path) -> str:
    # Kept with the data so that tokens survive a restart; never committed (the folder is git-ignored).
    path = data_dir / "jwt-signing-key"
    if not path.exists():
        write_private(path, secrets.token_urlsafe(48).encode())
    path.chmod(0o600)
    return path.read_text().strip()


class LocalStack:
    """moto (DynamoDB, S3), the API and the local payment provider, as child processes sharing one environment;
    and, when given a `web_port`, the web app on that port (a thread of this process: devstack/web.py).

    The children get the stage's variables from .chalice/config.json, overridden only by `extra_env`: the
    values of this process's environment are replaced, so that tests do not depend on the shell they run in
    (`make run` passes the shell's values as `extra_env`, to let them win).
    """

    def __init__(
        self,
        port: int,
        aws_port: int,
        data_dir: Path,
        extra_env: dict[str, str] | None = None,
        quiet: bool = False,
        payments_port: int | None = None,
        web_port: int | None = None,
    ) -> None:
        self.quiet = quiet
        self.port = port
        self.aws_port = aws_port
        # The local payment provider (devstack/payments.py): LOCAL_PAYMENTS_PORT under `make run`, else any.
        self.payments_port = payments_port or free_port()
        self.web_port = web_port
        self.web: WebServer | None = None
        self.data_dir = data_dir
        self.extra_env = extra_env or {}
        self.processes: list[subprocess.Popen[bytes]] = []
        self.aws: subprocess.Popen[bytes] | None = None
        self.api: subprocess.Popen[bytes] | None = None
        self.payments: subprocess.Popen[bytes] | None = None
        self.notifier: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the API."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def web_url(self) -> str:
        """Base URL of the web app (its own origin, as a deployed site's is)."""
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def aws_url(self) -> str:
        """Endpoint of the local AWS (DynamoDB and S3)."""
        return f"http://127.0.0.1:{self.aws_port}"

    def environment(self) -> dict[str, str]:
        """What the app and tools need to talk to the local AWS."""
        env = {
            **os.environ,
            **stage_variables(),
            "AWS_ENDPOINT_URL_DYNAMODB": self.aws_url,
            "AWS_ENDPOINT_URL_S3": self.aws_url,
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": self.aws_url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "STAGE": "local",
            "MAIL_DIR": str(self.data_dir.parent / "mail"),
            "PYTHONUNBUFFERED": "1",
            # The emulated gateway's domain is this address: `next` links must point back here.
            "PUBLIC_API_ORIGIN": self.url,
            # Password-reset e-mails link to this stack's own web app.
            "WEB_APP_URL": self.web_url,
        }
        env.update(local_payments.environment(self.payments_port, self.url, self.data_dir))
        env.update(self.extra_env)
        env["JWT_SIGNING_KEY"] = _signing_key(self.data_dir)
        retired = self.data_dir / "jwt-signing-key.previous"
        if retired.exists():  # left by a manual rotation (docs/accounts.md, "Signing keys and rotation")
            env["JWT_PREVIOUS_SIGNING_KEY"] = retired.read_text().strip()
        return env

    @property
    def payments_url(self) -> str:
        """Base URL of the local payment provider (Stripe's stand-in)."""
        return f"http://127.0.0.1:{self.payments_port}"

    def start(self) -> None:
        """Start moto (it answers once its data is loaded), prepare tables, bucket and demo data, then serve
        the API, the local payment provider and the web app; returns once they answer. On failure everything
        started is stopped again."""
        ports = [
            (self.aws_port, "LOCAL_AWS_PORT", "local AWS"),
            (self.port, "PORT", "API"),
            (self.payments_port, "LOCAL_PAYMENTS_PORT", "local payments"),
        ]
        if self.web_port is not None:
            ports.append((self.web_port, "WEB_PORT", "web app"))
        for port, variable, what in ports:
            if not port_is_free(port):
                raise PortInUse(port, variable, what)
        private_dir(self.data_dir)
        env = self.environment()
        try:
            self.aws = self._spawn(
                [sys.executable, "-m", "devstack.aws", "--port", str(self.aws_port), "--data-dir", str(self.data_dir)],
                env,
            )
            self._wait(f"{self.aws_url}/moto-api/", self.aws, PortInUse(self.aws_port, "LOCAL_AWS_PORT", "local AWS"))
            # The API starts (imports, binds) while the tables are made and seeded: it touches DynamoDB only
            # once asked, and nobody is told the stack is up before all of it is.
            self.api = self._spawn([sys.executable, "-m", "devstack.api", "--port", str(self.port)], env)
            output = subprocess.DEVNULL if self.quiet else None
            for command in (["createtables", "--bucket"], ["seed"]):
                done = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, stdout=output)
                if done.returncode != 0:
                    raise StackError(f"`manage.py {' '.join(command)}` failed with exit code {done.returncode}")
            # The sweep and the stream poller read the tables from their first pass: they start after them.
            self.payments = self._spawn(local_payments.command(self.payments_port, self.data_dir), env)
            # What DynamoDB Streams and the Notifier function do deployed: the messages in the mail folder.
            self.notifier = self._spawn(
                [sys.executable, "-m", "devstack.notifier", "--data-dir", str(self.data_dir)], env
            )
            self._wait(f"{self.url}/health/", self.api, PortInUse(self.port, "PORT", "API"))
            in_use = PortInUse(self.payments_port, "LOCAL_PAYMENTS_PORT", "local payments")
            self._wait(f"{self.payments_url}/health", self.payments, in_use)
            if self.web_port is not None:
                self._serve_web()
        except BaseException:
            self.stop()
            raise

    def _serve_web(self) -> None:
        web = WebServer(self.web_port or 0, api_url=self.url, storage_url=self.aws_url)
        try:
            web.start()
        except WebPortInUse:
            raise PortInUse(web.port, "WEB_PORT", "web app") from None
        self.web = web

    def _spawn(self, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        output = subprocess.DEVNULL if self.quiet else None
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output)
        self.processes.append(process)
        return process

    def _wait(self, url: str, process: subprocess.Popen[bytes], in_use: PortInUse) -> None:
        timeout = AWS_START_TIMEOUT if process is self.aws else API_START_TIMEOUT
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = process.poll()
            if code == PORT_IN_USE_EXIT:
                raise in_use
            if code == DATA_IN_USE_EXIT:
                raise StackError(f"{self.data_dir} is used by another local stack: stop it first")
            if code is not None:
                raise StackError(f"{' '.join(map(str, process.args))} exited with {code} before serving {url}")
            try:
                with urllib.request.urlopen(url, timeout=5):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.1)
        raise StackError(f"{url} did not answer within {timeout:.0f} s")

    def dead_child(self) -> subprocess.Popen[bytes] | None:
        """A child that has exited on its own, if any (the stack is then broken)."""
        return next((p for p in self.processes if p.poll() is not None), None)

    @contextmanager
    def paused_aws(self) -> Iterator[None]:
        """Make the local AWS hang (SIGSTOP: connections are accepted by the kernel, never answered) for the
        duration of the block, then resume it: for tests of timeouts and slow dependencies."""
        if self.aws is None or self.aws.poll() is not None:
            raise RuntimeError("the local AWS is not running")
        self.aws.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.aws.send_signal(signal.SIGCONT)

    def stop(self, keep_data: bool = True) -> None:
        """Stop the web app and the API first, then moto (which writes its final snapshot); returns once every
        child has exited. Ctrl-C (or SIGTERM) while waiting kills the child being waited for instead.
        `keep_data=False`: a stack whose folder is thrown away next (the tests'): moto is killed instead, without
        the final snapshot, which took a test session's stack seconds to write."""
        if self.web is not None:
            self.web.stop()
            self.web = None
        # Those in front of moto are told together (each waited for alone, they took a second more in all);
        # moto last, once nothing can write to it any more.
        front = [process for process in self.processes if process is not self.aws]
        for process in front:
            _signal_end(process)
        for process in reversed(front):
            try:
                _reap(process, API_STOP_TIMEOUT)
            except KeyboardInterrupt:
                _reap(process, 0)
        if self.aws is not None and self.aws in self.processes:
            try:
                if keep_data:
                    _end(self.aws, AWS_STOP_TIMEOUT)
                else:
                    _reap(self.aws, 0)  # killed at once: nothing of it is kept
            except KeyboardInterrupt:
                _reap(self.aws, 0)
        self.processes.clear()
        self.aws = self.api = self.payments = self.notifier = None


def _signal_end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGCONT)  # a paused process would not act on SIGTERM
        process.terminate()


def _end(process: subprocess.Popen[bytes], timeout: float) -> None:
    _signal_end(process)
    _reap(process, timeout)


def _reap(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait for a process told to end, killing it after `timeout`."""
    try:
        process.wait(timeout=timeout)
        return
    except subprocess.TimeoutExpired:
        pass
    except KeyboardInterrupt:
        print(f"killing {' '.join(map(str, process.args))}", file=sys.stderr, flush=True)
    process.kill()
    while True:
        try:
            process.wait()
            return
        except KeyboardInterrupt:
            continue  # it is being killed; returning before it is gone would leave its port taken
