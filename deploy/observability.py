"""What an operator watches on a deployed stage: alarms (all to one SNS topic), one dashboard, the API's access
log and the account-level role API Gateway writes logs with. Merged into the stage's template by
deploy/template.py; docs/deploying.md, Operating a stage, says what each alarm means."""

from __future__ import annotations

import json
from typing import Any

APP = "sessions-marketplace"
# The app's own metrics (chalicelib/metrics.py, EMF): namespace and the one dimension, the stage.
NAMESPACE = "SessionsMarketplace"
ALARM_TOPIC = {"Ref": "AlarmTopic"}
FIVE_MINUTES = 300
# AWS's policy for API Gateway's log role (logs:* writes on the account's log groups: API Gateway names them).
PUSH_TO_LOGS_POLICY = "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
# The API's share of 5XX answers over five minutes that is an incident; below MIN_REQUESTS a single failure of
# an idle stage would be a rate of 100%, so a quiet window never alarms on its rate.
API_ERROR_RATE = 0.05
API_MIN_REQUESTS = 20
API_P99_LATENCY_MS = 3000
# Answers 429 in five minutes (the stage's throttle, the webhook's, and the app's own limits): an attack or a
# limit set too low.
API_THROTTLED_PER_5_MIN = 50
# A function whose longest run reaches this share of its timeout is about to be cut off.
DURATION_SHARE_OF_TIMEOUT = 0.8
# SES reviews an account at a 5% bounce rate and 0.1% complaint rate (and may pause sending at 10% and 0.5%).
BOUNCE_RATE = 0.05
COMPLAINT_RATE = 0.001
REFUND_OWED_MAX_SECONDS = 3600
# A metric math alarm references at most ten metrics (CloudWatch's hard limit; its expressions are not counted).
ALARM_MAX_METRICS = 10
# Tables whose throttles have alarms of their own instead of a place in the stage's sums: logical id -> (the
# alarms' prefix, the table as their descriptions name it, what a read and a write throttle mean). The search
# index's writes ride in every event write's transaction, so a throttle there fails the event's write, and its
# bulk loads (`manage.py reindex`, run by the operator) are the likeliest burst past what on-demand capacity
# absorbs at once: its alarms name that cause. It also keeps the sums at nine of their ten metrics, one table of
# headroom; a table past it stops the package (_tables_alarm), not a deploy. Alarms are billed per metric: the
# split costs nothing more.
OWN_THROTTLE_ALARMS = {
    "SearchTable": (
        "DynamoSearch",
        "the search index",
        {
            "Read": "searches may fail",
            "Write": "the event writes that change it fail, or manage.py reindex writes faster than it scales",
        },
    ),
    # The seat counters are the hot items of a popular event's on-sale: a throttle there is bookings refused
    # (503) while seats remain, the sign that the event needs more seat shards or a slower admission rate.
    "SeatsTable": (
        "DynamoSeats",
        "the seat counters",
        {
            "Read": "event pages and bookings may fail",
            "Write": "bookings and cancellations fail: more seat shards or a slower on-sale queue (docs/dynamodb.md)",
        },
    ),
    # An on-sale's crowd joins and polls here: a throttle is visitors refused a place or a status (503).
    "QueueTable": (
        "DynamoQueue",
        "the on-sale queues",
        {
            "Read": "visitors waiting in a queue are not told their place",
            "Write": "visitors cannot join a queue: its counters' shards may be too few (docs/dynamodb.md)",
        },
    ),
}
# Business metrics charted on the dashboard (emitted by the app as EMF), besides those with an alarm.
BUSINESS_METRICS = (
    "BookingCreated",
    "HoldExpired",
    "RefundIssued",
    "RefundFailed",
    "WebhookReceived",
    "WebhookRejected",
    "Throttled",
    "MailSuppressed",
    "TransactionConflict",
    "PaymentMismatch",
    "ResetMailFailed",
)
# One JSON line per request; "Stage" is written literally so that the 429 metric filter gives its count the
# same dimension as the app's own metrics (the API's stage is "v1" in every deployed stage).
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "time": "$context.requestTimeEpoch",
    "method": "$context.httpMethod",
    "path": "$context.path",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "latency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "error": "$context.error.message",
    "authorizerError": "$context.authorizer.error",
    "principal": "$context.authorizer.principalId",
    "waf": "$context.waf.status",
    "traceId": "$context.xrayTraceId",
}


