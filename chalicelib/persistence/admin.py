"""Maintenance outside request paths: creating the tables a stage needs."""

from __future__ import annotations

from chalicelib.persistence.errors import translate_errors
from chalicelib.persistence.models import ALL_MODELS


def create_tables(wait: bool = True) -> list[str]:
    """Create every missing table (on demand billing); returns the names created. Safe to repeat."""
    created = []
    with translate_errors():
        for model in ALL_MODELS:
            if not model.exists():
                model.create_table(billing_mode="PAY_PER_REQUEST", wait=wait)
                created.append(model.Meta.table_name)
    return created
