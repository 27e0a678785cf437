"""The stage as operated: alarms to one topic, the dashboard, access logs, tracing, the live alias and its
canary, reserved concurrency, the optional web ACL and custom domain, SES feedback, the signing key's rotation,
and exactly what each function's role grants."""

from __future__ import annotations

import copy
import json
import os
import re

import pytest

from deploy.observability import BUSINESS_METRICS, alarm_resources
from deploy.template import finish_template, stage_environment

STAGES = ("dev", "prod")
LOGS = ["logs:CreateLogStream", "logs:PutLogEvents"]
XRAY = {
    "Sid": "Tracing",
    "Effect": "Allow",
    "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
    "Resource": ["*"],
}
TABLE_ACTIONS = [
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
]

# The tables whose throttles the stage's alarms sum, by their variables' prefix (deploy/template.TABLES order).
SUMMED_TABLES = ("USERS", "UNIQUES", "EVENTS", "BOOKINGS", "IDEMPOTENCY", "TOKENS", "THROTTLE", "AUDIT", "UPLOADS")


def _functions(template) -> list[str]:
    return [k for k, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"]


def _policy(template, function: str) -> list[dict]:
    [policy] = template["Resources"][f"{function}Role"]["Properties"]["Policies"]
    return policy["PolicyDocument"]["Statement"]


def _logs(function: str) -> dict:
    return {
        "Sid": "Logs",
        "Effect": "Allow",
        "Action": LOGS,
        "Resource": [{"Fn::GetAtt": [f"{function}LogGroup", "Arn"]}],
    }


def _with_indexes(*tables: str) -> list[dict]:
    arns = []
    for table in tables:
        arns.append({"Fn::GetAtt": [table, "Arn"]})
        if table != "UniquesTable" and table != "IdempotencyTable":
            arns.append({"Fn::Sub": f"${{{table}.Arn}}/index/*"})
    return arns


@pytest.mark.parametrize("stage", STAGES)
def test_the_authorizer_reads_its_users_item_and_the_signing_key_and_nothing_else(templates, stage):
    assert _policy(templates[stage], "JwtAuthorizer") == [
        _logs("JwtAuthorizer"),
        XRAY,
        {
            "Sid": "Users",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem"],
            "Resource": [{"Fn::GetAtt": ["UsersTable", "Arn"]}],
        },
        {
            "Sid": "SigningKey",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": [{"Ref": "JwtSigningSecret"}],
        },
    ]


@pytest.mark.parametrize("stage", STAGES)
def test_the_sweep_reaches_the_tables_of_its_repositories_and_the_stripe_secret_only(templates, stage):
    assert _policy(templates[stage], "SweepPayments") == [
        _logs("SweepPayments"),
        XRAY,
        {
            "Sid": "Tables",
            "Effect": "Allow",
            "Action": TABLE_ACTIONS,
            "Resource": [
                *_with_indexes("BookingsTable", "EventsTable"),
                {"Fn::GetAtt": ["SeatsTable", "Arn"]},
                *_with_indexes("UniquesTable", "IdempotencyTable"),
            ],
        },
        {
            "Sid": "Stripe",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": [{"Ref": "StripeSecret"}],
        },
    ]


@pytest.mark.parametrize("stage", STAGES)
def test_only_the_api_reaches_the_search_index_writing_its_items_and_querying_its_local_indexes(templates, stage):
    template = templates[stage]
    statements = {s["Sid"]: s for s in _policy(template, "APIHandler")}
    assert statements["SearchWrites"] == {
        "Sid": "SearchWrites",
        "Effect": "Allow",
        # What a TransactWriteItems of the event's does to its items; never a read of the table itself.
        "Action": [
            "dynamodb:ConditionCheckItem",
            "dynamodb:DeleteItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        ],
        "Resource": [{"Fn::GetAtt": ["SearchTable", "Arn"]}],
    }
    assert statements["SearchQueries"] == {
        "Sid": "SearchQueries",
        "Effect": "Allow",
        "Action": ["dynamodb:Query"],
        "Resource": [{"Fn::Sub": "${SearchTable.Arn}/index/*"}],
    }
    assert "SearchTable" not in json.dumps(statements["Tables"])
    for function in _functions(template):
        mentions = [s["Sid"] for s in _policy(template, function) if "SearchTable" in json.dumps(s)]
        assert mentions == (["SearchWrites", "SearchQueries"] if function == "APIHandler" else []), function


@pytest.mark.parametrize("stage", STAGES)
def test_mail_feedback_and_rotation_roles_when_the_app_has_those_functions(templates, stage):
    template = templates[stage]
    functions = _functions(template)
    if "MailFeedback" in functions:
        assert _policy(template, "MailFeedback") == [
            _logs("MailFeedback"),
            XRAY,
            {
                "Sid": "Suppressions",
                "Effect": "Allow",
                "Action": ["dynamodb:PutItem"],
                "Resource": [{"Fn::GetAtt": ["UniquesTable", "Arn"]}],
            },
        ]
    if "RotateSigningKey" in functions:
        assert _policy(template, "RotateSigningKey") == [
            _logs("RotateSigningKey"),
            XRAY,
            {
                "Sid": "Rotation",
                "Effect": "Allow",
                "Action": [
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:UpdateSecretVersionStage",
                ],
                "Resource": [{"Ref": "JwtSigningSecret"}],
            },
        ]
    assert {"APIHandler", "JwtAuthorizer", "SweepPayments"} <= set(functions)


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_is_traced_runs_a_live_alias_and_has_a_reserved_concurrency_parameter(templates, stage):
    template = templates[stage]
    defaults = {
        "APIHandler": 0,
        "JwtAuthorizer": 10,
        "SweepPayments": 1,
        "MailFeedback": 2,
        "RotateSigningKey": 1,
        "Notifier": 4,
        "SendDigests": 1,
    }
    for function in _functions(template):
        properties = template["Resources"][function]["Properties"]
        assert properties["Tracing"] == "Active"
        assert properties["AutoPublishAlias"] == "live"
        parameter = f"{function}ReservedConcurrency"
        assert template["Parameters"][parameter]["Default"] == defaults[function]
        assert template["Parameters"][parameter]["MinValue"] == 0
        # 0 leaves the function in the account's shared pool: a reservation of 0 would stop it.
        assert properties["ReservedConcurrentExecutions"] == {
            "Fn::If": [f"{function}IsReserved", {"Ref": parameter}, {"Ref": "AWS::NoValue"}]
        }
        assert template["Conditions"][f"{function}IsReserved"] == {
            "Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, "0"]}]
        }
        assert properties["Environment"]["Variables"]["MAIL_CONFIGURATION_SET"] == {"Ref": "MailConfigurationSet"}
    assert template["Resources"]["RestAPI"]["Properties"]["TracingEnabled"] is True


@pytest.mark.parametrize("stage", STAGES)
def test_api_gateway_invokes_the_live_aliases_never_latest(templates, stage):
    resources = templates[stage]["Resources"]
    body = json.dumps(resources["RestAPI"]["Properties"]["DefinitionBody"])
    uris = set(re.findall(r"functions/([^\"]*)/invocations", body))
    prefix = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
    assert uris == {f"{prefix}${{APIHandler}}:live", f"{prefix}${{JwtAuthorizer}}:live"}
    for permission in ("APIHandlerInvokePermission", "JwtAuthorizerInvokePermission"):
        function = permission.removesuffix("InvokePermission")
        assert resources[permission]["Properties"]["FunctionName"] == {"Ref": f"{function}.Alias"}


@pytest.mark.parametrize("stage", STAGES)
def test_the_api_function_deploys_through_codedeploy_rolled_back_by_the_api_alarms(templates, stage):
    preference = templates[stage]["Resources"]["APIHandler"]["Properties"]["DeploymentPreference"]
    assert preference == {
        "Type": {"dev": "AllAtOnce", "prod": "Canary10Percent5Minutes"}[stage],
        "Alarms": [{"Ref": "ApiErrorRateAlarm"}, {"Ref": "ApiLatencyAlarm"}, {"Ref": "APIHandlerErrorsAlarm"}],
    }
    for function in set(_functions(templates[stage])) - {"APIHandler"}:
        assert "DeploymentPreference" not in templates[stage]["Resources"][function]["Properties"]


def test_sam_wires_the_schedule_the_api_and_the_rotation_to_the_aliases(packaged, tmp_path):
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    class Policies:
        def load(self):
            return {"AWSCodeDeployRoleForLambda": "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"}

    text = (packaged["prod"] / "sam.json").read_text()
    template = json.loads(re.sub(r'"\./([a-z-]+\.zip)"', r'"s3://artifacts/\1"', text))
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    output = Translator(Policies(), Parser()).translate(template, {"AWS::Region": "us-east-1"})
    resources = output["Resources"]
    rules = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
    assert sorted((r["ScheduleExpression"], r["Targets"][0]["Arn"]["Ref"]) for r in rules) == [
        ("rate(1 hour)", "SendDigestsAliaslive"),
        ("rate(1 minute)", "SweepPaymentsAliaslive"),
    ]
    assert resources["APIHandlerInvokePermission"]["Properties"]["FunctionName"] == {"Ref": "APIHandlerAliaslive"}
    [group] = [r for r in resources.values() if r["Type"] == "AWS::CodeDeploy::DeploymentGroup"]
    assert group["Properties"]["DeploymentConfigName"]["Fn::Sub"][1] == {"ConfigName": "Canary10Percent5Minutes"}
    assert [a["Name"] for a in group["Properties"]["AlarmConfiguration"]["Alarms"]] == [
        {"Ref": "ApiErrorRateAlarm"},
        {"Ref": "ApiLatencyAlarm"},
        {"Ref": "APIHandlerErrorsAlarm"},
    ]
    [stage] = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert stage["Properties"]["TracingEnabled"] is True
    assert stage["Properties"]["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    if "JwtSigningSecretRotation" in resources:
        rotation = resources["JwtSigningSecretRotation"]["Properties"]
        assert rotation["RotationLambdaARN"] == {"Ref": "RotateSigningKeyAliaslive"}


EXPECTED_ALARMS = {
    "NotifierDeadLettersAlarm",
    "ApiErrorRateAlarm",
    "ApiLatencyAlarm",
    "ApiThrottledAlarm",
    "DynamoReadThrottlesAlarm",
    "DynamoWriteThrottlesAlarm",
    "DynamoSearchReadThrottlesAlarm",
    "DynamoSearchWriteThrottlesAlarm",
    "DynamoQueueReadThrottlesAlarm",
    "DynamoQueueWriteThrottlesAlarm",
    "DynamoSeatsReadThrottlesAlarm",
    "DynamoSeatsWriteThrottlesAlarm",
    "DynamoSystemErrorsAlarm",
    "TransactionConflictAlarm",
    "MailBounceRateAlarm",
    "MailComplaintRateAlarm",
    "RefundsOwedAlarm",
    "ResetMailFailedAlarm",
    "PaymentMismatchAlarm",
}


@pytest.mark.parametrize("stage", STAGES)
def test_every_alarm_notifies_the_topic_which_mails_the_operator_when_asked(templates, stage):
    template = templates[stage]
    resources = template["Resources"]
    alarms = {k for k, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    per_function = {f"{f}{kind}Alarm" for f in _functions(template) for kind in ("Errors", "Throttles", "Duration")}
    assert alarms == EXPECTED_ALARMS | per_function
    for name in alarms:
        properties = resources[name]["Properties"]
        assert properties["AlarmActions"] == [{"Ref": "AlarmTopic"}] == properties["OKActions"], name
        assert properties["TreatMissingData"] == "notBreaching", name
    subscription = resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    assert template["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}


@pytest.mark.parametrize("stage", STAGES)
def test_alarm_thresholds(templates, stage):
    resources = templates[stage]["Resources"]

    def props(name):
        return resources[name]["Properties"]

    refunds = props("RefundsOwedAlarm")
    assert (refunds["Namespace"], refunds["MetricName"], refunds["Statistic"]) == (
        "SessionsMarketplace",
        "OldestRefundOwedSeconds",
        "Maximum",
    )
    assert (refunds["Threshold"], refunds["ComparisonOperator"]) == (3600, "GreaterThanThreshold")
    assert refunds["Dimensions"] == [{"Name": "Stage", "Value": stage}]
    for name, metric in (
        ("ResetMailFailedAlarm", "ResetMailFailed"),
        ("PaymentMismatchAlarm", "PaymentMismatch"),
        ("TransactionConflictAlarm", "TransactionConflict"),
        ("ApiThrottledAlarm", "ApiThrottled"),
    ):
        assert (props(name)["Namespace"], props(name)["MetricName"]) == ("SessionsMarketplace", metric)
        assert props(name)["Dimensions"] == [{"Name": "Stage", "Value": stage}]
    # The sweep's timeout is 60 s: its longest run alarms past 48 s.
    duration = props("SweepPaymentsDurationAlarm")
    assert (duration["MetricName"], duration["Statistic"], duration["Threshold"]) == ("Duration", "Maximum", 48000)
    assert duration["Dimensions"] == [{"Name": "FunctionName", "Value": f"sessions-marketplace-{stage}-sweep"}]
    rate = props("ApiErrorRateAlarm")
    assert rate["Metrics"][-1]["Expression"] == "IF(requests >= 20, errors / requests, 0)"
    api = [{"Name": "ApiName", "Value": f"sessions-marketplace-{stage}"}, {"Name": "Stage", "Value": "v1"}]
    assert rate["Metrics"][0]["MetricStat"]["Metric"] == {
        "Namespace": "AWS/ApiGateway",
        "MetricName": "5XXError",
        "Dimensions": api,
    }
    assert (rate["Threshold"], rate["ComparisonOperator"]) == (0.05, "GreaterThanThreshold")
    assert resources["RestAPI"]["Properties"]["Name"] == f"sessions-marketplace-{stage}"
    assert props("ApiLatencyAlarm")["ExtendedStatistic"] == "p99"
    assert (props("MailBounceRateAlarm")["MetricName"], props("MailBounceRateAlarm")["Threshold"]) == (
        "Reputation.BounceRate",
        0.05,
    )
    assert (props("MailComplaintRateAlarm")["MetricName"], props("MailComplaintRateAlarm")["Threshold"]) == (
        "Reputation.ComplaintRate",
        0.001,
    )
    env = stage_environment(stage)
    others = [env[f"{t}_TABLE"] for t in SUMMED_TABLES]
    for kind in ("Read", "Write"):
        # Nine tables summed (a metric math alarm references ten metrics at most); the search index alone.
        throttles = props(f"Dynamo{kind}ThrottlesAlarm")["Metrics"]
        assert [m["MetricStat"]["Metric"] for m in throttles[:-1]] == [
            {
                "Namespace": "AWS/DynamoDB",
                "MetricName": f"{kind}ThrottleEvents",
                "Dimensions": [{"Name": "TableName", "Value": name}],
            }
            for name in others
        ]
        assert throttles[-1]["Expression"] == "+".join(f"t{i}" for i in range(9))
        search = props(f"DynamoSearch{kind}ThrottlesAlarm")
        assert (search["Namespace"], search["MetricName"], search["Statistic"]) == (
            "AWS/DynamoDB",
            f"{kind}ThrottleEvents",
            "Sum",
        )
        assert search["Dimensions"] == [{"Name": "TableName", "Value": env["SEARCH_TABLE"]}]
        assert (search["Threshold"], search["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
        assert search["AlarmDescription"].startswith(f"DynamoDB throttled {kind.lower()}s on the search index: ")


def test_a_throttle_sum_past_the_ten_metrics_an_alarm_may_reference_stops_the_package():
    own = {"SearchTable": "search", "SeatsTable": "seats", "QueueTable": "queue"}
    tables = {f"T{i}": f"table-{i}" for i in range(10)} | own
    ten = alarm_resources("dev", tables)["DynamoReadThrottlesAlarm"]["Properties"]["Metrics"]
    assert len([m for m in ten if "MetricStat" in m]) == 10
    with pytest.raises(ValueError, match="11 tables in one alarm: a metric math alarm references at most 10"):
        alarm_resources("dev", {**tables, "T10": "table-10"})


@pytest.mark.parametrize("stage", STAGES)
def test_the_dashboard_charts_the_api_every_function_and_the_business_metrics(templates, stage):
    template = templates[stage]
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(body.replace("${AWS::Region}", "us-east-1"))["widgets"]
    charted = json.dumps(widgets)
    for function in _functions(template):
        name = template["Resources"][function]["Properties"]["FunctionName"]
        assert f'"FunctionName", "{name}"' in charted, name
    [throttles] = [w for w in widgets if w["properties"]["title"] == "DynamoDB throttles"]
    env = stage_environment(stage)
    tables = [env[f"{t}_TABLE"] for t in (*SUMMED_TABLES, "SEARCH", "SEATS", "QUEUE")]
    assert throttles["properties"]["metrics"] == [
        ["AWS/DynamoDB", metric, "TableName", table]
        for metric in ("ReadThrottleEvents", "WriteThrottleEvents")
        for table in tables
    ]
    [business] = [w for w in widgets if w["properties"]["title"] == "Business"]
    assert [m[1] for m in business["properties"]["metrics"]] == list(BUSINESS_METRICS)
    assert {
        "BookingCreated",
        "HoldExpired",
        "RefundIssued",
        "RefundFailed",
        "WebhookReceived",
        "WebhookRejected",
        "Throttled",
        "MailSuppressed",
    } <= set(BUSINESS_METRICS)
    assert re.findall(r"\$\{[^}]+\}", body) == ["${AWS::Region}"] * len(widgets)


@pytest.mark.parametrize("stage", STAGES)
def test_api_access_logs_are_json_lines_whose_429s_are_counted(templates, stage):
    resources = templates[stage]["Resources"]
    setting = resources["RestAPI"]["Properties"]["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    line = json.loads(re.sub(r"\$context\.status", "429", setting["Format"]))
    assert (line["status"], line["Stage"], line["requestId"]) == (429, stage, "$context.requestId")
    group = resources["ApiAccessLogGroup"]["Properties"]
    assert group["RetentionInDays"] == {"dev": 14, "prod": 90}[stage]
    metric = resources["ApiThrottledMetricFilter"]["Properties"]
    assert metric["FilterPattern"] == "{ $.status = 429 }"
    assert metric["MetricTransformations"][0]["Dimensions"] == [{"Key": "Stage", "Value": "$.Stage"}]
    # The account-wide role is this stack's only when asked, and the API waits for it when it is.
    assert resources["ApiGatewayAccount"]["Condition"] == "SetsApiGatewayLogRole"
    assert resources["RestAPI"]["DependsOn"] == ["ApiGatewayAccountReady"]
    assert resources["ApiGatewayAccountReady"]["Metadata"]["Account"] == {
        "Fn::If": ["SetsApiGatewayLogRole", {"Ref": "ApiGatewayAccount"}, ""]
    }


@pytest.mark.parametrize("stage", STAGES)
def test_the_web_acl_is_off_by_default_and_limits_each_ip_when_on(templates, stage):
    template = templates[stage]
    assert template["Parameters"]["ApiWafRateLimit"]["Default"] == 0
    assert template["Conditions"]["HasApiWaf"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ApiWafRateLimit"}, "0"]}]}
    acl = template["Resources"]["ApiWebAcl"]
    assert acl["Condition"] == "HasApiWaf" and acl["Properties"]["Scope"] == "REGIONAL"
    [rule] = acl["Properties"]["Rules"]
    assert rule["Action"] == {"Block": {}}
    assert rule["Statement"]["RateBasedStatement"] == {
        "Limit": {"Ref": "ApiWafRateLimit"},
        "AggregateKeyType": "IP",
        "EvaluationWindowSec": 300,
    }
    association = template["Resources"]["ApiWebAclAssociation"]
    assert association["Condition"] == "HasApiWaf"
    assert association["Properties"]["ResourceArn"]["Fn::Sub"].endswith("/restapis/${RestAPI}/stages/${RestAPI.Stage}")


@pytest.mark.parametrize("stage", STAGES)
def test_the_custom_domain_is_optional_tls_1_2_and_needs_a_certificate(templates, stage):
    template = templates[stage]
    domain = template["Resources"]["ApiDomain"]
    assert domain["Condition"] == "HasApiDomain"
    assert domain["Properties"] == {
        "DomainName": {"Ref": "ApiDomainName"},
        "RegionalCertificateArn": {"Ref": "ApiCertificateArn"},
        "EndpointConfiguration": {"Types": ["REGIONAL"]},
        "SecurityPolicy": "TLS_1_2",
    }
    mapping = template["Resources"]["ApiBasePathMapping"]
    assert mapping["Properties"]["Stage"] == {"Ref": "RestAPI.Stage"}
    rule = template["Rules"]["ApiDomainNeedsCertificate"]
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ApiCertificateArn"}, ""]}]}
    pattern = re.compile(template["Parameters"]["ApiDomainName"]["AllowedPattern"])
    assert pattern.match("") and pattern.match("api.example.com") and not pattern.match("https://api.example.com")


@pytest.mark.parametrize("stage", STAGES)
def test_bounces_and_complaints_reach_the_feedback_function_through_sns(templates, stage):
    template = templates[stage]
    resources = template["Resources"]
    destination = resources["MailFeedbackDestination"]["Properties"]
    assert destination["ConfigurationSetName"] == {"Ref": "MailConfigurationSet"}
    assert destination["EventDestination"]["MatchingEventTypes"] == ["bounce", "complaint"]
    assert destination["EventDestination"]["SnsDestination"] == {"TopicARN": {"Ref": "MailFeedbackTopic"}}
    [publish] = resources["MailFeedbackTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (publish["Principal"], publish["Action"]) == ({"Service": "ses.amazonaws.com"}, "sns:Publish")
    if "MailFeedback" in _functions(template):
        assert resources["MailFeedbackSubscription"]["Properties"] == {
            "TopicArn": {"Ref": "MailFeedbackTopic"},
            "Protocol": "lambda",
            "Endpoint": {"Ref": "MailFeedback.Alias"},
        }
        permission = resources["MailFeedbackInvokePermission"]["Properties"]
        assert (permission["Principal"], permission["SourceArn"]) == ("sns.amazonaws.com", {"Ref": "MailFeedbackTopic"})
    domain = resources["MailDomainIdentity"]
    assert domain["Condition"] == "HasMailDomain"
    assert domain["Properties"]["DkimSigningAttributes"] == {"NextSigningKeyLength": "RSA_2048_BIT"}
    assert template["Outputs"]["MailDkim1"]["Condition"] == "HasMailDomain"


@pytest.mark.parametrize("stage", STAGES)
def test_the_signing_key_rotates_every_30_days_through_the_rotation_function(templates, stage):
    resources = templates[stage]["Resources"]
    if "RotateSigningKey" not in resources:
        assert "JwtSigningSecretRotation" not in resources
        return
    assert resources["JwtSigningSecretRotation"]["Properties"] == {
        "SecretId": {"Ref": "JwtSigningSecret"},
        "RotationLambdaARN": {"Ref": "RotateSigningKey.Alias"},
        "RotationRules": {"ScheduleExpression": "rate(30 days)"},
        "RotateImmediatelyOnUpdate": False,
    }
    assert resources["RotateSigningKeyInvokePermission"]["Properties"] == {
        "FunctionName": {"Ref": "RotateSigningKey.Alias"},
        "Action": "lambda:InvokeFunction",
        "Principal": "secretsmanager.amazonaws.com",
        "SourceArn": {"Ref": "JwtSigningSecret"},
    }


def _without(template: dict, *functions: str) -> dict:
    """The packaged template as `chalice package` would emit it for an app without `functions`."""
    raw = copy.deepcopy(template)
    raw["Resources"]["DefaultRole"] = {"Type": "AWS::IAM::Role", "Properties": {}}
    for name in functions:
        raw["Resources"].pop(name, None)
    return raw


def test_a_function_the_app_does_not_have_gets_none_of_its_parts(templates):
    # The dev template as it would be without MailFeedback and RotateSigningKey, finished again.
    kept = ("MailFeedbackTopic", "MailFeedbackTopicPolicy", "MailFeedbackDestination")
    raw = _without(templates["dev"], "MailFeedback", "RotateSigningKey")
    for section in ("Resources", "Parameters", "Conditions"):
        for key in list(raw[section]):
            if key.startswith(("MailFeedback", "RotateSigningKey", "JwtSigningSecretRotation")) and key not in kept:
                del raw[section][key]
    finished = finish_template("dev", raw)
    names = set(finished["Resources"]) | set(finished["Parameters"]) | set(finished["Conditions"])
    assert {n for n in names if n.startswith(("MailFeedback", "RotateSigningKey", "JwtSigningSecretRotation"))} == set(
        kept
    )
    assert {"APIHandlerRole", "JwtAuthorizerRole", "SweepPaymentsRole"} <= names
    assert "DefaultRole" not in finished["Resources"]


def test_a_function_without_its_parts_stops_the_package(templates):
    raw = _without(templates["dev"])
    raw["Resources"]["Stray"] = {"Type": "AWS::Serverless::Function", "Properties": {"Timeout": 3}}
    with pytest.raises(SystemExit, match="Stray"):
        finish_template("dev", raw)
