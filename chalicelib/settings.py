"""Typed settings read from the environment once per cold start and validated there."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from chalicelib.domain.limits import Rate, RateLimits

DEPLOYED_STAGES = frozenset({"dev", "prod"})
MIN_SIGNING_KEY_BYTES = 32
LAMBDA_TIMEOUT_SECONDS = 15  # .chalice/config.json's lambda_timeout
# The API's cache policy keeps nothing longer (deploy/edge.py's MaxTTL): a longer s-maxage would be cut to it.
EDGE_CACHE_MAX_SECONDS = 60
# Where the local stage keeps outgoing e-mail when MAIL_DIR is not set (git-ignored).
DEFAULT_MAIL_DIR = Path(__file__).resolve().parent.parent / ".local" / "mail"
RATE_RE = re.compile(r"\A([0-9]+)/([0-9]*)([smhd])[a-z]*\Z")
RATE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


class ConfigurationError(RuntimeError):
    """The environment does not describe a runnable app; raised at cold start, never per request."""


# NamedTuples, immutable and typed like frozen dataclasses, but about four times cheaper to create at a cold
# start (a dataclass compiles each of its methods with exec), and every function's cold start reads settings.
class TableNames(NamedTuple):
    """Physical DynamoDB table names of one stage."""

    users: str
    uniques: str
    events: str
    bookings: str
    idempotency: str
    tokens: str
    throttle: str
    audit: str
    uploads: str
    search: str
    seats: str
    queue: str


class Settings(NamedTuple):
    """Everything the app reads from its environment."""

    stage: str
    tables: TableNames
    region: str
    # Locally the key itself; in deployed stages the ARN of the Secrets Manager secret holding it.
    jwt_signing_key: bytes | None
    jwt_secret_arn: str | None
    # Locally, a key retired by a manual rotation: tokens it signed still verify (never signs).
    jwt_previous_signing_key: bytes | None
    # How long a key read from the secret is used before it is read again: a rotation reaches every warm
    # container within this time.
    signing_key_max_age_seconds: int
    access_token_seconds: int
    refresh_token_seconds: int
    bcrypt_rounds: int
    cors_allowed_origins: tuple[str, ...]
    max_body_bytes: int
    authorizer_ttl_seconds: int
    # scheme://host[:port] of absolute links (`next`) when the gateway's own domain name is not the one clients
    # use (the local stack); unset on API Gateway.
    public_api_origin: str | None
    aws: AwsTimeouts
    # simplejwt's ROTATE_REFRESH_TOKENS + BLACKLIST_AFTER_ROTATION: each refresh answers a new refresh token.
    rotate_refresh_tokens: bool
    rate_limits: RateLimits
    # The web app whose reset page password-reset e-mails link to.
    web_app_url: str
    # Sender of the stage's e-mail (an SES identity in deployed stages).
    mail_from: str
    # The local stage writes e-mail here, one .eml file per message, instead of sending it.
    mail_dir: Path
    # A reset request takes at least this long whether or not the address has an account.
    password_reset_min_seconds: float
    # The bucket browsers post uploads to, and where its published media are served from (`<base>/<key>`):
    # deployed, the CloudFront distribution in front of it; locally, the local AWS itself.
    uploads_bucket: str
    media_base_url: str | None
    payments: PaymentSettings
    # The app logger's level (chalicelib.logs).
    log_level: str = "INFO"
    # The SES configuration set every message is sent with: it publishes bounces and complaints to the
    # feedback function (deployed stages; unset, SES sends without one).
    mail_configuration_set: str | None = None
    # The API's base URL (with its stage's path) for links in e-mails that call it (one-click unsubscribe):
    # API_URL deployed, the public origin locally; None, e-mails link to the web app's profile only.
    api_url: str | None = None
    # How long a shared cache (CloudFront) may keep a public GET's answer to an anonymous caller: what it shows
    # (seats left above all) may lag by this much; 0 keeps shared caches from storing them at all.
    edge_cache_seconds: int = 5
    # The on-sale queue (services.queue): the most visitors it admits per second at any event (1,120: what the 32
    # seat counters of the largest event take, 35 a second each, domain.queue; a lower cap holds back an event of
    # more than cap / 35 counters, as when a downstream limit such as the account's Lambda concurrency calls for
    # it), and how long an admission lets its holder book.
    queue_max_admissions_per_second: float = 1120.0
    admission_seconds: int = 120


class PaymentSettings(NamedTuple):
    """Stripe and the payment rules of a stage. Locally the keys themselves (and the API base of devstack's
    stand-in); in deployed stages the ARN of the Secrets Manager secret holding both keys."""

    hold_seconds: int
    refund_cutoff_seconds: int
    secret_key: str | None
    webhook_secret: str | None
    secret_arn: str | None
    api_base: str | None
    timeout_seconds: float
    # How long keys read from the secret are used before they are read again.
    keys_max_age_seconds: int

    @property
    def configured(self) -> bool:
        """Whether paid events can be booked (and webhooks verified) in this stage."""
        return self.secret_arn is not None or (self.secret_key is not None and self.webhook_secret is not None)


class AwsTimeouts(NamedTuple):
    """How long one AWS call may take. A hung or unreachable dependency must become a 503 within a few
    seconds, well inside the Lambda's 15 s, rather than botocore's defaults (60 s reads, several retries)."""

    connect_seconds: float
    read_seconds: float
    max_attempts: int

    def worst_case_seconds(self) -> float:
        """The longest a single call can take before it is reported as failed."""
        return self.max_attempts * (self.connect_seconds + self.read_seconds)


Env = dict[str, str] | os._Environ[str]


def _number(env: Env, name: str, default: float, low: float, high: float, kind: type[int] | type[float]) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be {'an integer' if kind is int else 'a number'}, got {raw!r}") from exc
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _int(env: Env, name: str, default: int, low: int, high: int) -> int:
    return int(_number(env, name, default, low, high, int))


def _bool(env: Env, name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw not in ("true", "false", "1", "0"):
        raise ConfigurationError(f"{name} must be true or false, got {raw!r}")
    return raw in ("true", "1")


def parse_rate(text: str) -> Rate:
    """`<count>/<window>`: the window a number (1 when omitted) and a unit s, m, h or d (or a word starting
    with one, as DRF writes them): `5/15m`, `100/hour`."""
    match = RATE_RE.match(text.strip().lower())
    if not match or int(match.group(1)) < 1 or int(match.group(2) or 1) < 1:
        raise ValueError(text)
    return Rate(count=int(match.group(1)), seconds=int(match.group(2) or 1) * RATE_UNITS[match.group(3)])


def _rate(env: Env, name: str, default: str) -> Rate:
    raw = env.get(name) or default
    try:
        rate = parse_rate(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must look like 5/15m or 100/hour, got {raw!r}") from None
    if rate.seconds > 86_400:
        raise ConfigurationError(f"{name} must have a window of at most a day, got {raw!r}")
    return rate


def rate_limits_from_env(env: Env) -> RateLimits:
    """The throttles of the account endpoints."""
    return RateLimits(
        sign_in_client=_rate(env, "THROTTLE_SIGN_IN_CLIENT", "5/15m"),
        sign_in_username=_rate(env, "THROTTLE_SIGN_IN_USERNAME", "20/15m"),
        sign_in_paced=_rate(env, "THROTTLE_SIGN_IN_PACED", "1/30s"),
        sign_in_ip=_rate(env, "THROTTLE_SIGN_IN_IP", "100/15m"),
        sign_up_ip=_rate(env, "THROTTLE_SIGN_UP_IP", "20/h"),
        reset_ip=_rate(env, "THROTTLE_PASSWORD_RESET_IP", "10/h"),
        reset_email=_rate(env, "THROTTLE_PASSWORD_RESET_EMAIL", "5/h"),
    )


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def log_level_from_env(env: Env | None = None) -> str:
    """The app logger's level (LOG_LEVEL, INFO by default), read by chalicelib.logs on its first use."""
    raw = ((os.environ if env is None else env).get("LOG_LEVEL") or "INFO").strip().upper()
    if raw not in LOG_LEVELS:
        raise ConfigurationError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    return raw


