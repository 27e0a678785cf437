"""The packaged template's uploads and media: the distribution in front of the private bucket, its origin access
control, the bucket policy that lets only it read, and only media/; the role's S3 rights; the lifecycle rule; and
the local bucket set up as the deployed one."""

from __future__ import annotations

import json

import pytest

from devstack.bucket import cors_rules, lifecycle_rules

STAGES = ("dev", "prod")
MEDIA_URL = {"Fn::Sub": "https://${MediaDistribution.DomainName}"}
SOURCE_ARN = {"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${MediaDistribution}"}


@pytest.mark.parametrize("stage", STAGES)
def test_media_are_served_by_a_distribution_reading_the_private_bucket_with_an_origin_access_control(templates, stage):
    resources = templates[stage]["Resources"]
    config = resources["MediaDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin == {
        "Id": "uploads-bucket",
        "DomainName": {"Fn::GetAtt": ["UploadsBucket", "RegionalDomainName"]},
        "S3OriginConfig": {"OriginAccessIdentity": ""},  # no legacy identity: the access control signs instead
        "OriginAccessControlId": {"Fn::GetAtt": ["MediaOriginAccessControl", "Id"]},
    }
    access = resources["MediaOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (access["OriginAccessControlOriginType"], access["SigningBehavior"], access["SigningProtocol"]) == (
        "s3",
        "always",
        "sigv4",
    )
    behaviour = config["DefaultCacheBehavior"]
    assert config["Enabled"] is True and "CacheBehaviors" not in config
    assert (behaviour["TargetOriginId"], behaviour["ViewerProtocolPolicy"]) == ("uploads-bucket", "https-only")
    assert behaviour["AllowedMethods"] == behaviour["CachedMethods"] == ["GET", "HEAD"]
    assert behaviour["CachePolicyId"] == {"Ref": "MediaCachePolicy"}
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "MediaResponseHeadersPolicy"}
    # The bucket itself stays private: only the distribution reads it.
    bucket = resources["UploadsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert "WebsiteConfiguration" not in bucket


@pytest.mark.parametrize("stage", STAGES)
def test_edges_cache_by_path_alone_for_a_day_and_answer_images_that_are_never_sniffed(templates, stage):
    resources = templates[stage]["Resources"]
    cache = resources["MediaCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert (cache["MinTTL"], cache["DefaultTTL"], cache["MaxTTL"]) == (0, 86_400, 86_400)
    key = cache["ParametersInCacheKeyAndForwardedToOrigin"]
    assert (key["CookiesConfig"], key["HeadersConfig"], key["QueryStringsConfig"]) == (
        {"CookieBehavior": "none"},
        {"HeaderBehavior": "none"},
        {"QueryStringBehavior": "none"},
    )
    security = resources["MediaResponseHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"
    ]
    assert security["ContentTypeOptions"] == {"Override": True}
    assert security["ContentSecurityPolicy"]["ContentSecurityPolicy"] == "default-src 'none'; sandbox"


@pytest.mark.parametrize("stage", STAGES)
def test_the_bucket_policy_lets_only_this_distribution_read_and_only_media(templates, stage):
    policy = templates[stage]["Resources"]["UploadsBucketPolicy"]["Properties"]["PolicyDocument"]
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert sorted(statements) == ["DenyPlainHttp", "MediaDistributionReadsMedia"]
    assert statements["DenyPlainHttp"]["Effect"] == "Deny"
    assert statements["MediaDistributionReadsMedia"] == {
        "Sid": "MediaDistributionReadsMedia",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": {"Fn::Sub": "${UploadsBucket.Arn}/media/*"},
        "Condition": {"StringEquals": {"AWS:SourceArn": SOURCE_ARN}},
    }
    assert '"Principal": "*"' not in json.dumps([s for s in policy["Statement"] if s["Effect"] == "Allow"])


@pytest.mark.parametrize("stage", STAGES)
def test_the_role_puts_and_reads_uploads_and_puts_and_deletes_media_and_nothing_else_in_s3(templates, stage):
    roles = [r for r in templates[stage]["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    granted: dict[str, set[str]] = {}
    for policy in (p for role in roles for p in role["Properties"].get("Policies", [])):
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = [a for a in statement["Action"] if a.startswith("s3:")]
            for resource in statement["Resource"] if actions else []:
                assert statement["Effect"] == "Allow"
                granted.setdefault(json.dumps(resource), set()).update(actions)
    assert granted == {
        json.dumps({"Fn::Sub": "${UploadsBucket.Arn}/uploads/*"}): {"s3:GetObject", "s3:PutObject"},
        json.dumps({"Fn::Sub": "${UploadsBucket.Arn}/media/*"}): {"s3:DeleteObject", "s3:PutObject"},
    }


@pytest.mark.parametrize("stage", STAGES)
def test_uploads_expire_after_a_day_and_published_media_never(templates, stage):
    rules = templates[stage]["Resources"]["UploadsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rules == [
        {
            "Id": "expire-uploads",
            "Status": "Enabled",
            "Prefix": "uploads/",
            "ExpirationInDays": 1,
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }
    ]


@pytest.mark.parametrize("stage", STAGES)
def test_the_functions_answer_media_urls_of_the_distribution_which_the_stack_outputs(templates, stage):
    template = templates[stage]
    for function in ("APIHandler", "JwtAuthorizer"):
        variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert variables["MEDIA_BASE_URL"] == MEDIA_URL
        assert variables["UPLOADS_BUCKET"] == {"Ref": "UploadsBucket"}
    assert template["Outputs"]["MediaBaseUrl"] == {"Value": MEDIA_URL}


def test_the_local_bucket_is_set_up_as_the_deployed_one(templates):
    deployed = templates["dev"]["Resources"]["UploadsBucket"]["Properties"]
    (cors,) = deployed["CorsConfiguration"]["Fn::If"][1]["CorsRules"]
    (local_cors,) = cors_rules(["http://localhost:*"])
    assert (local_cors["AllowedMethods"], local_cors["AllowedHeaders"], local_cors["MaxAgeSeconds"]) == (
        cors["AllowedMethods"],
        cors["AllowedHeaders"],
        cors["MaxAge"],
    )
    assert cors["AllowedMethods"] == ["POST"]
    (rule,) = deployed["LifecycleConfiguration"]["Rules"]
    (local_rule,) = lifecycle_rules()
    assert (local_rule["Filter"]["Prefix"], local_rule["Expiration"]["Days"], local_rule["Status"]) == (
        rule["Prefix"],
        rule["ExpirationInDays"],
        rule["Status"],
    )
