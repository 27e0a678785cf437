"""The project's own CloudFormation for a stage, merged into `chalice package` output.

Tables are written out here by hand, not derived from the pynamodb models, so that tests/deploy compares two
independent descriptions and fails on any drift between them."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Any

from chalicelib.http.gateway_responses import GATEWAY_RESPONSES
from chalicelib.services.uploads import MEDIA_PREFIX, UNCLAIMED_DAYS, UPLOAD_PREFIX
from deploy.buckets import deny_plain_http, private_bucket_properties
from deploy.mail import (
    CONFIGURATION_SET_ARN,
    feedback_subscription,
    mail_conditions,
    mail_outputs,
    mail_parameters,
    mail_resources,
    sender_identity_arn,
)
from deploy.notifications import STREAMED_TABLES, notifier_resources, stream_specification, stream_statements
from deploy.observability import (
    access_log_format,
    access_log_resources,
    alarm_resources,
    api_name,
    dashboard,
    function_alarms,
    notification_resources,
)
from deploy.protection import (
    apply_checkov_skips,
    concurrency,
    function_role,
    protection_conditions,
    protection_outputs,
    protection_parameters,
    protection_resources,
    protection_rules,
    statement,
)
from deploy.site import site_conditions, site_outputs, site_parameters, site_resources

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("dev", "prod")
# Logical id -> function name suffix. Names are fixed so that log groups (and the role's permission to write
# to them) need not reference the functions, which themselves depend on the role.
FUNCTIONS = {
    "APIHandler": "api",
    "JwtAuthorizer": "authorizer",
    "SweepPayments": "sweep",
    "MailFeedback": "mail-feedback",
    "RotateSigningKey": "rotate-signing-key",
    "Notifier": "notifier",
    "SendDigests": "digests",
}
# Always in the app; the others get their parts (role, log group, alarms, triggers) only once `chalice
# package` emits them, so the template stays valid while they are being written.
REQUIRED_FUNCTIONS = ("APIHandler", "JwtAuthorizer", "SweepPayments")
# Default reserved concurrency (a parameter per function; 0 reserves none and shares the account's pool).
RESERVED_CONCURRENCY = {
    "APIHandler": (0, "the API shares the account's pool, capped by the stage's throttle"),
    "JwtAuthorizer": (10, "its own, so that a spike of the API cannot starve the authorizer"),
    "SweepPayments": (1, "one sweep at a time"),
    "MailFeedback": (2, "bounces and complaints are few; SNS retries a throttled delivery"),
    "RotateSigningKey": (1, "Secrets Manager runs one rotation step at a time"),
    "Notifier": (4, "one batch per stream shard at a time; SES's sending rate is the real limit"),
    "SendDigests": (1, "one run at a time: the ledger would hold a second run's creators back anyway"),
}
# Where the functions' live alias shifts traffic gradually (CodeDeploy), rolled back by the API's alarms.
LIVE_ALIAS = "live"
API_DEPLOYMENT = {"dev": "AllAtOnce", "prod": "Canary10Percent5Minutes"}
ROLLBACK_ALARMS = ("ApiErrorRateAlarm", "ApiLatencyAlarm", "APIHandlerErrorsAlarm")
SIGNING_KEY_ROTATION = "rate(30 days)"
# The table MailFeedback records suppressed addresses in (persistence/suppressions.py: the uniques table).
MAIL_FEEDBACK_TABLES = ("UniquesTable",)
# What the Notifier reads a message's facts from (users, events, a changed event's bookings) and its ledger in.
NOTIFIER_READS = ("UsersTable", "EventsTable", "SeatsTable", "BookingsTable")
# What the creators' digests read besides their book and the ledger (the uniques table): recipients and events.
DIGEST_READS = ("UsersTable", "EventsTable", "SeatsTable")
# The sweep's repositories (bookings, events) write these tables in their transactions.
SWEEP_TABLES = ("BookingsTable", "EventsTable", "SeatsTable", "UniquesTable", "IdempotencyTable")


def function_name(stage: str, logical_id: str) -> str:
    """The Lambda function's name in `stage`."""
    return f"sessions-marketplace-{stage}-{FUNCTIONS[logical_id]}"


DYNAMODB_ACTIONS = [
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
]

