"""The API under the web app's distribution: the public reads cached as long as the app's s-maxage says (never
more than a minute), keyed by query, Origin and Authorization; every other API path uncached with the viewer's
headers; errors kept no longer than their Cache-Control says (issue 25, item 5)."""

from __future__ import annotations

import pytest

from chalicelib.settings import EDGE_CACHE_MAX_SECONDS, load_settings
from deploy.edge import ALL_VIEWER_EXCEPT_HOST_HEADER, CACHING_DISABLED

STAGES = ("dev", "prod")
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]


def _distribution(template):
    return template["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"]


@pytest.mark.parametrize("stage", STAGES)
def test_the_api_is_an_origin_of_the_site_distribution_at_its_v1_stage_over_https(templates, stage):
    [api] = [o for o in _distribution(templates[stage])["Origins"] if o["Id"] == "api"]
    assert api == {
        "Id": "api",
        "DomainName": {"Fn::Sub": "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"},
        "OriginPath": "/v1",
        "CustomOriginConfig": {
            "OriginProtocolPolicy": "https-only",
            "OriginSSLProtocols": ["TLSv1.2"],
            "HTTPSPort": 443,
            "HTTPPort": 80,
        },
    }


@pytest.mark.parametrize("stage", STAGES)
def test_public_read_paths_are_cached_and_the_rest_of_the_api_passes_uncached(templates, stage):
    behaviours = _distribution(templates[stage])["CacheBehaviors"]
    cached = {"Ref": "ApiCachePolicy"}
    assert [(b["PathPattern"], b["CachePolicyId"]) for b in behaviours] == [
        ("/api/events*", cached),
        ("/api/categories*", cached),
        ("/api/creators/*", cached),
        ("/api/schema*", cached),
        ("/api/docs*", cached),
        ("/api/*", CACHING_DISABLED),
    ]
    for behaviour in behaviours:
        assert {k: v for k, v in behaviour.items() if k not in ("PathPattern", "CachePolicyId")} == {
            "TargetOriginId": "api",
            "ViewerProtocolPolicy": "https-only",
            "AllowedMethods": ALL_METHODS,
            "CachedMethods": ["GET", "HEAD"],
            "Compress": True,
            "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST_HEADER,
        }
    # The site's own files keep their behaviour: pages routed to index.html, from S3.
    assert _distribution(templates[stage])["DefaultCacheBehavior"]["TargetOriginId"] == "site"


@pytest.mark.parametrize("stage", STAGES)
def test_the_cache_policy_honours_the_origin_and_keys_on_query_origin_and_authorization(templates, stage):
    policy = templates[stage]["Resources"]["ApiCachePolicy"]
    assert policy["Type"] == "AWS::CloudFront::CachePolicy"
    config = policy["Properties"]["CachePolicyConfig"]
    assert config["Name"] == f"sessions-marketplace-{stage}-api-public-reads"
    assert (config["MinTTL"], config["DefaultTTL"], config["MaxTTL"]) == (0, 0, 60)
    assert config["ParametersInCacheKeyAndForwardedToOrigin"] == {
        "EnableAcceptEncodingGzip": True,
        "EnableAcceptEncodingBrotli": True,
        "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": ["Authorization", "Origin"]},
        "CookiesConfig": {"CookieBehavior": "none"},
        "QueryStringsConfig": {"QueryStringBehavior": "all"},
    }


def test_the_longest_setting_the_app_accepts_is_the_policys_maximum():
    # A longer s-maxage would be cut to MaxTTL without anyone noticing; the setting refuses it instead.
    assert EDGE_CACHE_MAX_SECONDS == 60
    assert load_settings({"EDGE_CACHE_SECONDS": str(EDGE_CACHE_MAX_SECONDS)}).edge_cache_seconds == 60


@pytest.mark.parametrize("stage", STAGES)
def test_errors_are_kept_only_as_long_as_their_cache_control_says(templates, stage):
    assert _distribution(templates[stage])["CustomErrorResponses"] == [
        {"ErrorCode": code, "ErrorCachingMinTTL": 0} for code in (400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504)
    ]


@pytest.mark.parametrize("stage", STAGES)
def test_api_gateway_stays_reachable_by_its_own_url(templates, stage):
    # The smoke checks, Stripe's webhook and e-mailed links call it there; the authorizer runs either way.
    outputs = templates[stage]["Outputs"]
    assert outputs["StripeWebhookUrl"]["Value"]["Fn::Sub"].startswith(
        "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/v1/"
    )
    assert "EndpointURL" in outputs
