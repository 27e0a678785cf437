"""The app logger's output in tests. It does not propagate (chalicelib/logs.py says why), so pytest's caplog
never sees it: a handler is attached for the test's duration instead."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from chalicelib.logs import JsonFormatter, get_logger


class Records(logging.Handler):
    """Every record, as logged."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class JsonLines(logging.Handler):
    """Every line, formatted as on stdout and read back."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def metrics(self) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["message"] == "metric"]


H = TypeVar("H", bound=logging.Handler)


@contextmanager
def attached(handler: H) -> Iterator[H]:
    """`handler` on the app's logger for the block."""
    logger = get_logger()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
