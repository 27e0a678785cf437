"""The deployed path of notifications (services.notifications): the bookings' and events' tables stream their
changes (new and old images) to the Notifier function through one event source mapping each. A batch whose
change failed is retried from that change (ReportBatchItemFailures, the batch halved on each error); after the
last attempt the batch's description goes to a dead-letter queue, and an alarm says so."""

from __future__ import annotations

from typing import Any

from deploy.observability import _simple

# The tables whose changes are notifications (their pynamodb models declare the same stream view).
STREAMED_TABLES = ("BookingsTable", "EventsTable")
STREAM_VIEW = "NEW_AND_OLD_IMAGES"
# Each attempt is quick (a few reads, one e-mail): ten attempts, or six hours, before a batch is parked.
MAXIMUM_RETRY_ATTEMPTS = 10
MAXIMUM_RECORD_AGE_SECONDS = 6 * 3600
BATCH_SIZE = 25
DEAD_LETTERS = "NotifierDeadLetters"


def stream_specification() -> dict[str, Any]:
    """What a streamed table adds to its properties."""
    return {"StreamSpecification": {"StreamViewType": STREAM_VIEW}}


def stream_statements() -> list[dict[str, Any]]:
    """The Notifier's role: read both streams and park in the dead-letter queue."""
    from deploy.protection import statement

    streams = [{"Fn::GetAtt": [table, "StreamArn"]} for table in STREAMED_TABLES]
    return [
        statement(
            "Streams",
            ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"],
            streams,
        ),
        statement("DeadLetters", ["sqs:SendMessage"], [{"Fn::GetAtt": [DEAD_LETTERS, "Arn"]}]),
    ]


def notifier_resources(stage: str, function_name: str) -> dict[str, Any]:
    """The event source mappings, the dead-letter queue and its alarm."""
    resources: dict[str, Any] = {
        DEAD_LETTERS: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": f"{function_name}-dead-letters",
                "MessageRetentionPeriod": 14 * 86_400,
                "KmsMasterKeyId": "alias/aws/sqs",
            },
        },
        f"{DEAD_LETTERS}Alarm": _simple(
            f"{function_name} parked a batch of changes: their notifications were not sent (see the queue)",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": {"Fn::GetAtt": [DEAD_LETTERS, "QueueName"]}},
            1,
            statistic="Maximum",
        ),
    }
    for table in STREAMED_TABLES:
        resources[f"Notifier{table.removesuffix('Table')}Stream"] = {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "FunctionName": {"Ref": "Notifier.Alias"},
                "EventSourceArn": {"Fn::GetAtt": [table, "StreamArn"]},
                "StartingPosition": "TRIM_HORIZON",
                "BatchSize": BATCH_SIZE,
                "MaximumBatchingWindowInSeconds": 1,
                "BisectBatchOnFunctionError": True,
                "MaximumRetryAttempts": MAXIMUM_RETRY_ATTEMPTS,
                "MaximumRecordAgeInSeconds": MAXIMUM_RECORD_AGE_SECONDS,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [DEAD_LETTERS, "Arn"]}}},
            },
        }
    return resources