def bcrypt_rounds_from_env(env: Env | None = None) -> int:
    """bcrypt's cost factor (tools that hash passwords need no other setting)."""
    return _int(os.environ if env is None else env, "BCRYPT_ROUNDS", 12, 4, 16)


def table_names_from_env(env: Env | None = None) -> TableNames:
    """Table names of the current stage; separate from `load_settings` so tools need no signing key."""
    env = os.environ if env is None else env
    stage = env.get("STAGE", "local")
    return TableNames(
        users=env.get("USERS_TABLE", f"sessions-{stage}-users"),
        uniques=env.get("UNIQUES_TABLE", f"sessions-{stage}-uniques"),
        events=env.get("EVENTS_TABLE", f"sessions-{stage}-events"),
        bookings=env.get("BOOKINGS_TABLE", f"sessions-{stage}-bookings"),
        idempotency=env.get("IDEMPOTENCY_TABLE", f"sessions-{stage}-idempotency"),
        tokens=env.get("TOKENS_TABLE", f"sessions-{stage}-tokens"),
        throttle=env.get("THROTTLE_TABLE", f"sessions-{stage}-throttle"),
        audit=env.get("AUDIT_TABLE", f"sessions-{stage}-audit"),
        uploads=env.get("UPLOADS_TABLE", f"sessions-{stage}-uploads"),
        search=env.get("SEARCH_TABLE", f"sessions-{stage}-search"),
        seats=env.get("SEATS_TABLE", f"sessions-{stage}-seats"),
        queue=env.get("QUEUE_TABLE", f"sessions-{stage}-queue"),
    )


