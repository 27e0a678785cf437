"""What guards a deployed stage: one IAM role per function, reserved concurrency, an optional WAF web ACL and
custom domain for the API, and the checkov findings the stack accepts, each with its reason."""

from __future__ import annotations

from typing import Any

LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
# X-Ray has no resource-level permissions: its two write actions are granted on "*" (AWS's managed
# AWSXrayWriteOnlyAccess policy does the same); they are the only "*" resource of the functions' roles.
XRAY_ACTIONS = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
# Off by default (zero idle cost); API Gateway's stage throttle applies either way.
WAF_RATE_WINDOW_SECONDS = 300


def statement(sid: str, actions: list[str], resources: list[Any]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def function_role(logical_id: str, statements: list[dict[str, Any]]) -> dict[str, Any]:
    """The role of one function: its own log group, X-Ray, and `statements` (what its code calls)."""
    base = [
        statement(
            "Logs", ["logs:CreateLogStream", "logs:PutLogEvents"], [{"Fn::GetAtt": [f"{logical_id}LogGroup", "Arn"]}]
        ),
        statement("Tracing", XRAY_ACTIONS, ["*"]),
    ]
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": LAMBDA_TRUST,
            "Policies": [
                {
                    "PolicyName": logical_id,
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": base + statements},
                }
            ],
        },
    }


def concurrency(logical_id: str, default: int, why: str) -> dict[str, Any]:
    """A parameter for the function's reserved concurrency (0: none reserved) and the property it sets."""
    parameter = f"{logical_id}ReservedConcurrency"
    condition = f"{logical_id}IsReserved"
    return {
        "Parameters": {
            parameter: {
                "Type": "Number",
                "Default": default,
                "MinValue": 0,
                "Description": f"Concurrent runs reserved for the function, 0 for none reserved: {why}",
            }
        },
        "Conditions": {condition: {"Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, "0"]}]}},
        "Property": {"Fn::If": [condition, {"Ref": parameter}, {"Ref": "AWS::NoValue"}]},
    }


def protection_parameters() -> dict[str, Any]:
    return {
        "ApiWafRateLimit": {
            "Type": "Number",
            "Default": 0,
            "MinValue": 0,
            "Description": "0: no web ACL. Otherwise the requests one IP may make in 5 minutes before the API's "
            "WAF web ACL blocks it (at least 100; about 5 USD a month plus 0.60 USD per million requests).",
        },
        "ApiDomainName": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "^([a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+)?$",
            "Description": "A custom domain for the API (api.example.com), empty for none; needs ApiCertificateArn. "
            "Point its DNS at the ApiDomainTarget output.",
        },
        "ApiCertificateArn": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "^(arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+)?$",
            "Description": "The ACM certificate of ApiDomainName, in the stack's region (a regional endpoint).",
        },
    }


def protection_conditions() -> dict[str, Any]:
    return {
        "HasApiWaf": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ApiWafRateLimit"}, "0"]}]},
        "HasApiDomain": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ApiDomainName"}, ""]}]},
    }


def protection_rules() -> dict[str, Any]:
    """Parameter combinations refused before anything is created."""
    return {
        "ApiDomainNeedsCertificate": {
            "RuleCondition": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ApiDomainName"}, ""]}]},
            "Assertions": [
                {
                    "Assert": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ApiCertificateArn"}, ""]}]},
                    "AssertDescription": "ApiDomainName needs ApiCertificateArn (a regional ACM certificate)",
                }
            ],
        }
    }


def _visibility(name: str) -> dict[str, Any]:
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": name}


def protection_resources(stage: str) -> dict[str, Any]:
    """The web ACL (when ApiWafRateLimit > 0) and the custom domain (when ApiDomainName is set)."""
    stage_arn = "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestAPI}/stages/${RestAPI.Stage}"
    return {
        "ApiWebAcl": {
            "Type": "AWS::WAFv2::WebACL",
            "Condition": "HasApiWaf",
            "Properties": {
                "Name": f"sessions-marketplace-{stage}-api",
                "Scope": "REGIONAL",
                "DefaultAction": {"Allow": {}},
                "VisibilityConfig": _visibility(f"sessions-marketplace-{stage}-api"),
                "Rules": [
                    {
                        "Name": "per-ip-rate",
                        "Priority": 0,
                        "Action": {"Block": {}},
                        "Statement": {
                            "RateBasedStatement": {
                                "Limit": {"Ref": "ApiWafRateLimit"},
                                "AggregateKeyType": "IP",
                                "EvaluationWindowSec": WAF_RATE_WINDOW_SECONDS,
                            }
                        },
                        "VisibilityConfig": _visibility(f"sessions-marketplace-{stage}-per-ip-rate"),
                    }
                ],
            },
        },
        "ApiWebAclAssociation": {
            "Type": "AWS::WAFv2::WebACLAssociation",
            "Condition": "HasApiWaf",
            "Properties": {"ResourceArn": {"Fn::Sub": stage_arn}, "WebACLArn": {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}},
        },
        "ApiDomain": {
            "Type": "AWS::ApiGateway::DomainName",
            "Condition": "HasApiDomain",
            "Properties": {
                "DomainName": {"Ref": "ApiDomainName"},
                "RegionalCertificateArn": {"Ref": "ApiCertificateArn"},
                "EndpointConfiguration": {"Types": ["REGIONAL"]},
                "SecurityPolicy": "TLS_1_2",
            },
        },
        "ApiBasePathMapping": {
            "Type": "AWS::ApiGateway::BasePathMapping",
            "Condition": "HasApiDomain",
            "Properties": {
                "DomainName": {"Ref": "ApiDomain"},
                "RestApiId": {"Ref": "RestAPI"},
                "Stage": {"Ref": "RestAPI.Stage"},
            },
        },
    }


