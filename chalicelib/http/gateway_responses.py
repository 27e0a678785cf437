"""Answers that API Gateway itself gives (no function runs): one definition for the deployed template and
for the local emulation, so both answer alike."""

from __future__ import annotations

import json
from dataclasses import dataclass

from chalicelib.http.middleware import EXPOSED_HEADERS
from chalicelib.http.responses import WWW_AUTHENTICATE


@dataclass(frozen=True)
class GatewayResponse:
    """Status, body and headers of one API Gateway response type."""

    status: int | None  # None keeps the status the gateway chose
    detail: str
    headers: tuple[tuple[str, str], ...] = ()

    def body(self) -> str:
        """The DRF-style JSON body."""
        return json.dumps({"detail": self.detail}, separators=(",", ":"))


# API Gateway's own answers cannot depend on the request's Origin, so they allow any: they carry no data of
# anyone's, only the error, which a browser page must be able to read (and its Retry-After).
CORS_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Expose-Headers", EXPOSED_HEADERS),
    ("X-Content-Type-Options", "nosniff"),
)

GATEWAY_RESPONSES: dict[str, GatewayResponse] = {
    # No Authorization header (the authorizer is not even called): DRF's answer for that case. Tokens that are
    # present but unusable reach the app, which answers with simplejwt's precise body.
    "UNAUTHORIZED": GatewayResponse(
        401, "Authentication credentials were not provided.", (("WWW-Authenticate", WWW_AUTHENTICATE), *CORS_HEADERS)
    ),
    "ACCESS_DENIED": GatewayResponse(403, "You do not have permission to perform this action.", CORS_HEADERS),
    # API Gateway reports an unknown path as a missing token; clients expect DRF's 404.
    "MISSING_AUTHENTICATION_TOKEN": GatewayResponse(404, "Not found.", CORS_HEADERS),
    "AUTHORIZER_FAILURE": GatewayResponse(
        503, "Service temporarily unavailable, try again later.", (("Retry-After", "1"), *CORS_HEADERS)
    ),
    "REQUEST_TOO_LARGE": GatewayResponse(413, "Request body is too large.", CORS_HEADERS),
    "THROTTLED": GatewayResponse(429, "Request was throttled.", (("Retry-After", "1"), *CORS_HEADERS)),
    "DEFAULT_4XX": GatewayResponse(None, "Bad request.", CORS_HEADERS),
    "DEFAULT_5XX": GatewayResponse(
        503, "Service temporarily unavailable, try again later.", (("Retry-After", "1"), *CORS_HEADERS)
    ),
}