def region_from_env(env: Env | None = None) -> str:
    """The AWS region, defaulting to us-east-1 so local tools work without AWS configuration."""
    env = os.environ if env is None else env
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"


def cors_origins_from_env(env: Env | None = None) -> tuple[str, ...]:
    """Origins allowed to call the API from a browser (`*` for any)."""
    env = os.environ if env is None else env
    return tuple(o.strip() for o in env.get("CORS_ALLOWED_ORIGINS", "").split(",") if o.strip())


def uploads_bucket_from_env(env: Env | None = None) -> str:
    """The upload bucket's name (deployed: CloudFormation's, in UPLOADS_BUCKET)."""
    env = os.environ if env is None else env
    return env.get("UPLOADS_BUCKET") or f"sessions-{env.get('STAGE', 'local')}-uploads"


def _media_base_url(env: Env, stage: str, bucket: str) -> str | None:
    base = (env.get("MEDIA_BASE_URL") or "").rstrip("/") or None
    if base is None and stage not in DEPLOYED_STAGES:
        # The local AWS answers plain GETs of its objects (path style); the bucket policy it is given makes the
        # published media readable by anyone, as CloudFront makes them deployed.
        endpoint = (env.get("AWS_ENDPOINT_URL_S3") or "").rstrip("/")
        base = f"{endpoint}/{bucket}" if endpoint else f"https://{bucket}.s3.amazonaws.com"
    if base is not None and not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~\-/]*)?", base):
        raise ConfigurationError(f"MEDIA_BASE_URL must be scheme://host[:port][/path], got {base!r}")
    return base