# What the API does to the queue table (persistence/queue.py): an entry is put once, a counter updated, and
# counters are read in batches; nothing is deleted (TTL does), queried or scanned.
QUEUE_ACTIONS = ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]

# What a transaction does to the search table's items (TransactWriteItems is authorised action by action).
SEARCH_WRITE_ACTIONS = [
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
]


def _keys(hash_key: str, range_key: str | None = None) -> list[dict[str, str]]:
    keys = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return keys


def _index(name: str, hash_key: str, range_key: str, projection: str = "ALL") -> dict[str, Any]:
    return {"IndexName": name, "KeySchema": _keys(hash_key, range_key), "Projection": {"ProjectionType": projection}}


# The staff's list of users: one index per combination of its filters, each sorted by username (see
# chalicelib/persistence/models/users.py for why), keyed `f_<facets>`; no filter is `by-name`.
USER_FILTERS = ("role", "staff", "active")
USER_FILTER_INDEXES = [
    _index("by-" + "-".join(combination), "f_" + "_".join(combination), "name_sk")
    for size in range(1, len(USER_FILTERS) + 1)
    for combination in combinations(USER_FILTERS, size)
]

# Logical id -> (environment variable holding the name, key attribute, global secondary indexes).
TABLES: dict[str, tuple[str, str, list[dict[str, Any]]]] = {
    "UsersTable": (
        "USERS_TABLE",
        "id",
        [_index("by-name", "all_key", "name_sk"), _index("by-email", "all_key", "email_sk"), *USER_FILTER_INDEXES],
    ),
    "UniquesTable": ("UNIQUES_TABLE", "key", []),
    "EventsTable": (
        "EVENTS_TABLE",
        "id",
        [
            _index("published-by-created", "pub", "created_sk"),
            _index("published-by-start", "pub", "starts_sk"),
            _index("creator-published-by-created", "pub_creator", "created_sk"),
            _index("creator-published-by-start", "pub_creator", "starts_sk"),
            _index("by-creator", "creator", "created_sk"),
            _index("all-by-created", "all_key", "created_sk"),
            _index("by-status", "status", "created_sk"),
            _index("by-creator-status", "creator_status", "created_sk"),
            # Cancelled events whose bookings are being settled; keys only (the progress is never copied).
            _index("settlement-due", "settle_due", "settle_sk", "KEYS_ONLY"),
        ],
    ),
    "BookingsTable": (
        "BOOKINGS_TABLE",
        "id",
        [
            _index("by-user", "user_id", "created_sk"),
            _index("by-event-part", "event_part", "created_sk"),
            _index("event-waitlist", "wl_event", "created_sk"),
            _index("payments-due", "pay_due", "pay_due_sk"),
        ],
    ),
    "IdempotencyTable": ("IDEMPOTENCY_TABLE", "key", []),
    "TokensTable": ("TOKENS_TABLE", "key", []),
    "ThrottleTable": ("THROTTLE_TABLE", "key", []),
    "AuditTable": (
        "AUDIT_TABLE",
        "id",
        [
            _index("by-time", "all_key", "at_sk"),
            _index("by-actor", "actor_id", "at_sk"),
            _index("by-object", "object_id", "at_sk"),
            _index("by-actor-object", "actor_object", "at_sk"),
        ],
    ),
    "UploadsTable": ("UPLOADS_TABLE", "id", []),
    "SearchTable": ("SEARCH_TABLE", "k", []),
    # An event's seat counters, one item per shard (chalicelib/persistence/models/seats.py): no index.
    "SeatsTable": ("SEATS_TABLE", "k", []),
    # The on-sale queues' entries and sharded counters (chalicelib/persistence/models/queue.py): no index.
    "QueueTable": ("QUEUE_TABLE", "k", []),
}
# The range key of the tables that have one, and their local secondary indexes (which need one). A local index
# can only be made with its table: changing one replaces the table, which CloudFormation refuses for a named
# table; the search table would then get a new name and be filled by `manage.py reindex` (docs/deploying.md).
RANGE_KEYS = {"SearchTable": "id"}
LOCAL_INDEXES = {"SearchTable": [_index("by-start", "k", "s"), _index("by-created", "k", "c")]}
TTL = {
    "IdempotencyTable": "expires_at",
    "TokensTable": "expires_at",
    "ThrottleTable": "expires_at",
    "UploadsTable": "expires_at",
    "QueueTable": "expires_at",
}
# Stripe's webhook: machine traffic at a modest rate, refused by signature before any database access. Its own
# limit, below the stage's, keeps a flood of forged calls from using the whole stage's quota; Stripe retries
# what is throttled (429) later. API Gateway encodes the path's slashes as ~1.
WEBHOOK_RESOURCE_PATH = "/~1api~1payments~1webhook"
WEBHOOK_RATE_LIMIT = 25
WEBHOOK_BURST_LIMIT = 50
# Created empty: the operator stores the keys once (docs/payments.md, Deployed stages); the template never
# holds them, and never changes the secret again, so an update keeps them.
STRIPE_SECRET_PLACEHOLDER = '{"secret_key": "", "webhook_secret": ""}'
UPLOAD_CORS_MAX_AGE = 3000
# CloudFront keeps a published image at most a day (browsers a year: the object says so); a replaced image,
# deleted from the bucket at once, is gone from the edges a day later without paying for invalidations.
MEDIA_EDGE_TTL = 86_400
MEDIA_BASE_URL = {"Fn::Sub": "https://${MediaDistribution.DomainName}"}


