"""Counts worth an alarm, as CloudWatch Embedded Metric Format: a structured log line that CloudWatch Logs turns
into a metric by itself (no client, no call, nothing at import). Locally the line is simply logged."""

from __future__ import annotations

import time
from typing import Any

NAMESPACE = "SessionsMarketplace"


def metric_fields(name: str, value: int = 1) -> dict[str, Any]:
    """The fields that make a JSON log line count `value` in the metric `name` (namespace SessionsMarketplace,
    dimension Stage: an alarm per stage)."""
    from chalicelib.settings import get_settings

    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {"Namespace": NAMESPACE, "Dimensions": [["Stage"]], "Metrics": [{"Name": name, "Unit": "Count"}]}
            ],
        },
        "Stage": get_settings().stage,
        name: value,
    }
