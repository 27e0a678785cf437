"""Retry-After of transient failures: spread over a few seconds, so that a crowd refused together does not come
back together; absent where retrying the same request cannot help."""

from chalicelib.errors import Conflict, ServiceUnavailable
from chalicelib.http.responses import error_response


def test_transient_failures_ask_for_one_to_three_seconds_at_random():
    waits = {error_response(ServiceUnavailable()).headers["Retry-After"] for _ in range(300)}
    conflicts = {error_response(Conflict("busy", "conflict")).headers["Retry-After"] for _ in range(300)}
    assert waits == conflicts == {"1", "2", "3"}


def test_a_wait_the_error_names_is_kept_and_a_real_outcome_has_none():
    assert error_response(ServiceUnavailable(retry_after=30)).headers["Retry-After"] == "30"
    full = error_response(Conflict("This event is full.", "event_full"))
    assert (full.status_code, "Retry-After" in full.headers) == (409, False)
