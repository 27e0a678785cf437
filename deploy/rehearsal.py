"""The deploy rehearsal (docs/deploying.md, "The deploy rehearsal"): `make deploy`'s AWS commands, run by the
real AWS CLI against a local AWS (moto's server), then the deployed functions called from the zips the CLI
uploaded, with the environment their Lambda functions were created with.

    python -m deploy.rehearsal [dev|prod]     # packages, rehearses, prints what it found; exit 1 on a problem

Steps: `make package`'s deploy.package.package; the Makefile's own `aws cloudformation package` command (read
from `make -n deploy`), uploading to a bucket of the local S3; the SAM transform (aws-sam-translator: moto has
none); `aws cloudformation deploy` as deploy.publish.deploy_command builds it (change set, template uploaded
to the artifact bucket); the stack's resources read back; sign-up, sign-in, the authorizer and GET /api/me/
through the functions unpacked from the local S3, in a process whose sys.path is only those zips.

Resources of a type in NOT_EMULATED are left out of what moto deploys (their references become stand-in
values); the functions' secrets are made through Secrets Manager's API instead, as stand-ins."""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import re
import secrets
import shlex
import shutil
import socket
import string
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.publish import PARAMETER, deploy_command
from deploy.template import ROOT, STAGES, stage_environment

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's
ARTIFACT_BUCKET = "rehearsal-artifacts"
# `aws cloudformation deploy` refuses a template over this many bytes unless it is given a bucket to upload to.
CLI_TEMPLATE_LIMIT = 51_200
SOURCE_IP = "203.0.113.7"
PASSWORD = "rehearsal-Passw0rd!"
USER = {"username": "rehearsal", "email": "rehearsal@example.com"}

# The resource types moto's CloudFormation cannot create, and what that leaves unshown. docs/deploying.md lists
# the same (a test compares them); a type added to the template that moto cannot create goes in both.
NOT_EMULATED: dict[str, str] = {
    "AWS::ApiGateway::Account": "the account's CloudWatch role for API Gateway's logs",
    "AWS::ApiGateway::BasePathMapping": "the API's custom domain (only with its parameters)",
    "AWS::ApiGateway::Deployment": "the API's routes, authorizer and gateway responses: moto makes the REST API "
    "without importing its body, and cannot deploy an API without methods",
    "AWS::ApiGateway::DomainName": "the API's custom domain (only with its parameters)",
    "AWS::ApiGateway::Stage": "the v1 stage (its throttling and method settings); the rehearsal calls the "
    "functions directly, with the events API Gateway would send",
    "AWS::CloudFormation::WaitConditionHandle": "an ordering handle: moto accepts it and makes nothing",
    "AWS::CloudFront::CachePolicy": "the media distribution's caching by path, the API's public reads' at the edge",
    "AWS::CloudFront::Distribution": "the site's and the media's distributions (their domains are stand-ins)",
    "AWS::CloudFront::Function": "the site's rewrite of page paths to index.html",
    "AWS::CloudFront::OriginAccessControl": "the distributions' signed reads of their buckets",
    "AWS::CloudFront::ResponseHeadersPolicy": "the site's security headers (CSP, HSTS)",
    "AWS::CloudWatch::Alarm": "the alarms (checked in the template only)",
    "AWS::CodeDeploy::Application": "the gradual deployment of new function versions, and its rollback on alarms",
    "AWS::CodeDeploy::DeploymentGroup": "the gradual deployment of new function versions, and its rollback on alarms",
    "AWS::Lambda::Alias": "the functions' live aliases: what refers to an alias is given its function instead, "
    "and the rehearsal calls the functions as created",
    "AWS::Logs::MetricFilter": "the metric filters on the logs",
    "AWS::S3::BucketPolicy": "the buckets' policies (TLS only, reads by the distributions only)",
    "AWS::SES::ConfigurationSet": "the mail configuration set",
    "AWS::SES::ConfigurationSetEventDestination": "the bounce and complaint feed from SES to SNS",
    "AWS::SES::EmailIdentity": "the stage's sender identity (no e-mail is sent in the rehearsal)",
    "AWS::SNS::Subscription": "the alarm and mail-feedback subscriptions",
    "AWS::SNS::TopicPolicy": "the topics' policies",
    "AWS::SecretsManager::RotationSchedule": "the signing key's rotation schedule (the rotation function is "
    "deployed, never run)",
    "AWS::SecretsManager::Secret": "the signing key and Stripe secrets: stand-ins of the same values are made "
    "through Secrets Manager's API and their ARNs given to the functions",
    "AWS::WAFv2::WebACL": "the API's web ACL (only with its parameter)",
    "AWS::WAFv2::WebACLAssociation": "the API's web ACL (only with its parameter)",
}
DOC = ROOT / "docs" / "deploying.md"
DOC_SECTION = "## The deploy rehearsal"


