"""The JWT signing keys: from the environment locally, from AWS Secrets Manager in deployed stages, where they
rotate (docs/accounts.md, "Signing keys and rotation"); and `Expiring`, the cache with a maximum age of every
value read from Secrets Manager (the signing keys, Stripe's keys).

The kid of a key read from the secret is derived from its VersionId (never from the key): AWSCURRENT signs,
AWSPREVIOUS still verifies. The current key is read at the first request; the previous one only when a token
needs it."""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from chalicelib.adapters.aws import client, error_code
from chalicelib.errors import ServiceUnavailable
from chalicelib.settings import MIN_SIGNING_KEY_BYTES, Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.security.tokens import KeyRing

CURRENT = "AWSCURRENT"
PREVIOUS = "AWSPREVIOUS"
PENDING = "AWSPENDING"
# A value whose re-read failed is used this much longer: Secrets Manager having a bad minute must not become an
# outage of every request. Past it (or with nothing read yet) the failure is the answer: a 503.
STALE_GRACE_SECONDS = 300
# After a failed read, the next one waits this long: a store that is down would otherwise cost every request
# the full wait of a failing call.
RETRY_SECONDS = 5
# A token naming a kid neither key has: the keys are read again (the secret may have rotated since they were
# read), at most this often, so that forged kids cannot turn every request into calls to Secrets Manager.
RENEW_SECONDS = 30

T = TypeVar("T")


