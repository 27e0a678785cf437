"""botocore clients for the AWS services pynamodb does not cover, with the app's timeouts and retries.

botocore rather than boto3: pynamodb already loads it, so a cold start pays for nothing new; and it is
imported on first use, by the routes that need such a client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.settings import Settings


def client(service: str, settings: Settings, **options: Any) -> Any:
    """A client of `service` in the stage's region whose calls give up as settings.aws says; `options` are more
    of botocore's Config (S3's signature version)."""
    import botocore.config
    import botocore.session

    timeouts = settings.aws
    config = botocore.config.Config(
        connect_timeout=timeouts.connect_seconds,
        read_timeout=timeouts.read_seconds,
        retries={"total_max_attempts": timeouts.max_attempts, "mode": "standard"},
        **options,
    )
    return botocore.session.get_session().create_client(service, region_name=settings.region, config=config)


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError; None for any other failure (a timeout, a refused
    connection: there was no answer)."""
    response = getattr(exc, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code if isinstance(code, str) else None
