"""One structured logger for the whole app: JSON lines on stdout (CloudWatch on Lambda), each record's `fields`
at the top level of its line.

Configured on first use, with its own handler and level: on Lambda the root logger is WARNING and carries the
runtime's own handler, so a logger that relied on it would lose its INFO lines (the sweep's summary) and print
its fields as text. It does not propagate, so nothing is printed twice."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

LOGGER_NAME = "sessions_marketplace"


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: level, message, the record's `fields`, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"level": record.levelname, "message": record.getMessage()}
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def get_logger() -> logging.Logger:
    """The app's logger, writing JSON lines to stdout; configured once."""
    logger = logging.getLogger(LOGGER_NAME)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # Lambda's root handler would print each line a second time
    return logger