class RehearsalError(Exception):
    """A step of the rehearsal failed: the message says which and what to do."""


@dataclass
class Rehearsal:
    """What a rehearsal saw."""

    stack: str
    stack_status: str = ""
    template_bytes: int = 0  # the template `aws cloudformation deploy` was given
    template_types: set[str] = field(default_factory=set)  # every resource type of the SAM-translated template
    stages: list[str] = field(default_factory=list)  # the API stages the SAM-translated template makes
    packaged_template: dict[str, Any] = field(default_factory=dict)  # what `aws cloudformation package` wrote
    not_created: dict[str, str] = field(default_factory=dict)  # logical id -> type, of what moto deployed
    answers: dict[str, Any] = field(default_factory=dict)  # step -> the function's answer
    without_bucket: str = ""  # what the CLI says to the same deploy without --s3-bucket
    streams: dict[str, str] = field(default_factory=dict)  # created table -> its stream's view type
    event_sources: list[dict[str, Any]] = field(default_factory=list)  # the created event source mappings
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)  # created table -> its keys and indexes
    seconds: dict[str, float] = field(default_factory=dict)


def unlisted(kind: str) -> str:
    """What to do about a resource type moto cannot create that NOT_EMULATED does not name."""
    return (
        f'moto cannot create {kind}: add "{kind}": "<what that leaves unshown>" to NOT_EMULATED in '
        f"deploy/rehearsal.py, and the line `python -m deploy.rehearsal --doc-list` then prints to the list under "
        f"'{DOC_SECTION}' in docs/deploying.md"
    )


def unsupported(types: set[str]) -> set[str]:
    """The types moto's CloudFormation has no model for (it skips them, and a GetAtt of one fails the stack)."""
    from moto.cloudformation.parsing import get_model_map

    return {kind for kind in types if kind not in get_model_map() and not kind.startswith("Custom::")}


def not_emulated_markdown() -> str:
    """The list docs/deploying.md holds under DOC_SECTION, one line a type."""
    return "\n".join(f"- `{kind}`: {reason}." for kind, reason in sorted(NOT_EMULATED.items()))


def documented_not_emulated(doc: str) -> str:
    """The bullet list of the rehearsal's section of docs/deploying.md whose items name a resource type."""
    section = doc.split(DOC_SECTION, 1)[1].split("\n## ", 1)[0] if DOC_SECTION in doc else ""
    return "\n".join(line for line in section.splitlines() if line.startswith("- `AWS::"))


def problems(found: Rehearsal) -> list[str]:
    """Everything the rehearsal shows wrong; each message says what to change."""
    wrong = []
    if found.stack_status != "CREATE_COMPLETE":
        wrong.append(f"stack {found.stack} is {found.stack_status or 'missing'}, not CREATE_COMPLETE")
    for logical_id, kind in sorted(found.not_created.items()):
        wrong.append(f"moto did not create {logical_id}: {unlisted(kind)}")
    for kind in sorted(set(NOT_EMULATED) - found.template_types):
        wrong.append(f"NOT_EMULATED names {kind}, which the template no longer has: remove it there and in the docs")
    if found.stages != ["v1"]:
        wrong.append(f"the API's stages are {found.stages}, not v1 alone (RestAPI needs OpenApiVersion)")
    if found.template_bytes <= CLI_TEMPLATE_LIMIT:
        wrong.append(f"the template is {found.template_bytes} bytes: the CLI's upload rule was not exercised")
    return wrong


