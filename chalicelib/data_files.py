"""Third-party data the code reads (Django's common-password list, Unicode's confusables): in the working tree
next to the modules that read them; deployed, in the dependency layer with the other third-party packages
(deploy/package.py), so that the function zip stays the project's code, under 1 MB."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def data_file(relative: str) -> Path:
    """The file at `relative` (e.g. "services/data/common-passwords.txt.gz") under chalicelib: beside the code if
    it is there, else under the first folder of sys.path that has it (the layer's /opt/python on Lambda)."""
    local = _HERE / relative
    if local.exists():
        return local
    for entry in sys.path:
        candidate = Path(entry or ".") / "chalicelib" / relative
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"chalicelib/{relative} is neither beside the code nor on sys.path")
