"""Suppressed addresses (ports.Suppressions) as items of the uniques table, `SUPPRESSED#<address>`: no table of
their own, one GetItem per mail sent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pynamodb.exceptions import PutError

from chalicelib.domain.common import iso
from chalicelib.persistence.common import get_or_none
from chalicelib.persistence.errors import error_code, translate_errors
from chalicelib.persistence.models.uniques import UniqueModel

if TYPE_CHECKING:
    from datetime import datetime


def suppression_key(address: str) -> str:
    """The uniques item of a suppressed (normalized) address."""
    return f"SUPPRESSED#{address}"


class DynamoSuppressions:
    """ports.Suppressions on the uniques table."""

    def is_suppressed(self, address: str) -> bool:
        return get_or_none(UniqueModel, suppression_key(address)) is not None

    def suppress(self, address: str, reason: str, at: datetime) -> bool:
        item = UniqueModel(key=suppression_key(address), owner=reason, since=iso(at))
        with translate_errors():
            try:
                item.save(condition=UniqueModel.key.does_not_exist())
            except PutError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    return False  # a repeated notice (SNS delivers at least once, SES may report twice)
                raise
        return True
