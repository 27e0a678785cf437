"""Domain errors: plain exceptions raised by services and security, mapped to HTTP in one place (http/responses.py)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a client can cause or must be told about."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        self.detail = detail


class ValidationFailed(DomainError):
    """Input broke a rule; `errors` maps a field (or non_field_errors) to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("Invalid input.")
        self.errors = errors


class MalformedRequest(DomainError):
    """The request could not be read at all (bad JSON, bad cursor)."""


class NotAuthenticated(DomainError):
    """No usable credentials (401)."""

    def __init__(self, detail: str, code: str | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.extra = extra or {}


class PermissionDenied(DomainError):
    """Authenticated but not allowed (403); a subclass's `code` is machine-readable."""

    code: str | None = None

    def __init__(self, detail: str = "You do not have permission to perform this action.") -> None:
        super().__init__(detail)


class AdmissionRequired(PermissionDenied):
    """A booking at an event with an on-sale queue without a valid admission from it (403); the detail says
    what was wrong with the one sent, if any."""

    code = "admission_required"


class NotFound(DomainError):
    """Unknown object, or one the caller may not know exists (404); a subclass's `code` is machine-readable."""

    code: str | None = None

    def __init__(self, detail: str = "Not found.") -> None:
        super().__init__(detail)


class NotInQueue(NotFound):
    """The caller never joined the event's on-sale queue (404)."""

    code = "not_in_queue"

    def __init__(self) -> None:
        super().__init__("You are not in this event's queue.")


class Conflict(DomainError):
    """The request conflicts with the current state (409); `code` is machine-readable."""

    def __init__(self, detail: str, code: str) -> None:
        super().__init__(detail)
        self.code = code


class UnsupportedMediaType(DomainError):
    """The body's content type is not one the API reads (415)."""


class PayloadTooLarge(DomainError):
    """The body is larger than the API accepts (413)."""


class ServiceUnavailable(DomainError):
    """A dependency is throttling or down; the client should retry after `retry_after` seconds (None: a few
    seconds, at random, see http.responses.transient_retry_after)."""

    def __init__(
        self, detail: str = "Service temporarily unavailable, try again later.", retry_after: int | None = None
    ) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Busy(ServiceUnavailable):
    """Contention, not an outcome: other requests held the same items through every retry (transaction
    conflicts) or kept changing them (a stale read at each attempt). Nothing was written; the client sends the
    same request again after Retry-After (a few seconds, at random, so that the crowd does not return in step).
    409 stays for what the request cannot become by retrying (full, already booked, not bookable)."""

    def __init__(self, detail: str = "Busy with other requests for the same thing; try again in a moment.") -> None:
        super().__init__(detail)


class Throttled(DomainError):
    """Too many requests of this kind (429); the client may try again after `wait` seconds (DRF's wording)."""

    def __init__(self, wait: int) -> None:
        wait = max(1, wait)
        super().__init__(f"Request was throttled. Expected available in {wait} second{'' if wait == 1 else 's'}.")
        self.wait = wait
