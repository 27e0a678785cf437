"""Each route loads only its tables' models, so binding a stage's tables must reach the models loaded after
`bind_tables` as well as those loaded before (checked in fresh processes, where import order is known)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BIND_BETWEEN_IMPORTS = """
import json, sys
from chalicelib.settings import AwsTimeouts, table_names_from_env
from chalicelib.persistence.models import bind_tables, connection_settings
from chalicelib.persistence.models.events import EventModel  # before the binding

before = connection_settings()
names = table_names_from_env({"STAGE": "bound"})
bind_tables(names, "eu-west-1", AwsTimeouts(connect_seconds=1.5, read_seconds=2.5, max_attempts=3))
from chalicelib.persistence.models.bookings import BookingModel  # after it
loaded = sorted(m for m in sys.modules if m.startswith("chalicelib.persistence.models."))
print(json.dumps({
    "before": before,
    "after": connection_settings(),
    "loaded": loaded,
    "meta": {
        model.__name__: [model.Meta.table_name, model.Meta.region, model.Meta.connect_timeout_seconds,
                         model.Meta.read_timeout_seconds, model.Meta.max_retry_attempts]
        for model in (EventModel, BookingModel)
    },
}))
"""


def test_models_loaded_before_and_after_bind_tables_point_at_the_stages_tables():
    result = subprocess.run(
        [sys.executable, "-c", BIND_BETWEEN_IMPORTS], cwd=ROOT, capture_output=True, text=True, check=True
    )
    answer = json.loads(result.stdout)
    assert answer["before"] == {}
    assert answer["after"] == {
        "region": "eu-west-1",
        "connect_timeout_seconds": 1.5,
        "read_timeout_seconds": 2.5,
        "max_retry_attempts": 2,
    }
    # Only the two tables asked for were loaded: the users table's nine indexes were never built.
    assert answer["loaded"] == ["chalicelib.persistence.models.bookings", "chalicelib.persistence.models.events"]
    assert answer["meta"] == {
        "EventModel": ["sessions-bound-events", "eu-west-1", 1.5, 2.5, 2],
        "BookingModel": ["sessions-bound-bookings", "eu-west-1", 1.5, 2.5, 2],
    }


def test_all_models_names_every_table_once_in_the_order_of_the_stages_table_names():
    from chalicelib.persistence.models import all_models
    from chalicelib.settings import TableNames

    models = all_models()
    assert [m.__name__ for m in models] == [
        "UserModel",
        "UniqueModel",
        "EventModel",
        "BookingModel",
        "IdempotencyModel",
        "TokenStateModel",
        "CounterModel",
        "AuditModel",
        "UploadModel",
        "SearchModel",
        "SeatModel",
        "QueueModel",
    ]
    assert len(models) == len(TableNames._fields)
