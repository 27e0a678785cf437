"""What a browser does with an upload form, and how to read the signed policy inside it."""

from __future__ import annotations

import base64
import json
from typing import Any

import requests


def post_file(
    form: dict[str, Any], data: bytes, content_type: str, *, origin: str | None = None, filename: str = "picture"
) -> requests.Response:
    """POST the form's fields, then the file as the last field (S3 ignores fields after it), as multipart/form-data."""
    headers = {"Origin": origin} if origin else {}
    files = {"file": (filename, data, content_type)}
    return requests.post(form["url"], data=form["fields"], files=files, headers=headers, timeout=30)


def policy(form: dict[str, Any]) -> dict[str, Any]:
    """The POST policy the form carries, decoded: its expiration and the conditions S3 checks the POST against."""
    document: dict[str, Any] = json.loads(base64.b64decode(form["fields"]["policy"]))
    return document


def conditions(form: dict[str, Any]) -> list[Any]:
    """The policy's conditions, each as a comparable value (dicts as sorted item lists)."""
    return sorted(
        (sorted(c.items()) if isinstance(c, dict) else c for c in policy(form)["conditions"]),
        key=json.dumps,
    )