def stage_environment(stage: str) -> dict[str, str]:
    """The stage's environment variables from .chalice/config.json."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return dict(config["stages"][stage]["environment_variables"])


def _table(stage: str, logical_id: str) -> dict[str, Any]:
    env_name, hash_key, indexes = TABLES[logical_id]
    range_key = RANGE_KEYS.get(logical_id)
    local_indexes = LOCAL_INDEXES.get(logical_id, [])
    keys = _keys(hash_key, range_key)
    schemas = [keys, *(i["KeySchema"] for i in [*indexes, *local_indexes])]
    attributes = sorted({k["AttributeName"] for schema in schemas for k in schema})
    properties: dict[str, Any] = {
        "TableName": stage_environment(stage)[env_name],
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in attributes],
        "KeySchema": keys,
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
        "DeletionProtectionEnabled": stage == "prod",
    }
    if indexes:
        properties["GlobalSecondaryIndexes"] = indexes
    if local_indexes:
        properties["LocalSecondaryIndexes"] = local_indexes
    if logical_id in TTL:
        properties["TimeToLiveSpecification"] = {"AttributeName": TTL[logical_id], "Enabled": True}
    if logical_id in STREAMED_TABLES:
        properties.update(stream_specification())
    return {"Type": "AWS::DynamoDB::Table", **_retention(stage), "Properties": properties}


def _retention(stage: str) -> dict[str, str]:
    policy = "Retain" if stage == "prod" else "Delete"
    return {"DeletionPolicy": policy, "UpdateReplacePolicy": policy}


def _bucket(stage: str) -> dict[str, Any]:
    properties = private_bucket_properties()
    # Browsers post uploads straight to the bucket, from the origins the stage allows (a deploy parameter); they
    # read published images through the media distribution, never from the bucket.
    properties["CorsConfiguration"] = {
        "Fn::If": [
            "HasCorsOrigins",
            {
                "CorsRules": [
                    {
                        "AllowedOrigins": {"Fn::Split": [",", {"Ref": "CorsAllowedOrigins"}]},
                        "AllowedMethods": ["POST"],
                        "AllowedHeaders": ["*"],
                        "MaxAge": UPLOAD_CORS_MAX_AGE,
                    }
                ]
            },
            {"Ref": "AWS::NoValue"},
        ]
    }
    # Files as posted live a day, used or not: a used one was copied to media/ when it was checked.
    properties["LifecycleConfiguration"] = {
        "Rules": [
            {
                "Id": "expire-uploads",
                "Status": "Enabled",
                "Prefix": UPLOAD_PREFIX,
                "ExpirationInDays": UNCLAIMED_DAYS,
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": UNCLAIMED_DAYS},
            }
        ]
    }
    return {"Type": "AWS::S3::Bucket", **_retention(stage), "Properties": properties}


def _media(stage: str) -> dict[str, Any]:
    """The media distribution: CloudFront in front of the private bucket, signing its reads with an origin
    access control that the bucket policy lets read `media/` only."""
    name = {"Fn::Sub": "${AWS::StackName}-media"}
    return {
        "MediaOriginAccessControl": {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {
                "OriginAccessControlConfig": {
                    "Name": name,
                    "Description": f"Reads published media of the {stage} upload bucket",
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                }
            },
        },
        "MediaCachePolicy": {
            "Type": "AWS::CloudFront::CachePolicy",
            "Properties": {
                "CachePolicyConfig": {
                    "Name": name,
                    "Comment": "Immutable keys: nothing but the path in the cache key",
                    "MinTTL": 0,
                    "DefaultTTL": MEDIA_EDGE_TTL,
                    "MaxTTL": MEDIA_EDGE_TTL,
                    "ParametersInCacheKeyAndForwardedToOrigin": {
                        "CookiesConfig": {"CookieBehavior": "none"},
                        "HeadersConfig": {"HeaderBehavior": "none"},
                        "QueryStringsConfig": {"QueryStringBehavior": "none"},
                        "EnableAcceptEncodingGzip": False,
                        "EnableAcceptEncodingBrotli": False,
                    },
                }
            },
        },
        "MediaResponseHeadersPolicy": {
            "Type": "AWS::CloudFront::ResponseHeadersPolicy",
            "Properties": {
                "ResponseHeadersPolicyConfig": {
                    "Name": name,
                    "Comment": "Images only: never sniffed, never run",
                    "SecurityHeadersConfig": {
                        "ContentTypeOptions": {"Override": True},
                        "ContentSecurityPolicy": {
                            "ContentSecurityPolicy": "default-src 'none'; sandbox",
                            "Override": True,
                        },
                        "StrictTransportSecurity": {"AccessControlMaxAgeSec": 31_536_000, "Override": True},
                    },
                }
            },
        },
        "MediaDistribution": {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {
                "DistributionConfig": {
                    "Enabled": True,
                    "Comment": f"sessions-marketplace {stage}: published avatars and event images",
                    "HttpVersion": "http2and3",
                    "IPV6Enabled": True,
                    "PriceClass": "PriceClass_100",
                    "Origins": [
                        {
                            "Id": "uploads-bucket",
                            "DomainName": {"Fn::GetAtt": ["UploadsBucket", "RegionalDomainName"]},
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                            "OriginAccessControlId": {"Fn::GetAtt": ["MediaOriginAccessControl", "Id"]},
                        }
                    ],
                    "DefaultCacheBehavior": {
                        "TargetOriginId": "uploads-bucket",
                        "ViewerProtocolPolicy": "https-only",
                        "AllowedMethods": ["GET", "HEAD"],
                        "CachedMethods": ["GET", "HEAD"],
                        "CachePolicyId": {"Ref": "MediaCachePolicy"},
                        "ResponseHeadersPolicyId": {"Ref": "MediaResponseHeadersPolicy"},
                        "Compress": False,
                    },
                }
            },
        },
    }


def _bucket_policy() -> dict[str, Any]:
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": "UploadsBucket"},
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    deny_plain_http("UploadsBucket"),
                    {
                        "Sid": "MediaDistributionReadsMedia",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject",
                        "Resource": {"Fn::Sub": f"${{UploadsBucket.Arn}}/{MEDIA_PREFIX}*"},
                        "Condition": {
                            "StringEquals": {
                                "AWS:SourceArn": {
                                    "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:"
                                    "distribution/${MediaDistribution}"
                                }
                            }
                        },
                    },
                ],
            },
        },
    }


def _table_arns(tables: tuple[str, ...] | list[str]) -> list[Any]:
    arns: list[Any] = []
    for logical_id in tables:
        arns.append({"Fn::GetAtt": [logical_id, "Arn"]})
        if TABLES[logical_id][2] or logical_id in LOCAL_INDEXES:
            arns.append({"Fn::Sub": f"${{{logical_id}.Arn}}/index/*"})
    return arns


def function_statements(logical_id: str) -> list[dict[str, Any]]:
    """What each function's code calls, besides its logs and X-Ray (deploy/protection.function_role)."""
    if logical_id == "APIHandler":
        return [
            statement(
                "Tables", DYNAMODB_ACTIONS, _table_arns([t for t in TABLES if t not in ("SearchTable", "QueueTable")])
            ),
            statement("Queue", QUEUE_ACTIONS, [{"Fn::GetAtt": ["QueueTable", "Arn"]}]),
            # The search index: its items are written in the event's own transactions and read through its
            # local indexes only (manage.py reindex, which scans and batch-writes it, runs as the operator).
            statement("SearchWrites", SEARCH_WRITE_ACTIONS, [{"Fn::GetAtt": ["SearchTable", "Arn"]}]),
            statement("SearchQueries", ["dynamodb:Query"], [{"Fn::Sub": "${SearchTable.Arn}/index/*"}]),
            statement(
                "Secrets", ["secretsmanager:GetSecretValue"], [{"Ref": "JwtSigningSecret"}, {"Ref": "StripeSecret"}]
            ),
            # SES checks both the sender's identity and the configuration set the message names.
            statement("Mail", ["ses:SendEmail"], [sender_identity_arn(), {"Fn::Sub": CONFIGURATION_SET_ARN}]),
            # Browsers' POSTs are signed with this role's credentials: it must be allowed to put what they post.
            statement(
                "Uploads", ["s3:GetObject", "s3:PutObject"], [{"Fn::Sub": f"${{UploadsBucket.Arn}}/{UPLOAD_PREFIX}*"}]
            ),
            # Checked files are copied under media/; replaced and removed ones are deleted.
            statement(
                "Media", ["s3:DeleteObject", "s3:PutObject"], [{"Fn::Sub": f"${{UploadsBucket.Arn}}/{MEDIA_PREFIX}*"}]
            ),
        ]
    if logical_id == "JwtAuthorizer":
        # verify_access reads the caller's user (active, token generation) by its key, and nothing else.
        return [
            statement("Users", ["dynamodb:GetItem"], [{"Fn::GetAtt": ["UsersTable", "Arn"]}]),
            statement("SigningKey", ["secretsmanager:GetSecretValue"], [{"Ref": "JwtSigningSecret"}]),
        ]
    if logical_id == "SweepPayments":
        return [
            statement("Tables", DYNAMODB_ACTIONS, _table_arns(SWEEP_TABLES)),
            statement("Stripe", ["secretsmanager:GetSecretValue"], [{"Ref": "StripeSecret"}]),
        ]
    if logical_id == "MailFeedback":
        # A suppression is one conditional put (persistence/suppressions.py); the API reads them.
        return [statement("Suppressions", ["dynamodb:PutItem"], _table_arns(MAIL_FEEDBACK_TABLES))]
    if logical_id == "Notifier":
        return [
            # An event is read with its seat counters in one BatchGetItem (persistence/seats.py).
            statement(
                "Facts", ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"], _table_arns(NOTIFIER_READS)
            ),
            # The lists' copy of the seat counts on the event item (services/seat_copies.py): an UpdateItem.
            statement("SeatCopies", ["dynamodb:UpdateItem"], [{"Fn::GetAtt": ["EventsTable", "Arn"]}]),
            # The ledger (persistence/notices.py), the digest book (persistence/digests.py: UpdateItem) and the
            # suppressed addresses, on the uniques table.
            statement(
                "Ledger",
                ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                _table_arns(MAIL_FEEDBACK_TABLES),
            ),
            statement(
                "Mail",
                ["ses:SendEmail", "ses:SendRawEmail"],
                [sender_identity_arn(), {"Fn::Sub": CONFIGURATION_SET_ARN}],
            ),
            *stream_statements(),
        ]
    if logical_id == "SendDigests":
        return [
            statement("Facts", ["dynamodb:BatchGetItem", "dynamodb:GetItem"], _table_arns(DIGEST_READS)),
            # The digest book (persistence/digests.py), the ledger and the suppressed addresses: the uniques table.
            statement(
                "Ledger",
                [
                    "dynamodb:BatchGetItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                ],
                _table_arns(MAIL_FEEDBACK_TABLES),
            ),
            statement(
                "Mail",
                ["ses:SendEmail", "ses:SendRawEmail"],
                [sender_identity_arn(), {"Fn::Sub": CONFIGURATION_SET_ARN}],
            ),
        ]
    if logical_id == "RotateSigningKey":
        # The four rotation steps on the signing key only; the new key is generated in the function.
        return [
            statement(
                "Rotation",
                [
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:UpdateSecretVersionStage",
                ],
                [{"Ref": "JwtSigningSecret"}],
            )
        ]
    raise ValueError(f"no permissions are defined for {logical_id}")


def _gateway_responses() -> dict[str, Any]:
    responses = {}
    for kind, definition in GATEWAY_RESPONSES.items():
        response: dict[str, Any] = {
            "responseParameters": {
                f"gatewayresponse.header.{name}": "'" + value.replace("'", "") + "'"
                for name, value in definition.headers
            },
            "responseTemplates": {"application/json": definition.body()},
        }
        if definition.status is not None:
            response["statusCode"] = str(definition.status)
        responses[kind] = response
    return responses


def merge_template(stage: str) -> dict[str, Any]:
    """Everything `chalice package` does not make, for `stage`; deep-merged into its template."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    retention_days = 90 if stage == "prod" else 14
    resources: dict[str, Any] = {logical_id: _table(stage, logical_id) for logical_id in TABLES}
    resources["UploadsBucket"] = _bucket(stage)
    resources["UploadsBucketPolicy"] = _bucket_policy()
    resources.update(mail_resources(stage, stage_environment(stage)["MAIL_FROM"], _retention(stage)))
    resources.update(_media(stage))
    resources["JwtSigningSecret"] = {
        "Type": "AWS::SecretsManager::Secret",
        **_retention(stage),
        "Properties": {
            "Description": f"JWT signing key of the {stage} stage (generated by CloudFormation, never in the repo)",
            "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
        },
    }
    resources["StripeSecret"] = {
        "Type": "AWS::SecretsManager::Secret",
        **_retention(stage),
        "Properties": {
            "Description": f"Stripe keys of the {stage} stage: secret_key and webhook_secret (set by the operator)",
            "SecretString": STRIPE_SECRET_PLACEHOLDER,
        },
    }
    tables = {t: stage_environment(stage)[TABLES[t][0]] for t in TABLES}
    resources.update(notification_resources())
    resources.update(alarm_resources(stage, tables))
    resources.update(access_log_resources(stage, retention_days, _retention(stage)))
    resources.update(protection_resources(stage))
    resources.update(site_resources(stage))
    resources["RestAPI"] = {
        "DependsOn": ["ApiGatewayAccountReady"],
        "Properties": {
            "Name": api_name(stage),
            "TracingEnabled": True,
            "AccessLogSetting": {
                "DestinationArn": {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]},
                "Format": access_log_format(stage),
            },
            # Without it SAM adds a second stage named "Stage" beside v1 (checked by tests/deploy/test_rehearsal.py).
            "OpenApiVersion": "3.0.1",
            "DefinitionBody": {"x-amazon-apigateway-gateway-responses": _gateway_responses()},
            "MethodSettings": [
                {"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200},
                {
                    "ResourcePath": WEBHOOK_RESOURCE_PATH,
                    "HttpMethod": "POST",
                    "ThrottlingRateLimit": WEBHOOK_RATE_LIMIT,
                    "ThrottlingBurstLimit": WEBHOOK_BURST_LIMIT,
                },
            ],
        },
    }
    return {
        "Parameters": {
            "CorsAllowedOrigins": {
                "Type": "String",
                "Default": stage_environment(stage).get("CORS_ALLOWED_ORIGINS", ""),
                "Description": "Comma-separated browser origins allowed to call the API and upload to the bucket "
                "(make deploy CORS_ALLOWED_ORIGINS=https://app.example.com,...); empty allows none.",
                "AllowedPattern": "^(https?://[A-Za-z0-9.:*\\[\\]-]+(,https?://[A-Za-z0-9.:*\\[\\]-]+)*)?$",
            },
            # Not a reference to the site's distribution: the distribution's headers name the API, whose
            # functions would then name the distribution (a cycle). make deploy passes the site's URL instead.
            "WebAppUrl": {
                "Type": "String",
                "Default": stage_environment(stage)["WEB_APP_URL"],
                "Description": "The web app's address, for reset e-mails and the payment provider's return "
                "(make deploy sets the site's CloudFront URL, or WEB_APP_URL=https://... for a domain of yours).",
                "AllowedPattern": "^https?://[A-Za-z0-9.:\\[\\]-]+(/[A-Za-z0-9._~/-]*)?$",
            },
            **site_parameters(),
            "AlarmEmail": {
                "Type": "String",
                "Default": "",
                "AllowedPattern": "^([^@\\s]+@[^@\\s]+)?$",
                "Description": "An e-mail address every alarm notifies (confirm the subscription SNS sends); empty "
                "for none (the AlarmTopic output can be subscribed to otherwise).",
            },
            "SetApiGatewayLogRole": {
                "Type": "String",
                "Default": "true",
                "AllowedValues": ["true", "false"],
                "Description": "Whether this stack sets API Gateway's CloudWatch role, a setting of the whole account "
                "and region; false when another stack (the other stage) already does.",
            },
            **mail_parameters(),
            **protection_parameters(),
        },
        "Conditions": {
            "HasCorsOrigins": {"Fn::Not": [{"Fn::Equals": [{"Ref": "CorsAllowedOrigins"}, ""]}]},
            **site_conditions(),
            "HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]},
            "SetsApiGatewayLogRole": {"Fn::Equals": [{"Ref": "SetApiGatewayLogRole"}, "true"]},
            **mail_conditions(),
            **protection_conditions(),
        },
        "Rules": protection_rules(),
        "Resources": resources,
        "Outputs": {
            "UploadsBucketName": {"Value": {"Ref": "UploadsBucket"}},
            "MediaBaseUrl": {"Value": MEDIA_BASE_URL},
            "SigningSecretArn": {"Value": {"Ref": "JwtSigningSecret"}},
            "StripeSecretArn": {"Value": {"Ref": "StripeSecret"}},
            "StripeWebhookUrl": {
                "Value": {
                    "Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/v1/api/payments/webhook/"
                }
            },
            **site_outputs(),
            **mail_outputs(),
            **protection_outputs(),
            "AlarmTopicArn": {"Value": {"Ref": "AlarmTopic"}},
            "DashboardUrl": {
                "Value": {
                    "Fn::Sub": "https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}"
                    f"#dashboards:name={api_name(stage)}"
                }
            },
        },
    }


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    """Deep-merge `extra` into `base` as `chalice package --merge-template` does (dicts merge, the rest replaces)."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def function_template(stage: str, logical_id: str, timeout_seconds: int) -> dict[str, Any]:
    """One function's parts: name, environment, role, log group, tracing, live alias, reserved concurrency,
    alarms, and what invokes it besides the API (schedule rotation, SNS)."""
    retention_days = 90 if stage == "prod" else 14
    name = function_name(stage, logical_id)
    default, why = RESERVED_CONCURRENCY[logical_id]
    reserved = concurrency(logical_id, default, why)
    properties: dict[str, Any] = {
        "FunctionName": name,
        "Role": {"Fn::GetAtt": [f"{logical_id}Role", "Arn"]},
        "Tracing": "Active",
        "AutoPublishAlias": LIVE_ALIAS,
        "ReservedConcurrentExecutions": reserved["Property"],
        "Environment": {
            "Variables": {
                "JWT_SECRET_ARN": {"Ref": "JwtSigningSecret"},
                "UPLOADS_BUCKET": {"Ref": "UploadsBucket"},
                "MEDIA_BASE_URL": MEDIA_BASE_URL,
                "CORS_ALLOWED_ORIGINS": {"Ref": "CorsAllowedOrigins"},
                "WEB_APP_URL": {"Ref": "WebAppUrl"},
                "STRIPE_SECRET_ARN": {"Ref": "StripeSecret"},
                "MAIL_CONFIGURATION_SET": {"Ref": "MailConfigurationSet"},
            }
        },
    }
    if logical_id == "APIHandler":
        properties["DeploymentPreference"] = {
            "Type": API_DEPLOYMENT[stage],
            "Alarms": [{"Ref": alarm} for alarm in ROLLBACK_ALARMS],
        }
    resources: dict[str, Any] = {
        logical_id: {"Properties": properties},
        f"{logical_id}Role": function_role(logical_id, function_statements(logical_id)),
        f"{logical_id}LogGroup": {
            "Type": "AWS::Logs::LogGroup",
            **_retention(stage),
            "Properties": {"LogGroupName": f"/aws/lambda/{name}", "RetentionInDays": retention_days},
        },
        **function_alarms(logical_id, name, timeout_seconds),
    }
    if logical_id in ("Notifier", "SendDigests"):
        # The one-click unsubscribe links of reminders and digests call the API's v1 stage.
        properties["Environment"]["Variables"]["API_URL"] = {
            "Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/v1"
        }
    if logical_id == "MailFeedback":
        resources.update(feedback_subscription())
    if logical_id == "Notifier":
        resources.update(notifier_resources(stage, name))
    if logical_id == "RotateSigningKey":
        resources["RotateSigningKeyInvokePermission"] = {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": {"Ref": "RotateSigningKey.Alias"},
                "Action": "lambda:InvokeFunction",
                "Principal": "secretsmanager.amazonaws.com",
                "SourceArn": {"Ref": "JwtSigningSecret"},
            },
        }
        resources["JwtSigningSecretRotation"] = {
            "Type": "AWS::SecretsManager::RotationSchedule",
            "DependsOn": ["RotateSigningKeyInvokePermission"],
            "Properties": {
                "SecretId": {"Ref": "JwtSigningSecret"},
                "RotationLambdaARN": {"Ref": "RotateSigningKey.Alias"},
                "RotationRules": {"ScheduleExpression": SIGNING_KEY_ROTATION},
                # A deploy never rotates the key by itself: only the schedule (or an operator) does.
                "RotateImmediatelyOnUpdate": False,
            },
        }
    return {
        "Parameters": reserved["Parameters"],
        "Conditions": reserved["Conditions"],
        "Resources": resources,
    }


