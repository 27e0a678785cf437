"""The deployed web app's CloudFormation: a private bucket only its distribution reads, HTTPS, the app's pages
routed to index.html, security headers naming this stage's API, the live release as the origin path, and an
optional domain of one's own held to TLS 1.2 (`make deploy`'s steps: test_publish.py)."""

from __future__ import annotations

import re

import pytest

from deploy.site import CONFIG_FILE, RELEASE_ID_PATTERN, site_files
from deploy.template import merge_template, stage_environment

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
    [origin] = [o for o in config["Origins"] if o["Id"] == "site"]  # beside the API's (test_edge.py)
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
def test_the_site_headers_let_the_pages_reach_only_this_stages_api_media_and_upload_bucket(templates, stage):
    resources = templates[stage]["Resources"]
    headers = resources["SiteHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    api = "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    bucket = "https://${UploadsBucket}.s3.amazonaws.com https://${UploadsBucket}.s3.${AWS::Region}.amazonaws.com"
    assert csp == (
        f"default-src 'none'; script-src 'self' {api}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: https://${MediaDistribution.DomainName}; font-src 'self' data:; "
        f"connect-src 'self' {api} {bucket}; worker-src blob:; manifest-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    # Images come from the distribution the API names them by.
    functions = [r for r in resources.values() if r.get("Type") == "AWS::Serverless::Function"]
    assert len(functions) >= 3 and all(
        f["Properties"]["Environment"]["Variables"]["MEDIA_BASE_URL"]
        == {"Fn::Sub": "https://${MediaDistribution.DomainName}"}
        for f in functions
    )
    # The API's own URL output is the same host, so the pages' calls are allowed.
    assert templates[stage]["Outputs"]["EndpointURL"]["Value"]["Fn::Sub"].startswith(api + "/")
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000


@pytest.mark.parametrize("stage", STAGES)
def test_the_site_is_named_per_stage_and_its_outputs_are_there_for_make_deploy(templates, stage):
    resources = templates[stage]["Resources"]
    assert resources["SiteRouting"]["Properties"]["Name"] == f"sessions-marketplace-{stage}-site-routing"
    outputs = templates[stage]["Outputs"]
    assert outputs["SiteBucketName"] == {"Value": {"Ref": "SiteBucket"}}
    assert outputs["SiteDistributionId"] == {"Value": {"Ref": "SiteDistribution"}}


@pytest.mark.parametrize("stage", STAGES)
def test_the_distribution_serves_the_release_the_stack_names_from_its_origin_path(templates, stage):
    template = templates[stage]
    origins = template["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"]["Origins"]
    [origin] = [o for o in origins if o["Id"] == "site"]
    assert origin["OriginPath"] == {
        "Fn::If": ["HasSiteRelease", {"Fn::Sub": "/releases/${SiteRelease}"}, {"Ref": "AWS::NoValue"}]
    }
    assert template["Conditions"]["HasSiteRelease"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "SiteRelease"}, ""]}]}
    parameter = template["Parameters"]["SiteRelease"]
    assert (parameter["Type"], parameter["Default"]) == ("String", "")
    assert parameter["AllowedPattern"] == "^([0-9]{8}T[0-9]{6}Z-[0-9a-f]{12})?$"


def test_a_release_id_is_all_the_origin_path_can_name():
    # CloudFront wants an origin path without a trailing slash; nothing may climb out of releases/.
    pattern = re.compile(merge_template("dev")["Parameters"]["SiteRelease"]["AllowedPattern"])
    assert pattern.pattern == f"^({RELEASE_ID_PATTERN})?$"
    assert pattern.fullmatch("20260104T093000Z-3f2a9c0b1d4e") and pattern.fullmatch("")
    for wrong in ("20260104T093000Z-3f2a9c0b1d4e/", "../media", "20260104T093000Z-3F2A9C0B1D4E", "latest"):
        assert not pattern.fullmatch(wrong), wrong


@pytest.mark.parametrize("stage", STAGES)
def test_a_domain_of_ones_own_brings_its_certificate_held_to_tls_1_2(templates, stage):
    template = templates[stage]
    config = template["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"]
    assert config["Aliases"] == {"Fn::If": ["HasSiteDomain", [{"Ref": "SiteDomainName"}], {"Ref": "AWS::NoValue"}]}
    assert config["ViewerCertificate"] == {
        "Fn::If": [
            "HasSiteDomain",
            {
                "AcmCertificateArn": {"Ref": "SiteCertificateArn"},
                "SslSupportMethod": "sni-only",
                "MinimumProtocolVersion": "TLSv1.2_2021",
            },
            {"CloudFrontDefaultCertificate": True},
        ]
    }
    assert template["Conditions"]["HasSiteDomain"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "SiteDomainName"}, ""]}]}
    assert {k: template["Parameters"][k]["Default"] for k in ("SiteDomainName", "SiteCertificateArn")} == {
        "SiteDomainName": "",
        "SiteCertificateArn": "",
    }
    # make deploy adds the site's origin to the API's CORS origins from this output: the domain when there is one.
    assert template["Outputs"]["SiteURL"] == {
        "Value": {
            "Fn::If": [
                "HasSiteDomain",
                {"Fn::Sub": "https://${SiteDomainName}/"},
                {"Fn::Sub": "https://${SiteDistribution.DomainName}/"},
            ]
        }
    }
    # cfn-lint would check the ARN against the parameter's default (""), used only in the branch without it.
    assert template["Resources"]["SiteDistribution"]["Metadata"]["cfn-lint"] == {"config": {"ignore_checks": ["W1030"]}}
    assert template["Outputs"]["SiteDistributionDomain"] == {
        "Value": {"Fn::GetAtt": ["SiteDistribution", "DomainName"]}
    }


def test_the_domain_and_certificate_parameters_take_only_a_host_name_and_an_acm_arn_in_us_east_1():
    parameters = merge_template("prod")["Parameters"]
    host = re.compile(parameters["SiteDomainName"]["AllowedPattern"])
    certificate = re.compile(parameters["SiteCertificateArn"]["AllowedPattern"])
    assert host.fullmatch("app.example.com") and host.fullmatch("") and host.fullmatch("a-b.c.example.org")
    for wrong in ("https://app.example.com", "app.example.com/", "App.Example.com", "localhost", "-a.example.com"):
        assert not host.fullmatch(wrong), wrong
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/0b9c1a2e-3d4f-4a5b-8c6d-7e8f9a0b1c2d"
    assert certificate.fullmatch(arn) and certificate.fullmatch("")
    assert not certificate.fullmatch(arn.replace("us-east-1", "eu-west-1"))  # CloudFront takes us-east-1 only
    assert not certificate.fullmatch(arn.replace("acm", "iam"))


@pytest.mark.parametrize("stage", STAGES)
def test_the_functions_link_to_the_web_app_the_deploy_names(templates, stage):
    template = templates[stage]
    assert template["Parameters"]["WebAppUrl"]["Default"] == stage_environment(stage)["WEB_APP_URL"]
    functions = [r for r in template["Resources"].values() if r.get("Type") == "AWS::Serverless::Function"]
    assert len(functions) >= 3
    assert all(f["Properties"]["Environment"]["Variables"]["WEB_APP_URL"] == {"Ref": "WebAppUrl"} for f in functions)


def test_the_sites_files_are_web_without_dotfiles_or_a_stray_config(tmp_path):
    (tmp_path / "app").mkdir()
    for name in ("index.html", "app/main.js", ".hidden", CONFIG_FILE):
        (tmp_path / name).write_text(name)
    assert [key for key, _ in site_files(tmp_path)] == ["app/main.js", "index.html"]
