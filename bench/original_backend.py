"""The original Django + DRF + simplejwt backend, rebuilt in bench/original/, prepared for side-by-side timing.

It runs in its own virtualenv (`make bench` creates .bench/original-venv from bench/original/requirements.txt),
never in the project's, so neither side loads the other's packages."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path(__file__).resolve().parent / "original"
VENV_PYTHON = ROOT / ".bench" / "original-venv" / "bin" / "python"
REFERENCE_NAME = Path("shared") / "reference" / "drf-simplejwt-responses.txt"

# A fresh process timed from its first import to its first response, as Lambda bills init plus first invoke:
# settings, apps, the WSGI handler, then one GET /api/events/ through every middleware (the URLconf loads on it)
# and the response closed, which fires request_finished and closes the database connection.
COLD_ORIGINAL = """
import time
started = time.perf_counter()
import io, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "backend.settings"
from backend.wsgi import application
environ = {
    "REQUEST_METHOD": "GET", "PATH_INFO": "/api/events/", "QUERY_STRING": "", "SCRIPT_NAME": "",
    "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1",
    "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
    "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
}
statuses = []
response = application(environ, lambda status, headers, exc_info=None: statuses.append(status))
try:
    body = b"".join(response)
finally:
    response.close()
assert statuses[0].startswith("200") and body.startswith(b"[{"), (statuses, body[:200])
elapsed = time.perf_counter() - started
import json, resource
print(json.dumps({"seconds": elapsed, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


@contextmanager
def prepared() -> Iterator[Path]:
    """A copy of the rebuild with its SQLite database migrated and seeded; yields the folder to run it in."""
    if not VENV_PYTHON.exists():
        raise SystemExit(f"{VENV_PYTHON} is missing: run `make bench`, which creates it")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "original"
        shutil.copytree(SOURCE, folder, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
        subprocess.run([str(VENV_PYTHON), "seed_demo.py"], cwd=folder, check=True, capture_output=True)
        yield folder


def check_reference(folder: Path) -> dict[str, Any]:
    """How many requests were compared with the reference answers and which differed."""
    reference = _reference()
    if reference is None:
        return {"checked": 0, "mismatches": [{"request": "all", "problems": [f"no {REFERENCE_NAME} found"]}]}
    result = subprocess.run(
        [str(VENV_PYTHON), "check_reference.py", str(reference)],
        cwd=folder,
        check=True,
        capture_output=True,
        text=True,
    )
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def _reference() -> Path | None:
    # The recorded answers live in the project's shared folder, beside the checkout or a few levels up from it.
    for folder in ROOT.parents:
        if (folder / REFERENCE_NAME).exists():
            return folder / REFERENCE_NAME
    return None
