"""Django's four default password validators, with Django's messages, applied at sign-up.

The common-password list is Django's own (BSD licence, compiled by Royce Williams), loaded on first use.
"""

from __future__ import annotations

import gzip
import re
from difflib import SequenceMatcher
from functools import lru_cache

MIN_LENGTH = 8
MAX_SIMILARITY = 0.7
_COMMON_LIST = "services/data/common-passwords.txt.gz"  # chalicelib.data_files


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    from chalicelib.data_files import data_file

    with gzip.open(data_file(_COMMON_LIST), "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle)


def _too_long_to_compare(password: str, value: str) -> bool:
    # Django's shortcut: a value this much shorter than the password cannot reach the similarity bound.
    return len(password) >= 10 * len(value) and len(value) < MAX_SIMILARITY / 2 * len(password)


def _similar_to(password: str, value: str) -> bool:
    password = password.lower()
    value = value.lower()
    for part in [*re.split(r"\W+", value), value]:
        if _too_long_to_compare(password, part):
            continue
        if SequenceMatcher(a=password, b=part).quick_ratio() >= MAX_SIMILARITY:
            return True
    return False


def password_problems(password: str, *, username: str, email: str) -> list[str]:
    """Every reason `password` is too weak, in Django's order and wording; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"This password is too short. It must contain at least {MIN_LENGTH} characters.")
    for value, name in ((username, "username"), (email, "email address")):
        if value and _similar_to(password, value):
            problems.append(f"The password is too similar to the {name}.")
            break
    if password.lower().strip() in _common_passwords():
        problems.append("This password is too common.")
    if password.isdigit():
        problems.append("This password is entirely numeric.")
    return problems
