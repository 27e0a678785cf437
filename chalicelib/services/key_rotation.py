"""Rotating the JWT signing key: the four steps Secrets Manager asks of a rotation function
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html), each one
harmless when run again, as Secrets Manager may.

The API verifies tokens with AWSCURRENT and AWSPREVIOUS (adapters.secrets), so finishing a rotation invalidates
only what the key before the previous one signed: docs/accounts.md, "Signing keys and rotation"."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.logs import get_logger
from chalicelib.settings import MIN_SIGNING_KEY_BYTES

if TYPE_CHECKING:
    from collections.abc import Callable

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
# 64 characters of [A-Za-z0-9_-], as long as the key the stack creates. Made here rather than with
# GetRandomPassword, whose permission cannot be limited to one secret.
NEW_KEY_BYTES = 48


class RotationRefused(Exception):
    """The event does not describe a rotation of this secret that can go on; Secrets Manager reports it."""


class SecretVersions(Protocol):
    """A secret's versions and staging labels (adapters.secrets.SecretVersions)."""

    def stages(self, secret_id: str) -> tuple[bool, dict[str, list[str]]]: ...

    def value(self, secret_id: str, stage: str, version_id: str | None = None) -> str | None: ...

    def put_pending(self, secret_id: str, version_id: str, value: str) -> None: ...

    def promote(self, secret_id: str, version_id: str, current_version_id: str | None) -> None: ...


def new_key() -> str:
    """A fresh signing key."""
    return secrets.token_urlsafe(NEW_KEY_BYTES)


def rotate(store: SecretVersions, event: dict[str, Any], make_key: Callable[[], str] = new_key) -> None:
    """Run the step `event` asks for on the version its ClientRequestToken names."""
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    enabled, versions = store.stages(arn)
    if not enabled:
        raise RotationRefused("rotation is not enabled on the secret")
    if token not in versions:
        raise RotationRefused("the version to rotate to has no staging label")
    if CURRENT in versions[token]:
        return  # finished already: every step is then done
    if PENDING not in versions[token]:
        raise RotationRefused("the version to rotate to is not AWSPENDING")
    if step == "createSecret":
        _create(store, arn, token, make_key)
    elif step == "setSecret":
        pass  # nothing outside the secret holds the key: the API reads it from there
    elif step == "testSecret":
        _test(store, arn, token)
    elif step == "finishSecret":
        _finish(store, arn, token, versions)
    else:
        raise RotationRefused(f"unknown step {step!r}")
    get_logger().info("signing key rotation step done", extra={"fields": {"step": step, "version": token}})


def _create(store: SecretVersions, arn: str, token: str, make_key: Callable[[], str]) -> None:
    if store.value(arn, CURRENT) is None:
        raise RotationRefused("the secret has no current value")
    if store.value(arn, PENDING, token) is None:
        store.put_pending(arn, token, make_key())


def _test(store: SecretVersions, arn: str, token: str) -> None:
    pending = store.value(arn, PENDING, token)
    if pending is None or len(pending.encode()) < MIN_SIGNING_KEY_BYTES:
        raise RotationRefused(f"the pending key is missing or shorter than {MIN_SIGNING_KEY_BYTES} bytes")


def _finish(store: SecretVersions, arn: str, token: str, versions: dict[str, list[str]]) -> None:
    current = next((version for version, stages in versions.items() if CURRENT in stages), None)
    store.promote(arn, token, current)