def load_settings(env: Env | None = None) -> Settings:
    """Read and validate every setting. The signing key may be absent here, so that tools which only read
    the routes (`chalice package`, the OpenAPI generator) import the app without secrets; `check_startup`
    refuses to serve without one.

    The secret's value is read on first use (security.keys), not here: no AWS call happens at import."""
    env = os.environ if env is None else env
    stage = env.get("STAGE", "local")
    key = env.get("JWT_SIGNING_KEY", "").encode() or None
    if key is not None and len(key) < MIN_SIGNING_KEY_BYTES:
        raise ConfigurationError(f"JWT_SIGNING_KEY must be at least {MIN_SIGNING_KEY_BYTES} bytes")
    previous = env.get("JWT_PREVIOUS_SIGNING_KEY", "").encode() or None
    if previous is not None and (key is None or len(previous) < MIN_SIGNING_KEY_BYTES or previous == key):
        raise ConfigurationError(
            f"JWT_PREVIOUS_SIGNING_KEY must be at least {MIN_SIGNING_KEY_BYTES} bytes, differ from JWT_SIGNING_KEY"
            " and come with it"
        )
    access_seconds = _int(env, "ACCESS_TOKEN_SECONDS", 300, 10, 86_400)
    ttl = _int(env, "AUTHORIZER_TTL_SECONDS", 300, 0, 3600)
    if ttl > access_seconds:
        # A cached policy outliving the token would keep a deactivated or demoted user's rights too long.
        raise ConfigurationError("AUTHORIZER_TTL_SECONDS must not exceed ACCESS_TOKEN_SECONDS")
    origin = (env.get("PUBLIC_API_ORIGIN") or "").rstrip("/") or None
    if origin is not None and not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", origin):
        raise ConfigurationError(f"PUBLIC_API_ORIGIN must be scheme://host[:port], got {origin!r}")
    web_app_url = (env.get("WEB_APP_URL") or "http://127.0.0.1:3000").rstrip("/")
    if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~\-/]*)?", web_app_url):
        raise ConfigurationError(f"WEB_APP_URL must be scheme://host[:port][/path], got {web_app_url!r}")
    mail_from = env.get("MAIL_FROM") or "no-reply@localhost"
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", mail_from):
        raise ConfigurationError(f"MAIL_FROM must be an e-mail address, got {mail_from!r}")
    configuration_set = (env.get("MAIL_CONFIGURATION_SET") or "").strip() or None
    if configuration_set is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", configuration_set):
        raise ConfigurationError(
            f"MAIL_CONFIGURATION_SET must be an SES configuration set name, got {configuration_set!r}"
        )
    return Settings(
        stage=stage,
        tables=table_names_from_env(env),
        region=region_from_env(env),
        jwt_signing_key=key,
        jwt_secret_arn=env.get("JWT_SECRET_ARN") or None,
        jwt_previous_signing_key=previous,
        signing_key_max_age_seconds=_int(env, "SIGNING_KEY_MAX_AGE_SECONDS", 300, 10, 3600),
        access_token_seconds=access_seconds,
        refresh_token_seconds=_int(env, "REFRESH_TOKEN_SECONDS", 86_400, 60, 90 * 86_400),
        bcrypt_rounds=bcrypt_rounds_from_env(env),
        cors_allowed_origins=cors_origins_from_env(env),
        max_body_bytes=_int(env, "MAX_BODY_BYTES", 64 * 1024, 1024, 6 * 1024 * 1024),
        authorizer_ttl_seconds=ttl,
        public_api_origin=origin,
        aws=AwsTimeouts(
            connect_seconds=_number(env, "AWS_CONNECT_TIMEOUT_SECONDS", 1.0, 0.1, 10.0, float),
            read_seconds=_number(env, "AWS_READ_TIMEOUT_SECONDS", 2.0, 0.1, 10.0, float),
            max_attempts=_int(env, "AWS_MAX_ATTEMPTS", 2, 1, 5),
        ),
        rotate_refresh_tokens=_bool(env, "ROTATE_REFRESH_TOKENS", True),
        rate_limits=rate_limits_from_env(env),
        web_app_url=web_app_url,
        mail_from=mail_from,
        mail_dir=Path(env.get("MAIL_DIR") or DEFAULT_MAIL_DIR),
        password_reset_min_seconds=_number(env, "PASSWORD_RESET_MIN_SECONDS", 1.0, 0.0, 5.0, float),
        payments=payment_settings_from_env(env),
        uploads_bucket=uploads_bucket_from_env(env),
        media_base_url=_media_base_url(env, stage, uploads_bucket_from_env(env)),
        log_level=log_level_from_env(env),
        mail_configuration_set=configuration_set,
        api_url=_api_url(env, origin),
        edge_cache_seconds=_int(env, "EDGE_CACHE_SECONDS", 5, 0, EDGE_CACHE_MAX_SECONDS),
        queue_max_admissions_per_second=_number(env, "QUEUE_MAX_ADMISSIONS_PER_SECOND", 1120.0, 1.0, 10_000.0, float),
        admission_seconds=_int(env, "ADMISSION_SECONDS", 120, 30, 900),
    )


