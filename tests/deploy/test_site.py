"""The deployed web app: its CloudFormation (a private bucket only its distribution reads, HTTPS, the app's
pages routed to index.html, security headers naming this stage's API) and `make deploy`'s part that needs no
AWS: the origins it allows, the order of its steps, and the files it uploads (to moto's S3)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from deploy.publish import StackState, deploy, origins_with, upload_site
from deploy.site import CACHE_CONTROL, CONFIG_FILE, site_files

STAGES = ("dev", "prod")


@pytest.mark.parametrize("stage", STAGES)
def test_the_site_bucket_is_private_and_read_only_by_its_distribution(templates, stage):
    resources = templates[stage]["Resources"]
    bucket = resources["SiteBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    statements = resources["SiteBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allow = next(s for s in statements if s["Effect"] == "Allow")
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == ["s3:GetObject", "s3:ListBucket"]
    assert "${SiteDistribution}" in allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    deny = next(s for s in statements if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    access = resources["SiteOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (access["OriginAccessControlOriginType"], access["SigningBehavior"]) == ("s3", "always")


@pytest.mark.parametrize("stage", STAGES)
def test_the_distribution_serves_the_app_over_https_with_its_pages_routed(templates, stage):
    resources = templates[stage]["Resources"]
    config = resources["SiteDistribution"]["Properties"]["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    [origin] = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["SiteBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["SiteOriginAccessControl", "Id"]}
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "SiteHeaders"}
    [function] = behaviour["FunctionAssociations"]
    assert function["EventType"] == "viewer-request"
    assert function["FunctionARN"] == {"Fn::GetAtt": ["SiteRouting", "FunctionMetadata.FunctionARN"]}
    assert resources["SiteRouting"]["Properties"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"


@pytest.mark.parametrize("stage", STAGES)
def test_the_site_headers_let_the_pages_reach_only_this_stages_api(templates, stage):
    resources = templates[stage]["Resources"]
    headers = resources["SiteHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    api = "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    assert f"connect-src 'self' {api};" in csp and f"script-src 'self' {api};" in csp
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    # The API's own URL output is the same host, so the pages' calls are allowed.
    assert templates[stage]["Outputs"]["EndpointURL"]["Value"]["Fn::Sub"].startswith(api + "/")
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000


@pytest.mark.parametrize("stage", STAGES)
def test_the_site_is_named_per_stage_and_its_outputs_are_there_for_make_deploy(templates, stage):
    resources = templates[stage]["Resources"]
    assert resources["SiteRouting"]["Properties"]["Name"] == f"sessions-marketplace-{stage}-site-routing"
    outputs = templates[stage]["Outputs"]
    assert outputs["SiteURL"] == {"Value": {"Fn::Sub": "https://${SiteDistribution.DomainName}/"}}
    assert outputs["SiteBucketName"] == {"Value": {"Ref": "SiteBucket"}}


def test_the_site_origin_is_added_once_to_the_allowed_origins():
    site = "https://d111.cloudfront.net/"
    assert origins_with("", site) == "https://d111.cloudfront.net"
    assert origins_with("http://localhost:3000", site) == "http://localhost:3000,https://d111.cloudfront.net"
    assert origins_with("https://d111.cloudfront.net,https://a.example", site) == (
        "https://d111.cloudfront.net,https://a.example"
    )
    assert origins_with(" https://a.example , ", None) == "https://a.example"


class FakeCloudFormation:
    """describe_stacks answers from a list of states (None: no stack yet), one per call."""

    def __init__(self, *states: StackState | None) -> None:
        self.states = list(states)

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        state = self.states.pop(0)
        if state is None:
            raise RuntimeError(f"An error occurred (ValidationError): Stack with id {StackName} does not exist")
        return {
            "Stacks": [
                {
                    "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in state.outputs.items()],
                    "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in state.parameters.items()],
                }
            ]
        }


DEPLOYED = {
    "SiteURL": "https://d111.cloudfront.net/",
    "SiteBucketName": "site-bucket",
    "EndpointURL": "https://abc.execute-api.eu-west-1.amazonaws.com/v1/",
}


def _parameter(command: list[str]) -> str:
    return command[command.index("--parameter-overrides") + 1]


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="site-bucket")
        yield client


def test_a_first_deploy_adds_the_new_sites_origin_in_a_second_pass_then_uploads(s3):
    runs: list[list[str]] = []
    cloudformation = FakeCloudFormation(None, StackState(outputs=DEPLOYED))
    site = deploy("dev", "stack", "packaged.json", None, cloudformation=cloudformation, s3=s3, run=runs.append)
    assert site == "https://d111.cloudfront.net/"
    assert [_parameter(c) for c in runs] == [
        "CorsAllowedOrigins=http://localhost:3000",  # the stage's default (.chalice/config.json)
        "CorsAllowedOrigins=http://localhost:3000,https://d111.cloudfront.net",
    ]
    assert runs[0][:3] == ["aws", "cloudformation", "deploy"] and "--no-fail-on-empty-changeset" in runs[0]
    config = s3.get_object(Bucket="site-bucket", Key=CONFIG_FILE)
    assert json.loads(config["Body"].read().decode().split("=", 1)[1].rstrip(";\n")) == {
        "apiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/v1/"
    }


def test_a_later_deploy_keeps_the_stacks_origins_and_the_site_in_one_pass(s3):
    runs: list[list[str]] = []
    current = StackState(outputs=DEPLOYED, parameters={"CorsAllowedOrigins": "https://app.example"})
    deploy(
        "dev",
        "stack",
        "packaged.json",
        None,
        cloudformation=FakeCloudFormation(current, current),
        s3=s3,
        run=runs.append,
    )
    assert [_parameter(c) for c in runs] == ["CorsAllowedOrigins=https://app.example,https://d111.cloudfront.net"]
    # Origins given on the command line replace the stack's, and the site is still added.
    runs.clear()
    deploy(
        "prod",
        "stack",
        "packaged.json",
        "https://b.example",
        cloudformation=FakeCloudFormation(current, current),
        s3=s3,
        run=runs.append,
    )
    assert [_parameter(c) for c in runs] == ["CorsAllowedOrigins=https://b.example,https://d111.cloudfront.net"]


def test_the_upload_holds_every_file_of_the_site_with_its_type_and_nothing_stale(s3):
    s3.put_object(Bucket="site-bucket", Key="app/removed-since.js", Body=b"old")
    keys = upload_site(s3, "site-bucket", api_url="https://abc.example/v1")
    listed = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="site-bucket")["Contents"])
    assert listed == sorted(keys) == sorted([key for key, _ in site_files()] + [CONFIG_FILE])
    assert keys[-1] == CONFIG_FILE
    for key, path in site_files():
        stored = s3.get_object(Bucket="site-bucket", Key=key)
        assert stored["Body"].read() == path.read_bytes()
        assert stored["CacheControl"] == CACHE_CONTROL
    assert s3.head_object(Bucket="site-bucket", Key="index.html")["ContentType"] == "text/html; charset=utf-8"
    assert s3.head_object(Bucket="site-bucket", Key="app/main.js")["ContentType"] == "text/javascript; charset=utf-8"
    config = s3.get_object(Bucket="site-bucket", Key=CONFIG_FILE)["Body"].read().decode()
    assert config == 'window.SESSIONS_CONFIG = {"apiUrl": "https://abc.example/v1/"};\n'