def api_name(stage: str) -> str:
    """The REST API's name: API Gateway's metrics are dimensioned by it, so each stage needs its own."""
    return f"{APP}-{stage}"


def access_log_format(stage: str) -> str:
    """API Gateway's access log format: a JSON object per request, its status a number for the metric filter."""
    fields = ",".join(f'"{name}":"{value}"' for name, value in ACCESS_LOG_FIELDS.items())
    return "{" + fields + ',"status":$context.status,"Stage":"' + stage + '"}'


def _alarm(description: str, **properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "AlarmActions": [ALARM_TOPIC],
            "OKActions": [ALARM_TOPIC],
            "TreatMissingData": "notBreaching",
            **properties,
        },
    }


def _metric(namespace: str, name: str, dimensions: dict[str, Any], stat: str = "Sum") -> dict[str, Any]:
    return {
        "Metric": {
            "Namespace": namespace,
            "MetricName": name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
        },
        "Period": FIVE_MINUTES,
        "Stat": stat,
    }


def _simple(
    description: str,
    namespace: str,
    name: str,
    dimensions: dict[str, Any],
    threshold: float,
    statistic: str = "Sum",
    operator: str = "GreaterThanOrEqualToThreshold",
) -> dict[str, Any]:
    """An alarm on one metric over five minutes, breaching on the first period over `threshold`."""
    properties: dict[str, Any] = {
        "Namespace": namespace,
        "MetricName": name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
        "Period": FIVE_MINUTES,
        "EvaluationPeriods": 1,
        "Threshold": threshold,
        "ComparisonOperator": operator,
    }
    if statistic.startswith("p"):
        properties["ExtendedStatistic"] = statistic
    else:
        properties["Statistic"] = statistic
    return _alarm(description, **properties)


def _app_metric_alarm(stage: str, description: str, name: str, threshold: float, statistic: str = "Sum") -> Any:
    return _simple(description, NAMESPACE, name, {"Stage": stage}, threshold, statistic)


def _tables_alarm(description: str, metric: str, tables: list[str]) -> dict[str, Any]:
    """The sum of a per-table DynamoDB metric over `tables`."""
    if len(tables) > ALARM_MAX_METRICS:
        raise ValueError(
            f"{len(tables)} tables in one alarm: a metric math alarm references at most {ALARM_MAX_METRICS} "
            "metrics; give the new table alarms of its own (see OWN_THROTTLE_ALARMS)"
        )
    queries: list[dict[str, Any]] = [
        {"Id": f"t{i}", "ReturnData": False, "MetricStat": _metric("AWS/DynamoDB", metric, {"TableName": table})}
        for i, table in enumerate(tables)
    ]
    ids = "+".join(q["Id"] for q in queries)
    queries.append({"Id": "total", "Expression": f"{ids}", "Label": metric, "ReturnData": True})
    return _alarm(
        description,
        Metrics=queries,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )


def _throttle_alarms(tables: dict[str, str]) -> dict[str, Any]:
    """Read and write throttles: a sum over the stage's tables, and alarms of their own for OWN_THROTTLE_ALARMS."""
    summed = [name for logical_id, name in tables.items() if logical_id not in OWN_THROTTLE_ALARMS]
    alarms = {}
    for kind, metric in (("Read", "ReadThrottleEvents"), ("Write", "WriteThrottleEvents")):
        own = [f"{prefix}{kind}ThrottlesAlarm" for prefix, _, _ in OWN_THROTTLE_ALARMS.values()]
        alarms[f"Dynamo{kind}ThrottlesAlarm"] = _tables_alarm(
            f"DynamoDB throttled {kind.lower()}s on the stage's tables, but for those {', '.join(own)} watches",
            metric,
            summed,
        )
        for logical_id, (prefix, table, meaning) in OWN_THROTTLE_ALARMS.items():
            # The table's own dimension counts its local indexes too: they share its partitions.
            alarms[f"{prefix}{kind}ThrottlesAlarm"] = _simple(
                f"DynamoDB throttled {kind.lower()}s on {table}: {meaning[kind]}",
                "AWS/DynamoDB",
                metric,
                {"TableName": tables[logical_id]},
                1,
            )
    return alarms


def alarm_resources(stage: str, tables: dict[str, str]) -> dict[str, Any]:
    """The alarms that do not depend on which functions the app has; `tables`: logical id -> the stage's name."""
    api = {"ApiName": api_name(stage), "Stage": "v1"}
    error_rate = {
        "Id": "rate",
        "Expression": f"IF(requests >= {API_MIN_REQUESTS}, errors / requests, 0)",
        "Label": "5XX share of requests",
        "ReturnData": True,
    }
    return {
        "ApiErrorRateAlarm": _alarm(
            f"More than {API_ERROR_RATE:.0%} of the API's answers are 5XX (over {API_MIN_REQUESTS}+ requests in 5 "
            "minutes); rolls back a deployment of the API function",
            Metrics=[
                {"Id": "errors", "ReturnData": False, "MetricStat": _metric("AWS/ApiGateway", "5XXError", api)},
                {"Id": "requests", "ReturnData": False, "MetricStat": _metric("AWS/ApiGateway", "Count", api)},
                error_rate,
            ],
            EvaluationPeriods=1,
            Threshold=API_ERROR_RATE,
            ComparisonOperator="GreaterThanThreshold",
        ),
        "ApiLatencyAlarm": _simple(
            f"The API's p99 latency is over {API_P99_LATENCY_MS} ms; rolls back a deployment of the API function",
            "AWS/ApiGateway",
            "Latency",
            api,
            API_P99_LATENCY_MS,
            statistic="p99",
            operator="GreaterThanThreshold",
        ),
        "ApiThrottledAlarm": _app_metric_alarm(
            stage,
            f"{API_THROTTLED_PER_5_MIN}+ answers 429 in 5 minutes (from the access log): a flood, or a limit too low",
            "ApiThrottled",
            API_THROTTLED_PER_5_MIN,
        ),
        **_throttle_alarms(tables),
        # SystemErrors exists only per table and operation (over ten metrics): a Metrics Insights query sums
        # them, over the region's tables (DynamoDB's own failures, not the app's).
        "DynamoSystemErrorsAlarm": _alarm(
            "DynamoDB answered with its own errors (HTTP 500) in this region",
            Metrics=[
                {
                    "Id": "errors",
                    "Expression": 'SELECT SUM(SystemErrors) FROM SCHEMA("AWS/DynamoDB", Operation, TableName)',
                    "Period": FIVE_MINUTES,
                    "ReturnData": True,
                }
            ],
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        ),
        "TransactionConflictAlarm": _app_metric_alarm(
            stage,
            "10+ DynamoDB transaction conflicts in 5 minutes: hot items (seat counters)",
            "TransactionConflict",
            10,
        ),
        "MailBounceRateAlarm": _simple(
            f"SES bounce rate over {BOUNCE_RATE:.0%} (SES reviews the account there): check the suppressions",
            "AWS/SES",
            "Reputation.BounceRate",
            {},
            BOUNCE_RATE,
            statistic="Maximum",
        ),
        "MailComplaintRateAlarm": _simple(
            f"SES complaint rate over {COMPLAINT_RATE:.1%} (SES reviews the account there)",
            "AWS/SES",
            "Reputation.ComplaintRate",
            {},
            COMPLAINT_RATE,
            statistic="Maximum",
        ),
        "RefundsOwedAlarm": _simple(
            "A refund has been owed for over an hour (the sweep retries it every minute): see RefundFailed",
            NAMESPACE,
            "OldestRefundOwedSeconds",
            {"Stage": stage},
            REFUND_OWED_MAX_SECONDS,
            statistic="Maximum",
            operator="GreaterThanThreshold",
        ),
        "ResetMailFailedAlarm": _app_metric_alarm(
            stage, "A password reset e-mail could not be sent (SES refused or failed)", "ResetMailFailed", 1
        ),
        "PaymentMismatchAlarm": _app_metric_alarm(
            stage,
            "A payment did not match its booking (amount, currency or session): see the logs",
            "PaymentMismatch",
            1,
        ),
    }


