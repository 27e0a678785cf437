"""Typed settings read from the environment once per cold start and validated there."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

DEPLOYED_STAGES = frozenset({"dev", "prod"})
MIN_SIGNING_KEY_BYTES = 32


class ConfigurationError(RuntimeError):
    """The environment does not describe a runnable app; raised at cold start, never per request."""


@dataclass(frozen=True)
class TableNames:
    """Physical DynamoDB table names of one stage."""

    users: str
    uniques: str
    events: str
    bookings: str
    idempotency: str


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment."""

    stage: str
    tables: TableNames
    region: str
    # Locally the key itself; in deployed stages the ARN of the Secrets Manager secret holding it.
    jwt_signing_key: bytes | None
    jwt_secret_arn: str | None
    access_token_seconds: int
    refresh_token_seconds: int
    bcrypt_rounds: int
    cors_allowed_origins: tuple[str, ...]
    max_body_bytes: int
    authorizer_ttl_seconds: int


def _int(env: dict[str, str] | os._Environ[str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from exc
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be between {low} and {high}, got {value}")
    return value


def table_names_from_env(env: dict[str, str] | os._Environ[str] | None = None) -> TableNames:
    """Table names of the current stage; separate from `load_settings` so tools need no signing key."""
    env = os.environ if env is None else env
    stage = env.get("STAGE", "local")
    return TableNames(
        users=env.get("USERS_TABLE", f"sessions-{stage}-users"),
        uniques=env.get("UNIQUES_TABLE", f"sessions-{stage}-uniques"),
        events=env.get("EVENTS_TABLE", f"sessions-{stage}-events"),
        bookings=env.get("BOOKINGS_TABLE", f"sessions-{stage}-bookings"),
        idempotency=env.get("IDEMPOTENCY_TABLE", f"sessions-{stage}-idempotency"),
    )


def region_from_env(env: dict[str, str] | os._Environ[str] | None = None) -> str:
    """The AWS region, defaulting to us-east-1 so local tools work without AWS configuration."""
    env = os.environ if env is None else env
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"


def cors_origins_from_env(env: dict[str, str] | os._Environ[str] | None = None) -> tuple[str, ...]:
    """Origins allowed to call the API from a browser (`*` for any)."""
    env = os.environ if env is None else env
    return tuple(o.strip() for o in env.get("CORS_ALLOWED_ORIGINS", "").split(",") if o.strip())


def running_in_lambda() -> bool:
    """True inside AWS Lambda, where a bad configuration must stop the cold start."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def load_settings(env: dict[str, str] | os._Environ[str] | None = None) -> Settings:
    """Build and validate settings; a missing or short signing key stops the app from starting.

    The secret's value is read on first use (security.keys), not here: no AWS call happens at import."""
    env = os.environ if env is None else env
    stage = env.get("STAGE", "local")
    key = env.get("JWT_SIGNING_KEY", "").encode() or None
    arn = env.get("JWT_SECRET_ARN") or None
    if key is None and arn is None:
        where = "JWT_SECRET_ARN (the stage's secret)" if stage in DEPLOYED_STAGES else "JWT_SIGNING_KEY"
        raise ConfigurationError(f"no JWT signing key: set {where}")
    if key is not None and len(key) < MIN_SIGNING_KEY_BYTES:
        raise ConfigurationError(f"JWT_SIGNING_KEY must be at least {MIN_SIGNING_KEY_BYTES} bytes")
    return Settings(
        stage=stage,
        tables=table_names_from_env(env),
        region=region_from_env(env),
        jwt_signing_key=key,
        jwt_secret_arn=arn,
        access_token_seconds=_int(env, "ACCESS_TOKEN_SECONDS", 300, 10, 86_400),
        refresh_token_seconds=_int(env, "REFRESH_TOKEN_SECONDS", 86_400, 60, 90 * 86_400),
        bcrypt_rounds=_int(env, "BCRYPT_ROUNDS", 12, 4, 16),
        cors_allowed_origins=cors_origins_from_env(env),
        max_body_bytes=_int(env, "MAX_BODY_BYTES", 64 * 1024, 1024, 6 * 1024 * 1024),
        authorizer_ttl_seconds=_int(env, "AUTHORIZER_TTL_SECONDS", 300, 0, 3600),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded on first use (cold start)."""
    return load_settings()