class Expiring(Generic[T]):
    """A value read from outside, read again once it is `max_age` seconds old. A re-read failing with
    `unavailable` keeps the value for STALE_GRACE_SECONDS more, trying again at most every RETRY_SECONDS; past
    that, or with nothing read yet, that failure is raised."""

    def __init__(
        self,
        read: Callable[[], T],
        max_age: float,
        unavailable: type[Exception],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._unavailable = unavailable
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._held: tuple[T, float] | None = None  # the value and when it was read
        self._failed_at: float | None = None
        self._failure: Exception | None = None

    def get(self) -> T:
        """The value, read again when it is older than the maximum age."""
        return self._at_most(self._max_age)

    def renew(self, min_age: float) -> T:
        """The value read again, unless it was read less than `min_age` seconds ago."""
        return self._at_most(min(min_age, self._max_age))

    def _at_most(self, age: float) -> T:
        with self._lock:
            now = self._clock()
            held = self._held
            if held is not None and now - held[1] < age:
                return held[0]
            usable = held is not None and now - held[1] < self._max_age + STALE_GRACE_SECONDS
            if self._failed_at is None or now - self._failed_at >= RETRY_SECONDS:
                try:
                    value = self._read()
                except self._unavailable as exc:
                    self._failed_at, self._failure = now, exc
                    if usable:
                        _log_stale(exc)
                else:
                    self._held, self._failed_at, self._failure = (value, now), None, None
                    return value
            if held is not None and usable:
                return held[0]
            assert self._failure is not None
            raise self._failure.with_traceback(None)


def _log_stale(failure: Exception) -> None:
    from chalicelib.logs import get_logger

    cause = failure.__cause__
    fields = {"error": type(failure).__name__, "cause": type(cause).__name__ if cause else None}
    get_logger().warning("a secret could not be read again: its last value is used", extra={"fields": fields})


class StoredKey:
    """A signing key read from the secret, with the kid of its version."""

    __slots__ = ("kid", "secret")  # a plain class: each NamedTuple costs a cold start a quarter millisecond

    def __init__(self, kid: str, secret: bytes) -> None:
        self.kid = kid
        self.secret = secret


def _named(kid: str, key: StoredKey | None) -> StoredKey | None:
    return key if key is not None and key.kid == kid else None


def version_kid(version_id: str) -> str:
    """The kid of the key held by a version of the secret: a short hash of the version's id."""
    return hashlib.sha256(version_id.encode()).hexdigest()[:16]


class SecretsManagerKeys:
    """The KeyRing of a deployed stage: the secret's AWSCURRENT and AWSPREVIOUS versions, each read on first
    use and again once older than SIGNING_KEY_MAX_AGE_SECONDS."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        if settings.jwt_secret_arn is None:
            raise ServiceUnavailable("The signing key is not configured.")  # check_startup refuses this earlier
        self._settings = settings
        self._arn = settings.jwt_secret_arn
        self._client: Any = None
        max_age = settings.signing_key_max_age_seconds
        self._current: Expiring[StoredKey] = Expiring(self._read_current, max_age, ServiceUnavailable, clock)
        self._previous: Expiring[StoredKey | None] = Expiring(self._read_previous, max_age, ServiceUnavailable, clock)

    def current(self) -> StoredKey:
        return self._current.get()

    def previous(self) -> StoredKey | None:
        return self._previous.get()

    def find(self, kid: str) -> StoredKey | None:
        return (
            _named(kid, self.current())
            or _named(kid, self.previous())
            # Signed after a rotation this container has not read yet (another one has): read again, at most
            # every RENEW_SECONDS.
            or _named(kid, self._current.renew(RENEW_SECONDS))
            or _named(kid, self._previous.renew(RENEW_SECONDS))
        )

    def _read(self, stage: str) -> dict[str, Any]:
        if self._client is None:
            self._client = client("secretsmanager", self._settings)
        answer: dict[str, Any] = self._client.get_secret_value(SecretId=self._arn, VersionStage=stage)
        return answer

    def _read_current(self) -> StoredKey:
        try:
            answer = self._read(CURRENT)
            key = StoredKey(version_kid(answer["VersionId"]), answer["SecretString"].encode())
        except Exception as exc:
            raise ServiceUnavailable() from exc
        if len(key.secret) < MIN_SIGNING_KEY_BYTES:
            raise ServiceUnavailable("The signing key is not configured correctly.")
        return key

    def _read_previous(self) -> StoredKey | None:
        try:
            answer = self._read(PREVIOUS)
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None  # never rotated
            raise ServiceUnavailable() from exc
        secret = str(answer.get("SecretString") or "").encode()
        # A short previous key verifies nothing (never a weak key): its tokens are refused like any unknown kid.
        return StoredKey(version_kid(answer["VersionId"]), secret) if len(secret) >= MIN_SIGNING_KEY_BYTES else None


_lock = threading.Lock()
_rings: dict[tuple[str | None, int], SecretsManagerKeys] = {}


def _stored(settings: Settings) -> SecretsManagerKeys:
    """The process's keys of the stage's secret, kept from request to request."""
    with _lock:
        place = (settings.jwt_secret_arn, settings.signing_key_max_age_seconds)
        if place not in _rings:
            _rings[place] = SecretsManagerKeys(settings)
        return _rings[place]


def signing_keys(settings: Settings) -> KeyRing:
    """The stage's keys; a missing or short secret is an outage (503), never a weak key."""
    if settings.jwt_signing_key is not None:
        return _static(settings.jwt_signing_key, settings.jwt_previous_signing_key)
    return _stored(settings)


@functools.lru_cache(maxsize=4)
def _static(current: bytes, previous: bytes | None) -> KeyRing:
    # Kept, as the secret's keys are: each request would otherwise derive both kids again.
    from chalicelib.security.tokens import StaticKeys

    return StaticKeys(current, previous)


def signing_key(settings: Settings) -> bytes:
    """The current key's value (the pagination cursors' key)."""
    if settings.jwt_signing_key is not None:
        return settings.jwt_signing_key
    return _stored(settings).current().secret


class SecretVersions:
    """The versions of a secret and their staging labels, as the rotation's steps (services.key_rotation) use
    them; made only by the rotation function."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Any = None

    def _sm(self) -> Any:
        if self._client is None:
            self._client = client("secretsmanager", self._settings)
        return self._client

    def stages(self, secret_id: str) -> tuple[bool, dict[str, list[str]]]:
        """Whether rotation is enabled, and each version's staging labels."""
        answer = self._sm().describe_secret(SecretId=secret_id)
        return bool(answer.get("RotationEnabled")), dict(answer.get("VersionIdsToStages") or {})

    def value(self, secret_id: str, stage: str, version_id: str | None = None) -> str | None:
        """The string held by the version with `stage` (and `version_id` when given); None when it holds none."""
        options = {"VersionId": version_id} if version_id is not None else {}
        try:
            answer = self._sm().get_secret_value(SecretId=secret_id, VersionStage=stage, **options)
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise
        text = answer.get("SecretString")
        return text if isinstance(text, str) else None

    def put_pending(self, secret_id: str, version_id: str, value: str) -> None:
        """Store `value` as version `version_id`, labelled AWSPENDING."""
        self._sm().put_secret_value(
            SecretId=secret_id, ClientRequestToken=version_id, SecretString=value, VersionStages=[PENDING]
        )

    def promote(self, secret_id: str, version_id: str, current_version_id: str | None) -> None:
        """Move AWSCURRENT to `version_id` (Secrets Manager moves AWSPREVIOUS to the version it leaves), then take
        AWSPENDING off it: the rotation is over."""
        sm = self._sm()
        moved = {"RemoveFromVersionId": current_version_id} if current_version_id is not None else {}
        sm.update_secret_version_stage(SecretId=secret_id, VersionStage=CURRENT, MoveToVersionId=version_id, **moved)
        sm.update_secret_version_stage(SecretId=secret_id, VersionStage=PENDING, RemoveFromVersionId=version_id)
