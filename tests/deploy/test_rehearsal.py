"""The deploy rehearsal (deploy/rehearsal.py): `make deploy`'s commands through the real AWS CLI against moto's
server, then sign-up, sign-in, the authorizer and /api/me/ through the functions unpacked from the local S3."""

from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path

import pytest

from deploy.rehearsal import (
    CLI_TEMPLATE_LIMIT,
    DOC,
    NOT_EMULATED,
    USER,
    Rehearsal,
    api_stages,
    documented_not_emulated,
    for_moto,
    makefile_package_command,
    not_emulated_markdown,
    problems,
    rehearse,
    sam_transform,
)

ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.fixture(scope="module")
def rehearsal(packaged: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Rehearsal:
    return rehearse("dev", packaged["dev"], tmp_path_factory.mktemp("rehearsal-work"))


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_the_stack_completes_with_every_resource_moto_can_create(rehearsal):
    assert problems(rehearsal) == []
    assert rehearsal.stack == "sessions-marketplace-dev"
    assert rehearsal.stack_status == "CREATE_COMPLETE"
    assert rehearsal.not_created == {}


def test_the_bookings_and_events_tables_stream_their_changes_to_the_notifier(rehearsal):
    assert rehearsal.streams == {"BookingsTable": "NEW_AND_OLD_IMAGES", "EventsTable": "NEW_AND_OLD_IMAGES"}
    notifier = "sessions-marketplace-dev-notifier"
    assert [(m["table"], m["function"].split(":")[0]) for m in rehearsal.event_sources] == [
        ("BookingsTable", notifier),
        ("EventsTable", notifier),
    ]
    assert [m["on_failure"] for m in rehearsal.event_sources] == [True, True]


def test_every_table_is_created_with_the_templates_keys_and_indexes_local_ones_included(rehearsal):
    resources = rehearsal.packaged_template["Resources"]
    tables = {k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::DynamoDB::Table"}
    assert rehearsal.tables == {
        logical_id: {
            "KeySchema": properties["KeySchema"],
            **{
                kind: {i["IndexName"]: i["KeySchema"] for i in properties[kind]}
                for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")
                if kind in properties
            },
        }
        for logical_id, properties in tables.items()
    }
    assert sorted(rehearsal.tables["SearchTable"]["LocalSecondaryIndexes"]) == ["by-created", "by-start"]


def test_sam_makes_the_v1_stage_alone(rehearsal):
    assert rehearsal.stages == ["v1"]
    without = copy.deepcopy(rehearsal.packaged_template)
    del without["Resources"]["RestAPI"]["Properties"]["OpenApiVersion"]
    assert api_stages(sam_transform(without)) == ["Stage", "v1"]


def test_the_cli_refuses_the_template_without_the_bucket_deploy_command_gives(rehearsal):
    assert rehearsal.template_bytes > CLI_TEMPLATE_LIMIT
    assert rehearsal.without_bucket == (
        "Templates with a size greater than 51,200 bytes must be deployed via an S3 Bucket. Please add the "
        "--s3-bucket parameter to your command. The local template will be copied to that S3 bucket and then "
        "deployed."
    )


def test_sign_up_sign_in_authorize_and_read_me_through_the_deployed_functions(rehearsal):
    answers = rehearsal.answers
    registered = answers["register"]["body"]
    assert answers["register"]["status"] == 201
    assert ULID.match(registered["id"]) and TIMESTAMP.match(registered["date_joined"])
    assert registered == {
        **USER,
        "id": registered["id"],
        "role": "USER",
        "avatar": None,
        "is_staff": False,
        "date_joined": registered["date_joined"],
    }

    assert answers["token"]["status"] == 200
    assert sorted(answers["token"]["body"]) == ["access", "refresh"]
    access = _claims(answers["token"]["body"]["access"])
    assert (access["token_type"], access["user_id"]) == ("access", registered["id"])

    policy = answers["authorizer"]
    assert policy["principalId"] == registered["id"]
    assert policy["context"] == {
        "role": "USER",
        "is_staff": "false",
        "username": "rehearsal",
        "exp": str(access["exp"]),
    }
    [statement] = policy["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert "arn:aws:execute-api:us-east-1:123456789012:rehearsal/v1/GET/api/me" in statement["Resource"]

    me = {**registered, "email_pending": None, "display_name": "", "bio": ""}
    assert answers["me"] == {"status": 200, "body": me}


def test_the_docs_list_what_moto_cannot_create():
    assert documented_not_emulated(DOC.read_text()) == not_emulated_markdown(), (
        "replace the list of resource types under '## The deploy rehearsal' in docs/deploying.md with the output "
        "of `.venv/bin/python -m deploy.rehearsal --doc-list`"
    )


def test_the_package_command_is_the_makefiles():
    assert makefile_package_command("dev", "my-bucket") == [
        "aws",
        "cloudformation",
        "package",
        "--template-file",
        "build/dev/sam.json",
        "--s3-bucket",
        "my-bucket",
        "--s3-prefix",
        "sessions-marketplace-dev",
        "--output-template-file",
        "build/dev/packaged.json",
    ]


def test_a_resource_type_moto_did_not_create_and_not_listed_is_a_problem_that_says_what_to_do():
    found = Rehearsal(
        stack="s",
        stack_status="CREATE_COMPLETE",
        template_bytes=CLI_TEMPLATE_LIMIT + 1,
        template_types=set(NOT_EMULATED) | {"AWS::CloudWatch::Alarm"},
        stages=["v1"],
        not_created={"ErrorsAlarm": "AWS::CloudWatch::Alarm"},
    )
    assert problems(found) == [
        'moto did not create ErrorsAlarm: moto cannot create AWS::CloudWatch::Alarm: add "AWS::CloudWatch::Alarm": '
        '"<what that leaves unshown>" to NOT_EMULATED in deploy/rehearsal.py, and the line `python -m '
        "deploy.rehearsal --doc-list` then prints to the list under '## The deploy rehearsal' in docs/deploying.md"
    ]


def test_every_other_failure_is_a_problem():
    found = Rehearsal(
        stack="s", stack_status="ROLLBACK_COMPLETE", template_bytes=CLI_TEMPLATE_LIMIT, stages=["Stage", "v1"]
    )
    assert problems(found) == [
        "stack s is ROLLBACK_COMPLETE, not CREATE_COMPLETE",
        *(
            f"NOT_EMULATED names {kind}, which the template no longer has: remove it there and in the docs"
            for kind in sorted(NOT_EMULATED)
        ),
        "the API's stages are ['Stage', 'v1'], not v1 alone (RestAPI needs OpenApiVersion)",
        f"the template is {CLI_TEMPLATE_LIMIT} bytes: the CLI's upload rule was not exercised",
    ]


def test_resources_moto_cannot_create_leave_stand_ins_in_what_refers_to_them():
    kept_type = "AWS::Lambda::Function"
    template = {
        "Outputs": {"Site": {"Value": {"Fn::Sub": "https://${SiteDistribution.DomainName}/"}}},
        "Resources": {
            "SiteDistribution": {"Type": "AWS::CloudFront::Distribution", "Properties": {}},
            "Key": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
            "Api": {
                "Type": "AWS::ApiGateway::RestApi",
                "Properties": {"Body": {"info": {"title": "sessions"}}},
            },
            "Live": {"Type": "AWS::Lambda::Alias", "Properties": {"FunctionName": {"Ref": "Fn"}}},
            "Invoke": {"Type": "AWS::Lambda::Permission", "Properties": {"FunctionName": {"Ref": "Live"}}},
            "Fn": {
                "Type": kept_type,
                "DependsOn": ["Key", "Api"],
                "Properties": {
                    "Environment": {
                        "Variables": {
                            "KEY": {"Ref": "Key"},
                            "MEDIA": {"Fn::Sub": ["https://${SiteDistribution.DomainName}/${Path}", {"Path": "m"}]},
                            "SITE": {"Fn::GetAtt": ["SiteDistribution", "DomainName"]},
                            "SITE_ID": {"Ref": "SiteDistribution"},
                            "SITE_ARN": {"Fn::GetAtt": "SiteDistribution.Arn"},
                            "API": {"Ref": "Api"},
                        }
                    }
                },
            },
        },
    }
    moto_template = for_moto(template, {"Key": "arn:aws:secretsmanager:us-east-1:123456789012:secret:key"})
    assert moto_template == {
        "Outputs": {"Site": {"Value": {"Fn::Sub": "https://sitedistribution-domainname.not-emulated.invalid/"}}},
        "Resources": {
            "Api": {
                "Type": "AWS::ApiGateway::RestApi",
                "Properties": {"Body": {"info": {"title": "sessions"}}, "Name": "sessions"},
            },
            "Invoke": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {"FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]}},
            },
            "Fn": {
                "Type": kept_type,
                "DependsOn": ["Api"],
                "Properties": {
                    "Environment": {
                        "Variables": {
                            "KEY": "arn:aws:secretsmanager:us-east-1:123456789012:secret:key",
                            "MEDIA": {
                                "Fn::Sub": [
                                    "https://sitedistribution-domainname.not-emulated.invalid/${Path}",
                                    {"Path": "m"},
                                ]
                            },
                            "SITE": "sitedistribution-domainname.not-emulated.invalid",
                            "SITE_ID": "SiteDistribution",
                            "SITE_ARN": "arn:aws:cloudfront:us-east-1:123456789012:SiteDistribution",
                            "API": {"Ref": "Api"},
                        }
                    }
                },
            },
        },
    }
