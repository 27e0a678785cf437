"""Look-alike usernames: two names that a reader cannot tell apart are one name.

The key is Unicode's confusable skeleton (UTS #39, section 4: NFD, each character mapped to its prototype by
confusables.txt, NFD again), taken of the name's identity (NFKC and case folding, as usernames compare) with
combining marks dropped before and after the mapping. So `usеr` (a Cyrillic е), `аdmin` (a Cyrillic а),
`creatοr_user` (a Greek ο) and `admın` (a dotless ı) are `user`, `admin` and `creator_user`; and `ADMİN`,
whose İ folds to an i with a dot above, is `admin` too (dropping the marks also makes `josé` look like `jose`:
for usernames, what people read is what counts). Sign-up refuses a name whose key another account holds.

The mappings are Unicode 13.0's (data/confusables.txt.gz, read on first use: only writers of accounts load it)."""

from __future__ import annotations

import gzip
import unicodedata
from functools import cache

from chalicelib.domain.users import identity

_DATA = "security/data/confusables.txt.gz"  # chalicelib.data_files


@cache
def _prototypes() -> dict[str, str]:
    mapping = {}
    from chalicelib.data_files import data_file

    with gzip.open(data_file(_DATA), "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#") or ";" not in line:
                continue
            source, target = line.strip().split(";")
            mapping[chr(int(source, 16))] = "".join(chr(int(code, 16)) for code in target.split())
    return mapping


def skeleton(text: str) -> str:
    """UTS #39's skeleton: NFD, every character replaced by its prototype, NFD."""
    prototypes = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(prototypes.get(c, c) for c in decomposed))


def _unmarked(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def lookalike_key(username: str) -> str:
    """What two usernames share when they look the same (see the module's docstring)."""
    return _unmarked(skeleton(_unmarked(identity(username))).casefold())