def function_alarms(logical_id: str, name: str, timeout_seconds: int) -> dict[str, Any]:
    """A function's errors, throttles and runs close to its timeout."""
    function = {"FunctionName": name}
    limit_ms = int(timeout_seconds * 1000 * DURATION_SHARE_OF_TIMEOUT)
    return {
        f"{logical_id}ErrorsAlarm": _simple(f"{name} failed (errors or timeouts)", "AWS/Lambda", "Errors", function, 1),
        f"{logical_id}ThrottlesAlarm": _simple(
            f"{name} was throttled (its reserved concurrency or the account's)", "AWS/Lambda", "Throttles", function, 1
        ),
        f"{logical_id}DurationAlarm": _simple(
            f"{name} ran over {DURATION_SHARE_OF_TIMEOUT:.0%} of its {timeout_seconds} s timeout",
            "AWS/Lambda",
            "Duration",
            function,
            limit_ms,
            statistic="Maximum",
            operator="GreaterThanThreshold",
        ),
    }


def notification_resources() -> dict[str, Any]:
    """The topic every alarm notifies, and its e-mail subscription when AlarmEmail is set."""
    return {
        "AlarmTopic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "Sessions Marketplace alarms"}},
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": {"TopicArn": ALARM_TOPIC, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}},
        },
    }


def access_log_resources(stage: str, retention_days: int, retention: dict[str, str]) -> dict[str, Any]:
    """The API's access log group, the count of its 429 answers, and API Gateway's account-level log role.

    The role is a setting of the account and region (one for all APIs): SetApiGatewayLogRole=false leaves the
    one another stack set. API Gateway refuses a stage with access logs until the account has it, so the API
    waits for ApiGatewayAccountReady, which names the setting only when this stack makes it (a DependsOn on a
    resource whose condition is false is an error)."""
    return {
        "ApiAccessLogGroup": {
            "Type": "AWS::Logs::LogGroup",
            **retention,
            "Properties": {
                "LogGroupName": f"/aws/apigateway/{api_name(stage)}/access",
                "RetentionInDays": retention_days,
            },
        },
        "ApiThrottledMetricFilter": {
            "Type": "AWS::Logs::MetricFilter",
            "Properties": {
                "LogGroupName": {"Ref": "ApiAccessLogGroup"},
                "FilterPattern": "{ $.status = 429 }",
                "MetricTransformations": [
                    {
                        "MetricNamespace": NAMESPACE,
                        "MetricName": "ApiThrottled",
                        "MetricValue": "1",
                        "Unit": "Count",
                        "Dimensions": [{"Key": "Stage", "Value": "$.Stage"}],
                    }
                ],
            },
        },
        "ApiGatewayLogRole": {
            "Type": "AWS::IAM::Role",
            "Condition": "SetsApiGatewayLogRole",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "apigateway.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "ManagedPolicyArns": [{"Fn::Sub": PUSH_TO_LOGS_POLICY}],
            },
        },
        "ApiGatewayAccount": {
            "Type": "AWS::ApiGateway::Account",
            "Condition": "SetsApiGatewayLogRole",
            "Properties": {"CloudWatchRoleArn": {"Fn::GetAtt": ["ApiGatewayLogRole", "Arn"]}},
        },
        "ApiGatewayAccountReady": {
            "Type": "AWS::CloudFormation::WaitConditionHandle",
            "Metadata": {"Account": {"Fn::If": ["SetsApiGatewayLogRole", {"Ref": "ApiGatewayAccount"}, ""]}},
        },
    }