def _invoke_live_aliases(resources: dict[str, Any], functions: list[str]) -> None:
    """Point API Gateway (integrations, authorizer) and its invoke permissions at each function's live alias:
    chalice names the function itself, which would run $LATEST and bypass a canary."""
    api = resources["RestAPI"]["Properties"]
    body = json.dumps(api["DefinitionBody"])
    for logical_id in functions:
        # The alias's ARN spelled out (SAM's ${X.Alias} is not resolved inside a DefinitionBody by cfn-lint).
        alias_arn = f"arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:${{{logical_id}}}"
        body = body.replace(f"${{{logical_id}.Arn}}", f"{alias_arn}:{LIVE_ALIAS}")
    api["DefinitionBody"] = json.loads(body)
    for resource in resources.values():
        if resource["Type"] != "AWS::Lambda::Permission":
            continue
        target = resource["Properties"]["FunctionName"]
        named = target.get("Ref") or target.get("Fn::GetAtt", [None])[0]
        if named in functions:
            resource["Properties"]["FunctionName"] = {"Ref": f"{named}.Alias"}


def finish_template(stage: str, template: dict[str, Any]) -> dict[str, Any]:
    """What only the packaged template can tell: the parts of each function the app has, a role per function
    instead of chalice's shared DefaultRole, API Gateway invoking the live aliases, the dashboard of those
    functions, and the accepted checkov findings."""
    resources = template["Resources"]
    functions = [k for k, r in resources.items() if r["Type"] == "AWS::Serverless::Function"]
    unknown = sorted(set(functions) - set(FUNCTIONS))
    missing = sorted(set(REQUIRED_FUNCTIONS) - set(functions))
    if unknown or missing:
        raise SystemExit(f"functions without their parts in deploy/template.py: {unknown}; missing: {missing}")
    functions = [f for f in FUNCTIONS if f in functions]
    for logical_id in functions:
        timeout = resources[logical_id]["Properties"]["Timeout"]
        _merge(template, function_template(stage, logical_id, timeout))
    del resources["DefaultRole"]
    _invoke_live_aliases(resources, functions)
    tables = [stage_environment(stage)[TABLES[t][0]] for t in TABLES]  # the search index's among them
    resources["Dashboard"] = dashboard(stage, {f: function_name(stage, f) for f in functions}, tables)
    apply_checkov_skips(template)
    return template