def protection_outputs() -> dict[str, Any]:
    return {
        "ApiDomainTarget": {
            "Condition": "HasApiDomain",
            "Description": "Where ApiDomainName's DNS record points (CNAME, or an alias with ApiDomainZoneId)",
            "Value": {"Fn::GetAtt": ["ApiDomain", "RegionalDomainName"]},
        },
        "ApiDomainZoneId": {
            "Condition": "HasApiDomain",
            "Value": {"Fn::GetAtt": ["ApiDomain", "RegionalHostedZoneId"]},
        },
    }


# checkov findings the stack accepts: check id -> (resource types it is accepted on, why). Applied to every
# resource of those types in the packaged template (ours, chalice's and deploy/site.py's alike); any other
# finding fails tests/deploy/test_checkov.py.
CHECKOV_ACCEPTED: dict[str, tuple[tuple[str, ...], str]] = {
    "CKV_AWS_116": (
        ("AWS::Serverless::Function",),
        "No dead-letter queue: the API and the authorizer are invoked synchronously (the caller sees the error); "
        "the sweep runs again every minute; SNS and Secrets Manager retry their own deliveries",
    ),
    "CKV_AWS_117": (
        ("AWS::Serverless::Function",),
        "Not in a VPC: the functions reach only AWS APIs and Stripe over TLS, and a VPC would add NAT cost",
    ),
    "CKV_AWS_173": (
        ("AWS::Serverless::Function",),
        "The environment holds names and ARNs only (secrets are in Secrets Manager); AWS-owned key encryption",
    ),
    "CKV_AWS_120": (
        ("AWS::Serverless::Api",),
        "No API cache: answers are per user and must be fresh; a cache costs from about 14 USD a month",
    ),
    "CKV_AWS_119": (
        ("AWS::DynamoDB::Table",),
        "Encrypted at rest with the AWS-owned key; a customer-managed key costs 1 USD a month plus requests and "
        "nothing here needs its own key policy",
    ),
    "CKV_AWS_149": (
        ("AWS::SecretsManager::Secret",),
        "Encrypted with the account's aws/secretsmanager key; only the functions' roles may read each secret",
    ),
    "CKV_AWS_158": (
        ("AWS::Logs::LogGroup",),
        "Encrypted by CloudWatch Logs with its own keys; the logs hold no secrets (tokens are never logged)",
    ),
    "CKV_AWS_18": (
        ("AWS::S3::Bucket",),
        "No server access logs: the buckets are private, read only through CloudFront, and written by presigned "
        "POSTs the API logs; access logs would need a bucket of their own",
    ),
    "CKV_AWS_21": (
        ("AWS::S3::Bucket",),
        "No versioning: the site is a copy of web/ uploaded by every deploy; uploads expire in a day and media "
        "keys are immutable (a replaced image gets a new key)",
    ),
    "CKV_AWS_68": (
        ("AWS::CloudFront::Distribution",),
        "No WAF on the static distributions (static files, cached at the edge); the API's web ACL is optional",
    ),
    "CKV_AWS_86": (
        ("AWS::CloudFront::Distribution",),
        "No CloudFront access logs: static, public files; standard logs would need a bucket with ACLs enabled",
    ),
    "CKV_AWS_174": (
        ("AWS::CloudFront::Distribution",),
        "The distributions use CloudFront's default certificate (*.cloudfront.net), whose TLS policy CloudFront "
        "sets; a custom domain with TLSv1.2_2021 needs a certificate of yours",
    ),
    "CKV_AWS_26": (
        ("AWS::SNS::Topic",),
        "Unencrypted topics: they carry alarm states and bounce notices, and neither CloudWatch nor SES can "
        "publish to a topic under the AWS-managed SNS key (a customer key costs 1 USD a month)",
    ),
}


def apply_checkov_skips(template: dict[str, Any]) -> None:
    """Record each accepted finding, with its reason, in the Metadata of the resources it is accepted on."""
    for resource in template["Resources"].values():
        skips = [
            {"id": check, "comment": why}
            for check, (types, why) in CHECKOV_ACCEPTED.items()
            if resource.get("Type") in types
        ]
        if skips:
            resource.setdefault("Metadata", {}).setdefault("checkov", {})["skip"] = skips
