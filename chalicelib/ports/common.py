"""Failures any repository may report: a write that lost a race, a unique value already taken."""

from __future__ import annotations


class UniqueViolation(Exception):
    """A username or email is already taken; `fields` names which."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


class StaleWrite(Exception):
    """The item changed since it was read (optimistic concurrency), or no longer exists."""