def _api_url(env: Env, origin: str | None) -> str | None:
    url = (env.get("API_URL") or "").rstrip("/") or origin
    if url is not None and not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~\-/]*)?", url):
        raise ConfigurationError(f"API_URL must be scheme://host[:port][/path], got {url!r}")
    return url


def payment_settings_from_env(env: Env) -> PaymentSettings:
    """Stripe's keys (or the secret holding them), its API base, and the hold and refund rules."""
    api_base = (env.get("STRIPE_API_BASE") or "").rstrip("/") or None
    if api_base is not None and not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", api_base):
        raise ConfigurationError(f"STRIPE_API_BASE must be scheme://host[:port], got {api_base!r}")
    return PaymentSettings(
        hold_seconds=_int(env, "PAYMENT_HOLD_SECONDS", 900, 10, 86_400),
        refund_cutoff_seconds=_int(env, "REFUND_CUTOFF_HOURS", 24, 0, 24 * 365) * 3600,
        secret_key=env.get("STRIPE_SECRET_KEY") or None,
        webhook_secret=env.get("STRIPE_WEBHOOK_SECRET") or None,
        secret_arn=env.get("STRIPE_SECRET_ARN") or None,
        api_base=api_base,
        timeout_seconds=_number(env, "STRIPE_TIMEOUT_SECONDS", 3.0, 0.5, 10.0, float),
        keys_max_age_seconds=_int(env, "STRIPE_KEYS_MAX_AGE_SECONDS", 300, 10, 3600),
    )


# stripe-python tries a request twice (one network retry, with the same idempotency key) and sleeps at most
# half a second in between.
STRIPE_ATTEMPTS = 2
STRIPE_RETRY_SLEEP_SECONDS = 0.5


def payment_worst_case_seconds(settings: Settings) -> float:
    """The longest one call to the payment provider can take before it is reported as failed."""
    per_attempt = settings.aws.connect_seconds + settings.payments.timeout_seconds
    return STRIPE_ATTEMPTS * per_attempt + STRIPE_RETRY_SLEEP_SECONDS


def check_startup(settings: Settings) -> None:
    """Refuse to serve without a signing key: raised at a Lambda cold start and by the local server."""
    if settings.jwt_signing_key is None and settings.jwt_secret_arn is None:
        where = "JWT_SECRET_ARN (the stage's secret)" if settings.stage in DEPLOYED_STAGES else "JWT_SIGNING_KEY"
        raise ConfigurationError(f"no JWT signing key: set {where}")
    if settings.media_base_url is None:
        raise ConfigurationError("no MEDIA_BASE_URL: set it to the media distribution's https://<domain>")
    if settings.aws.worst_case_seconds() > LAMBDA_TIMEOUT_SECONDS / 2:
        raise ConfigurationError("AWS timeouts must let a failing call end well inside the Lambda timeout")
    # A paid booking waits for DynamoDB and then the provider: both failing must still end inside the Lambda.
    if settings.aws.worst_case_seconds() + payment_worst_case_seconds(settings) > LAMBDA_TIMEOUT_SECONDS:
        raise ConfigurationError("STRIPE_TIMEOUT_SECONDS must let a failing payment call end inside the Lambda timeout")


def running_in_lambda() -> bool:
    """True inside AWS Lambda, where a bad configuration must stop the cold start."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded on first use."""
    return load_settings()
