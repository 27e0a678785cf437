"""End-to-end fixtures: the real local stack (the code behind `make run`) on free ports, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from devstack.stack import LocalStack
from tests.support.contract import check
from tests.support.stack import running_stack


@pytest.fixture(autouse=True)
def every_answer_matches_the_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """Check each HTTP answer an end-to-end test receives against the published OpenAPI document."""
    send = requests.Session.send

    def checked_send(self: requests.Session, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        response = send(self, request, **kwargs)
        check(str(request.method), str(request.url), response.status_code, dict(response.headers), response.content)
        return response

    monkeypatch.setattr(requests.Session, "send", checked_send)


# Package-scoped, not session: the stack (its sweep and stream poller poll all the time) stops once the worker is
# past tests/e2e, instead of taking CPU from every test after it.
@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # The sweep every 2 s instead of make run's 15: the tests that wait for it (reminders, a cancelled event's
    # settlement) wait less; it is safe at any moment, which tests/e2e/test_event_settlement.py checks too.
    with running_stack(tmp_path_factory.mktemp("local-data"), LOCAL_PAYMENT_SWEEP_SECONDS="2") as local:
        yield local


@pytest.fixture(scope="package")
def base(stack: LocalStack) -> str:
    return stack.url