def _widget(title: str, metrics: list[list[Any]], x: int, y: int, stat: str = "Sum", width: int = 12) -> dict[str, Any]:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": width,
        "height": 6,
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "stat": stat,
            "period": FIVE_MINUTES,
            "view": "timeSeries",
            "metrics": metrics,
        },
    }


def dashboard(stage: str, functions: dict[str, str], tables: list[str]) -> dict[str, Any]:
    """One dashboard: the API, the functions (logical id -> name), DynamoDB, e-mail and the business metrics."""
    api = ["ApiName", api_name(stage), "Stage", "v1"]
    names = list(functions.values())
    widgets = [
        _widget(
            "API requests and errors",
            [
                ["AWS/ApiGateway", "Count", *api],
                ["AWS/ApiGateway", "4XXError", *api],
                ["AWS/ApiGateway", "5XXError", *api],
                [NAMESPACE, "ApiThrottled", "Stage", stage],
            ],
            0,
            0,
        ),
        _widget(
            "API latency (ms)",
            [
                ["AWS/ApiGateway", "Latency", *api, {"stat": "p99"}],
                ["AWS/ApiGateway", "Latency", *api, {"stat": "p50"}],
                ["AWS/ApiGateway", "IntegrationLatency", *api, {"stat": "p99"}],
            ],
            12,
            0,
            stat="p99",
        ),
        _widget("Function errors", [["AWS/Lambda", "Errors", "FunctionName", n] for n in names], 0, 6),
        _widget("Function throttles", [["AWS/Lambda", "Throttles", "FunctionName", n] for n in names], 12, 6),
        _widget(
            "Function duration, maximum (ms)",
            [["AWS/Lambda", "Duration", "FunctionName", n] for n in names],
            0,
            12,
            stat="Maximum",
        ),
        _widget(
            "Function concurrency, maximum",
            [["AWS/Lambda", "ConcurrentExecutions", "FunctionName", n] for n in names],
            12,
            12,
            stat="Maximum",
        ),
        _widget(
            "DynamoDB throttles",
            [
                ["AWS/DynamoDB", m, "TableName", t]
                for m in ("ReadThrottleEvents", "WriteThrottleEvents")
                for t in tables
            ],
            0,
            18,
        ),
        _widget(
            "DynamoDB system errors (region) and transaction conflicts",
            [
                [{"expression": 'SELECT SUM(SystemErrors) FROM SCHEMA("AWS/DynamoDB", Operation, TableName)'}],
                [NAMESPACE, "TransactionConflict", "Stage", stage],
            ],
            12,
            18,
        ),
        _widget(
            "SES reputation (account)",
            [["AWS/SES", "Reputation.BounceRate"], ["AWS/SES", "Reputation.ComplaintRate"]],
            0,
            24,
            stat="Maximum",
        ),
        _widget(
            "Oldest refund owed (s)",
            [[NAMESPACE, "OldestRefundOwedSeconds", "Stage", stage]],
            12,
            24,
            stat="Maximum",
        ),
        _widget("Business", [[NAMESPACE, m, "Stage", stage] for m in BUSINESS_METRICS], 0, 30, width=24),
    ]
    return {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {
            "DashboardName": f"{APP}-{stage}",
            "DashboardBody": {"Fn::Sub": json.dumps({"widgets": widgets}, separators=(",", ":"))},
        },
    }
