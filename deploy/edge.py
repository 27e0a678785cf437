"""The API at the edge: `/api/*` of the web app's CloudFront distribution goes to API Gateway's v1 stage.

Why the site's distribution rather than one of its own: the pages then call their own origin (config.js names
the site), so a signed-in call needs no CORS preflight, and one domain, certificate and price class serve both.
API Gateway's own URL stays what it was (smoke checks, Stripe's webhook, e-mailed links, other clients).

What is cached is the app's decision, not this file's: a public GET to an anonymous caller answers
`Cache-Control: public, max-age=0, s-maxage=<EDGE_CACHE_SECONDS>` (chalicelib/http/middleware.py); an answer to
a token is `private, no-store`; failures are `no-store`. The public reads' paths go through a cache policy that
honours that (nothing kept without it, never longer than MAX_TTL) with the query string, Origin and
Authorization in the key; every other API path goes through uncached, with every viewer header but Host."""

from __future__ import annotations

from typing import Any

from chalicelib.settings import EDGE_CACHE_MAX_SECONDS

# AWS's managed policies: nothing cached; every viewer header (but Host: API Gateway answers to its own name),
# cookie and query string forwarded. CachingDisabled with AllViewer* is how CloudFront forwards Authorization
# without putting it in a cache key.
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
API_ORIGIN_ID = "api"
API_STAGE_PATH = "/v1"  # .chalice/config.json's api_gateway_stage
API_DOMAIN = "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
# The paths of the public reads (the events list and search, an event and its .ics, categories, organizer
# pages, the API's document and reference page): writes to the same paths pass too, uncached (CloudFront
# caches only GET and HEAD, and the app marks its answers to a token private).
CACHED_PATHS = ("/api/events*", "/api/categories*", "/api/creators/*", "/api/schema*", "/api/docs*")
API_PATHS = "/api/*"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
MIN_TTL = 0  # an answer without s-maxage or max-age (every private one) is not kept
DEFAULT_TTL = 0
MAX_TTL = EDGE_CACHE_MAX_SECONDS
# The error codes CloudFront caches, 10 s by default whatever the origin says: 0 makes a 4xx last as long as its
# s-maxage (as long as a success) and a 5xx (no-store) not at all. The setting is the whole distribution's: the
# site's files lose nothing by it (a missing file's 404 is asked of S3 again).
CACHED_ERROR_CODES = (400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504)


def edge_resources(stage: str) -> dict[str, Any]:
    """The cache policy of the public reads."""
    return {
        "ApiCachePolicy": {
            "Type": "AWS::CloudFront::CachePolicy",
            "Properties": {
                "CachePolicyConfig": {
                    "Name": f"sessions-marketplace-{stage}-api-public-reads",
                    "Comment": "The API's public reads: kept as long as the answer's s-maxage says, at most "
                    f"{MAX_TTL} s; keyed by the query, Origin and Authorization",
                    "MinTTL": MIN_TTL,
                    "DefaultTTL": DEFAULT_TTL,
                    "MaxTTL": MAX_TTL,
                    "ParametersInCacheKeyAndForwardedToOrigin": {
                        "EnableAcceptEncodingGzip": True,
                        "EnableAcceptEncodingBrotli": True,
                        # Authorization: an answer to one token is never served for another, nor for none
                        # (CloudFront forwards it on a cached behaviour only when it is in the key). Origin: the
                        # CORS headers of the answer depend on it.
                        "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": ["Authorization", "Origin"]},
                        "CookiesConfig": {"CookieBehavior": "none"},
                        "QueryStringsConfig": {"QueryStringBehavior": "all"},
                    },
                }
            },
        }
    }


def api_origin() -> dict[str, Any]:
    """API Gateway's regional endpoint, its v1 stage as the origin path: /api/events/ reaches /v1/api/events/."""
    return {
        "Id": API_ORIGIN_ID,
        "DomainName": {"Fn::Sub": API_DOMAIN},
        "OriginPath": API_STAGE_PATH,
        "CustomOriginConfig": {
            "OriginProtocolPolicy": "https-only",
            "OriginSSLProtocols": ["TLSv1.2"],
            "HTTPSPort": 443,
            "HTTPPort": 80,
        },
    }


def _behaviour(path: str, cache_policy: Any) -> dict[str, Any]:
    return {
        "PathPattern": path,
        "TargetOriginId": API_ORIGIN_ID,
        # A redirect would turn a POST into a GET: plain HTTP is refused instead.
        "ViewerProtocolPolicy": "https-only",
        "AllowedMethods": ALL_METHODS,
        "CachedMethods": ["GET", "HEAD"],
        "Compress": True,
        "CachePolicyId": cache_policy,
        "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST_HEADER,
    }


def api_behaviours() -> list[dict[str, Any]]:
    """The public reads' paths through the cache policy, then the rest of /api/* uncached (first match wins)."""
    cached = [_behaviour(path, {"Ref": "ApiCachePolicy"}) for path in CACHED_PATHS]
    return [*cached, _behaviour(API_PATHS, CACHING_DISABLED)]


def error_caching() -> list[dict[str, Any]]:
    """How long an error is kept: what its Cache-Control says, no minimum."""
    return [{"ErrorCode": code, "ErrorCachingMinTTL": 0} for code in CACHED_ERROR_CODES]
