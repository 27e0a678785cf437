"""Start and stop the whole local stack: the code behind `make run` and the end-to-end tests."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
BUCKET_SUFFIX = "uploads"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _signing_key(data_dir: Path) -> str:
    # Kept with the data so that tokens survive a restart; never committed (the folder is git-ignored).
    path = data_dir / "jwt-signing-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _wait(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


class LocalStack:
    """moto (DynamoDB, S3) and the API, as child processes sharing one environment."""

    def __init__(
        self, port: int, aws_port: int, data_dir: Path, extra_env: dict[str, str] | None = None, quiet: bool = False
    ) -> None:
        self.quiet = quiet
        self.port = port
        self.aws_port = aws_port
        self.data_dir = data_dir
        self.extra_env = extra_env or {}
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        """Base URL of the API."""
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        """What the app and tools need to talk to the local AWS."""
        endpoint = f"http://127.0.0.1:{self.aws_port}"
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "AWS_ENDPOINT_URL_S3": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "STAGE": "local",
            "MAIL_DIR": str(self.data_dir.parent / "mail"),
            "PYTHONUNBUFFERED": "1",
        }
        env.update(self.extra_env)
        env["JWT_SIGNING_KEY"] = _signing_key(self.data_dir)
        return env

    def start(self) -> None:
        """Start moto, prepare tables, bucket and demo data, then serve the API; returns once it answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = self.environment()
        aws = self._spawn(
            [sys.executable, "-m", "devstack.aws", "--port", str(self.aws_port), "--data-dir", str(self.data_dir)], env
        )
        _wait(f"http://127.0.0.1:{self.aws_port}/moto-api/", aws)
        output = subprocess.DEVNULL if self.quiet else None
        for command in (["createtables", "--bucket"], ["seed"]):
            subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=output)
        api = self._spawn([sys.executable, "-m", "devstack.api", "--port", str(self.port)], env)
        _wait(f"{self.url}/health/", api)

    def _spawn(self, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        output = subprocess.DEVNULL if self.quiet else None
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        """Stop the API first, then moto (which writes its final snapshot)."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.processes.clear()