# --- The local AWS ---


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def local_aws() -> Iterator[str]:
    """moto's server on a free port; yields its URL. "localhost": moto reads a template URL's bucket from
    its path only for that host (any other is taken as <bucket>.<host>)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # moto warns of every type it skips, NOT_EMULATED's included: the rehearsal checks those itself.
    logging.getLogger("moto.cloudformation.parsing").setLevel(logging.ERROR)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://localhost:{port}"
    finally:
        server.stop()


def aws_environment(endpoint: str, home: Path) -> dict[str, str]:
    """What the CLI and the functions need to reach the local AWS, and nothing of the caller's AWS setup."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "AWS_ACCESS_KEY_ID": "rehearsal",
        "AWS_SECRET_ACCESS_KEY": "rehearsal",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_PAGER": "",
    }


def _client(service: str, endpoint: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="rehearsal",
        aws_secret_access_key="rehearsal",
    )


def aws_cli(argv: list[str], env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run an `aws ...` argv with the AWS CLI installed beside this interpreter."""
    if argv[0] != "aws":
        raise RehearsalError(f"not an AWS CLI command: {argv}")
    return subprocess.run(
        [sys.executable, "-m", "awscli", *argv[1:]], cwd=cwd, env=dict(env), capture_output=True, text=True
    )


# --- make deploy's commands ---


def makefile_commands(stage: str, bucket: str) -> list[list[str]]:
    """The commands `make deploy STAGE=<stage> ARTIFACT_BUCKET=<bucket>` would run (`make -n`), split."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    make = shutil.which("make")
    if make is None:
        raise RehearsalError("the rehearsal reads `make deploy`'s commands with make, which is not installed")
    printed = subprocess.run(
        [make, "-n", "-s", "deploy", f"STAGE={stage}", f"ARTIFACT_BUCKET={bucket}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [shlex.split(line) for line in printed.replace("\\\n", " ").splitlines() if line.strip()]


def makefile_package_command(stage: str, bucket: str) -> list[str]:
    """The Makefile's `aws cloudformation package` command."""
    found = [c for c in makefile_commands(stage, bucket) if c[:3] == ["aws", "cloudformation", "package"]]
    if len(found) != 1:
        raise RehearsalError("`make -n deploy` does not run exactly one `aws cloudformation package`")
    return found[0]


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


# --- The SAM transform and what moto deploys ---


def sam_transform(template: dict[str, Any]) -> dict[str, Any]:
    """What CloudFormation's AWS::Serverless transform makes of the packaged template (the stage's region;
    the template names no managed policy for SAM to look up in IAM)."""
    import boto3
    from samtranslator.parser.parser import Parser  # type: ignore[import-untyped]
    from samtranslator.translator.translator import Translator  # type: ignore[import-untyped]

    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    # The translator changes what it is given.
    return dict(translator.translate(copy.deepcopy(template), parameter_values={}, get_managed_policy_map=dict))


def api_stages(template: Mapping[str, Any]) -> list[str]:
    """The stages a translated template makes: its Stage resources, and a Deployment's StageName (SAM's
    "Stage" stage, without OpenApiVersion)."""
    return sorted(
        r["Properties"]["StageName"]
        for r in template["Resources"].values()
        if r["Type"] in ("AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment") and "StageName" in r["Properties"]
    )


def _secret_value(properties: Mapping[str, Any]) -> str:
    """The value CloudFormation would give a secret: its SecretString, or one generated as it asks."""
    if "SecretString" in properties:
        return str(properties["SecretString"])
    generate = properties.get("GenerateSecretString", {})
    value = "".join(
        secrets.choice(string.ascii_letters + string.digits) for _ in range(generate.get("PasswordLength", 32))
    )
    if "GenerateStringKey" in generate:
        return json.dumps(
            {**json.loads(generate.get("SecretStringTemplate", "{}")), generate["GenerateStringKey"]: value}
        )
    return value


def make_stand_ins(template: dict[str, Any], stack: str, endpoint: str) -> dict[str, str]:
    """Make, through their APIs, what the functions read from resources moto's CloudFormation cannot create;
    returns each one's Ref value (logical id -> ARN)."""
    secretsmanager = _client("secretsmanager", endpoint)
    made = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::SecretsManager::Secret":
            value = _secret_value(resource.get("Properties", {}))
            made[logical_id] = secretsmanager.create_secret(Name=f"{stack}-{logical_id}", SecretString=value)["ARN"]
    return made


def condition_values(template: Mapping[str, Any], parameters: Mapping[str, str]) -> dict[str, bool]:
    """Each condition of the template, with `parameters` (else the parameters' defaults)."""
    values = {k: str(p.get("Default", "")) for k, p in template.get("Parameters", {}).items()} | dict(parameters)
    conditions = template.get("Conditions", {})

    def evaluate(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        ((function, argument),) = node.items()
        if function == "Ref":
            return values[argument]
        if function == "Condition":
            return evaluate(conditions[argument])
        if function == "Fn::Equals":
            return evaluate(argument[0]) == evaluate(argument[1])
        if function == "Fn::Not":
            return not evaluate(argument[0])
        if function == "Fn::And":
            return all(evaluate(a) for a in argument)
        if function == "Fn::Or":
            return any(evaluate(a) for a in argument)
        raise RehearsalError(f"the rehearsal cannot evaluate {function} in a condition: teach condition_values")

    return {name: bool(evaluate(body)) for name, body in conditions.items()}


def _stand_in(template: Mapping[str, Any], logical_id: str, attribute: str | None) -> str:
    """A value shaped like what CloudFormation would give: a Ref a name, an ARN an ARN, anything else a host
    name (domain names end up in URLs the functions check)."""
    if attribute is None:
        return logical_id
    if attribute.endswith("Arn"):
        service = template["Resources"][logical_id]["Type"].split("::")[1].lower()
        return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{logical_id}"
    return f"{logical_id}-{attribute.replace('.', '-')}.not-emulated.invalid".lower()


def _replace(value: Any, template: Mapping[str, Any], gone: set[str], refs: Mapping[str, Any]) -> Any:
    """`value` with every Ref and GetAtt of a resource in `gone` replaced by its stand-in (its ARN in `refs`)."""
    if isinstance(value, list):
        return [_replace(v, template, gone, refs) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] in gone:
        return refs.get(value["Ref"]) or _stand_in(template, value["Ref"], None)
    if set(value) == {"Fn::GetAtt"}:
        target = value["Fn::GetAtt"]
        logical_id, attribute = target.split(".", 1) if isinstance(target, str) else target
        if logical_id in gone:
            return _stand_in(template, logical_id, str(attribute))
    if set(value) == {"Fn::Sub"}:
        text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]

        def sub(match: re.Match[str]) -> str:
            logical_id, _, attribute = match.group(1).partition(".")
            if logical_id in gone and logical_id not in variables:
                ref = refs.get(logical_id) if not attribute else None
                return ref if isinstance(ref, str) else _stand_in(template, logical_id, attribute or None)
            return match.group(0)

        text = re.sub(r"\$\{([A-Za-z0-9]+(?:\.[A-Za-z0-9.]+)?)\}", sub, text)
        return {"Fn::Sub": text if not variables else [text, _replace(variables, template, gone, refs)]}
    return {k: _replace(v, template, gone, refs) for k, v in value.items()}


def for_moto(template: dict[str, Any], refs: Mapping[str, Any]) -> dict[str, Any]:
    """The translated template without the resources of NOT_EMULATED types, their references made stand-ins."""
    gone = {k for k, r in template["Resources"].items() if r["Type"] in NOT_EMULATED}
    # What refers to an alias (a permission, a schedule's target) gets its function's ARN.
    refs = {
        **{
            k: {"Fn::GetAtt": [r["Properties"]["FunctionName"]["Ref"], "Arn"]}
            for k, r in template["Resources"].items()
            if r["Type"] == "AWS::Lambda::Alias"
        },
        **refs,
    }
    kept = {}
    for logical_id, resource in template["Resources"].items():
        if logical_id in gone:
            continue
        resource = _replace(resource, template, gone, refs)
        depends = resource.get("DependsOn")
        if depends is not None:
            depends = [d for d in ([depends] if isinstance(depends, str) else depends) if d not in gone]
            resource = {k: v for k, v in resource.items() if k != "DependsOn"} | (
                {"DependsOn": depends} if depends else {}
            )
        if resource["Type"] == "AWS::ApiGateway::RestApi" and "Name" not in resource.get("Properties", {}):
            # CloudFormation names an API from its body's title; moto's needs the Name property.
            properties = resource["Properties"]
            resource = {**resource, "Properties": {**properties, "Name": properties["Body"]["info"]["title"]}}
        kept[logical_id] = resource
    rest = {k: _replace(v, template, gone, refs) for k, v in template.items() if k != "Resources"}
    return {**rest, "Resources": kept}


# --- The deployed functions ---

# Runs in a process of its own with `python -I -S`: sys.path holds the standard library and the unpacked zips
# (/var/task and the layer's /opt/python paths), nothing of the repo or of a virtualenv.
INVOKE = """
import json, sys, sysconfig
task, layer, handler = sys.argv[1:4]
stdlib = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
sys.path[:0] = [task, layer + "/python", layer + "/python/lib/python%d.%d/site-packages" % sys.version_info[:2]]
module, _, name = handler.rpartition(".")
function = getattr(__import__(module, fromlist=[name]), name)

class Context:
    aws_request_id = "rehearsal"; function_name = "rehearsal"; memory_limit_in_mb = 1024
    def get_remaining_time_in_millis(self): return 15000

answers = [function(event, Context()) for event in json.load(sys.stdin)]
outside = sorted(m.__file__ for m in list(sys.modules.values())
                 if getattr(m, "__file__", None) and not m.__file__.startswith((task, layer, *stdlib)))
print(json.dumps({"answers": answers, "outside": outside}))
"""


def unpack(s3: Any, bucket: str, key: str, folder: Path) -> Path:
    archive = folder.with_suffix(".zip")
    s3.download_file(bucket, key, str(archive))
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(folder)
    return folder


def invoke(function: Mapping[str, Any], task: Path, layer: Path, env: Mapping[str, str], events: list[Any]) -> Any:
    """Call a deployed function (its configuration as Lambda's GetFunction gives it) with each of `events`."""
    lambda_env = {
        **env,
        **function.get("Environment", {}).get("Variables", {}),
        "AWS_LAMBDA_FUNCTION_NAME": function["FunctionName"],
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.get("MemorySize", 128)),
        "LAMBDA_TASK_ROOT": str(task),
        "TZ": ":UTC",
    }
    ran = subprocess.run(
        [sys.executable, "-I", "-S", "-c", INVOKE, str(task), str(layer), function["Handler"]],
        input=json.dumps(events),
        env=lambda_env,
        capture_output=True,
        text=True,
    )
    if ran.returncode != 0:
        raise RehearsalError(f"{function['FunctionName']} failed:\n{ran.stderr[-4000:]}")
    result = json.loads(ran.stdout.splitlines()[-1])
    if result["outside"]:
        raise RehearsalError(f"{function['FunctionName']} loaded modules from outside its zips: {result['outside']}")
    return result["answers"]


def proxy_event(
    method: str,
    path: str,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    authorizer: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The REST API's proxy event for `path` (a route of the stage, with API Gateway's trailing-slash match)."""
    resource = path.rstrip("/") or "/"
    sent = {
        "Host": "rehearsal.execute-api.us-east-1.amazonaws.com",
        "Content-Type": "application/json",
        **(headers or {}),
    }
    context: dict[str, Any] = {
        "resourcePath": resource,
        "httpMethod": method,
        "path": f"/v1{path}",
        "stage": "v1",
        "requestId": f"rehearsal-{method}-{path}",
        "domainName": sent["Host"],
        "identity": {"sourceIp": SOURCE_IP},
    }
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": sent,
        "multiValueHeaders": {k: [v] for k, v in sent.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
        "requestContext": context,
    }


def _json_answer(answer: Mapping[str, Any]) -> dict[str, Any]:
    return {"status": answer["statusCode"], "body": json.loads(answer["body"]) if answer.get("body") else None}


# --- The rehearsal ---


def rehearse(stage: str, packaged: Path, work: Path) -> Rehearsal:
    """Rehearse `make deploy` of the `make package` output in `packaged` (left as it is), working in `work`."""
    started = time.monotonic()
    package_argv = makefile_package_command(stage, ARTIFACT_BUCKET)
    template_path = Path(_option(package_argv, "--template-file"))
    stack = _option(package_argv, "--s3-prefix")
    found = Rehearsal(stack=stack)
    # The Makefile's paths are relative to the repo: its build/<stage>/ is laid out under `work` instead.
    shutil.copytree(packaged, work / template_path.parent, dirs_exist_ok=True)
    with local_aws() as endpoint:
        env = aws_environment(endpoint, work)
        s3 = _client("s3", endpoint)
        s3.create_bucket(Bucket=ARTIFACT_BUCKET)

        ran = aws_cli(package_argv, env, work)
        if ran.returncode != 0:
            raise RehearsalError(f"aws cloudformation package failed:\n{ran.stderr}")
        from awscli.customizations.cloudformation.yamlhelper import yaml_parse  # type: ignore[import-untyped]

        packaged_template = yaml_parse((work / _option(package_argv, "--output-template-file")).read_text())
        found.seconds["package"] = time.monotonic() - started

        translated = sam_transform(packaged_template)
        resources = translated["Resources"]
        found.template_types = {r["Type"] for r in resources.values()}
        found.packaged_template = packaged_template
        found.stages = api_stages(translated)
        missing = unsupported(found.template_types) - set(NOT_EMULATED)
        if missing:
            raise RehearsalError("\n".join(unlisted(kind) for kind in sorted(missing)))
        refs = make_stand_ins(translated, stack, endpoint)
        deployable = for_moto(translated, refs)
        deployed_path = work / template_path.parent / "deployed.json"
        deployed_path.write_text(json.dumps(deployable, indent=1))
        found.template_bytes = deployed_path.stat().st_size
        found.seconds["transform"] = time.monotonic() - started

        origins = stage_environment(stage).get("CORS_ALLOWED_ORIGINS", "")
        parameters = {PARAMETER: origins}  # what deploy_command overrides; the rest keep their defaults
        deploy_argv = deploy_command(
            str(deployed_path.relative_to(work)), stack, origins, artifact_bucket=ARTIFACT_BUCKET
        )
        # The same command without its bucket: the rule that stopped `make deploy` before it had one.
        bucketless = [a for i, a in enumerate(deploy_argv) if "--s3-bucket" not in deploy_argv[max(i - 1, 0) : i + 1]]
        found.without_bucket = aws_cli(bucketless, env, work).stderr.strip()
        ran = aws_cli(deploy_argv, env, work)
        if ran.returncode != 0:
            raise RehearsalError(f"{shlex.join(deploy_argv)} failed:\n{ran.stdout[-2000:]}\n{ran.stderr[-4000:]}")
        found.seconds["deploy"] = time.monotonic() - started

        cloudformation = _client("cloudformation", endpoint)
        found.stack_status = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack)
        complete = {
            r["LogicalResourceId"]
            for page in pages
            for r in page["StackResourceSummaries"]
            if r["ResourceStatus"] == "CREATE_COMPLETE"
        }
        active = condition_values(deployable, parameters)
        found.not_created = {
            k: r["Type"]
            for k, r in deployable["Resources"].items()
            if k not in complete and active.get(r.get("Condition", ""), True)
        }

        found.streams, found.event_sources = streams_and_sources(deployable, endpoint)
        found.tables = table_shapes(deployable, endpoint)
        found.answers = call_functions(deployable, endpoint, env, work)
        found.seconds["functions"] = time.monotonic() - started
    return found


def streams_and_sources(template: dict[str, Any], endpoint: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The created tables' streams, and the created mappings from streams to functions (the notifier's)."""
    dynamodb, aws_lambda = _client("dynamodb", endpoint), _client("lambda", endpoint)
    streams, by_arn = {}, {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        table = dynamodb.describe_table(TableName=resource["Properties"]["TableName"])["Table"]
        if table.get("StreamSpecification", {}).get("StreamEnabled"):
            streams[logical_id] = table["StreamSpecification"]["StreamViewType"]
            by_arn[table["LatestStreamArn"]] = logical_id
    sources = [
        {
            "table": by_arn.get(mapping["EventSourceArn"], mapping["EventSourceArn"]),
            "function": mapping["FunctionArn"].rsplit(":function:", 1)[-1],
            "on_failure": bool(mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")),
        }
        for mapping in aws_lambda.list_event_source_mappings()["EventSourceMappings"]
    ]
    return streams, sorted(sources, key=lambda m: str(m["table"]))


def table_shapes(template: dict[str, Any], endpoint: str) -> dict[str, dict[str, Any]]:
    """Each created table's key schema and indexes (name -> key schema, global and local), as DynamoDB describes
    them: what CloudFormation made of the template's, local indexes included."""
    dynamodb = _client("dynamodb", endpoint)
    shapes = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::DynamoDB::Table":
            table = dynamodb.describe_table(TableName=resource["Properties"]["TableName"])["Table"]
            shapes[logical_id] = {
                "KeySchema": table["KeySchema"],
                **{
                    kind: {i["IndexName"]: i["KeySchema"] for i in table[kind]}
                    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")
                    if table.get(kind)
                },
            }
    return shapes


def call_functions(template: dict[str, Any], endpoint: str, env: Mapping[str, str], work: Path) -> dict[str, Any]:
    """Sign up, sign in, authorize and read /api/me/ through the deployed API and authorizer functions."""
    aws_lambda, s3 = _client("lambda", endpoint), _client("s3", endpoint)
    functions = {}
    for logical_id in ("APIHandler", "JwtAuthorizer"):
        name = template["Resources"][logical_id]["Properties"]["FunctionName"]
        functions[logical_id] = aws_lambda.get_function(FunctionName=name)["Configuration"]
    code = template["Resources"]["APIHandler"]["Properties"]["Code"]
    [layer_ref] = template["Resources"]["APIHandler"]["Properties"]["Layers"]
    content = template["Resources"][layer_ref["Ref"]]["Properties"]["Content"]
    task = unpack(s3, code["S3Bucket"], code["S3Key"], work / "task")
    layer = unpack(s3, content["S3Bucket"], content["S3Key"], work / "opt")
    credentials = {"username": USER["username"], "password": PASSWORD}
    api = functions["APIHandler"]
    signed_up, signed_in = invoke(
        api,
        task,
        layer,
        env,
        [
            proxy_event("POST", "/api/register/", {**USER, "password": PASSWORD}),
            proxy_event("POST", "/api/token/", credentials),
        ],
    )
    answers: dict[str, Any] = {"register": _json_answer(signed_up), "token": _json_answer(signed_in)}
    access = answers["token"]["body"].get("access", "") if answers["token"]["body"] else ""
    arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:rehearsal/v1/GET/api/me"
    [policy] = invoke(
        functions["JwtAuthorizer"],
        task,
        layer,
        env,
        [{"type": "TOKEN", "authorizationToken": f"Bearer {access}", "methodArn": arn}],
    )
    answers["authorizer"] = policy
    authorizer = {**policy.get("context", {}), "principalId": policy.get("principalId")}
    [me] = invoke(
        api,
        task,
        layer,
        env,
        [proxy_event("GET", "/api/me/", headers={"Authorization": f"Bearer {access}"}, authorizer=authorizer)],
    )
    answers["me"] = _json_answer(me)
    return answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", nargs="?", default="dev", choices=STAGES)
    parser.add_argument("--doc-list", action="store_true", help="print the list docs/deploying.md holds, and stop")
    args = parser.parse_args(argv)
    if args.doc_list:
        print(not_emulated_markdown())
        return 0
    from deploy.package import package

    with tempfile.TemporaryDirectory(prefix="rehearsal-") as tmp:
        found = rehearse(args.stage, package(args.stage, Path(tmp) / "package"), Path(tmp) / "work")
    print(json.dumps({"stack": found.stack, "status": found.stack_status, "answers": found.answers}, indent=2))
    print(f"seconds: {json.dumps({k: round(v, 1) for k, v in found.seconds.items()})}")
    wrong = problems(found)
    for message in wrong:
        print(f"PROBLEM: {message}", file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
