"""The packaged CloudFormation: lint-clean, tables matching the models, least-privilege IAM, sizes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from chalicelib.persistence.models import all_models, bind_tables
from chalicelib.persistence.pynamodb_private import schema_of, ttl_attribute_of
from chalicelib.settings import get_settings, load_settings
from deploy.template import stage_environment

STAGES = ("dev", "prod")


def test_templates_pass_cfn_lint(packaged):
    templates = [str(folder / "sam.json") for folder in packaged.values()]
    result = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), *templates], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _normalised_model(model) -> dict:
    schema = schema_of(model)
    return {
        "keys": sorted((k["AttributeName"], k["KeyType"]) for k in schema["key_schema"]),
        "attributes": sorted((a["AttributeName"], a["AttributeType"]) for a in schema["attribute_definitions"]),
        "indexes": sorted(
            (
                i["index_name"],
                tuple(sorted((k["AttributeName"], k["KeyType"]) for k in i["key_schema"])),
                i["projection"]["ProjectionType"],
            )
            for i in schema.get("global_secondary_indexes", [])
        ),
        "local_indexes": sorted(
            (
                i["index_name"],
                tuple(sorted((k["AttributeName"], k["KeyType"]) for k in i["key_schema"])),
                i["projection"]["ProjectionType"],
            )
            for i in schema.get("local_secondary_indexes", [])
        ),
        "ttl": ttl_attribute_of(model),
    }


def _normalised_table(properties: dict) -> dict:
    return {
        "keys": sorted((k["AttributeName"], k["KeyType"]) for k in properties["KeySchema"]),
        "attributes": sorted((a["AttributeName"], a["AttributeType"]) for a in properties["AttributeDefinitions"]),
        "indexes": sorted(
            (
                i["IndexName"],
                tuple(sorted((k["AttributeName"], k["KeyType"]) for k in i["KeySchema"])),
                i["Projection"]["ProjectionType"],
            )
            for i in properties.get("GlobalSecondaryIndexes", [])
        ),
        "local_indexes": sorted(
            (
                i["IndexName"],
                tuple(sorted((k["AttributeName"], k["KeyType"]) for k in i["KeySchema"])),
                i["Projection"]["ProjectionType"],
            )
            for i in properties.get("LocalSecondaryIndexes", [])
        ),
        "ttl": properties.get("TimeToLiveSpecification", {}).get("AttributeName"),
    }


@pytest.mark.parametrize("stage", STAGES)
def test_tables_match_the_pynamodb_models(templates, stage):
    tables = {
        r["Properties"]["TableName"]: r["Properties"]
        for r in templates[stage]["Resources"].values()
        if r["Type"] == "AWS::DynamoDB::Table"
    }
    stage_settings = load_settings(stage_environment(stage))
    bind_tables(stage_settings.tables, "us-east-1", stage_settings.aws)
    try:
        for model in all_models():
            name = model.Meta.table_name
            assert name in tables, f"{name} is not in the {stage} template"
            assert _normalised_table(tables.pop(name)) == _normalised_model(model), name
        assert not tables, f"tables without a model: {sorted(tables)}"
    finally:
        settings = get_settings()
        bind_tables(settings.tables, settings.region, settings.aws)


def test_the_search_table_has_a_range_key_and_its_two_local_indexes_in_the_template(templates):
    # The comparison with the model above cannot fail on what both would lack: the search table spelled out.
    for stage in STAGES:
        [search] = [
            r
            for r in templates[stage]["Resources"].values()
            if r["Type"] == "AWS::DynamoDB::Table" and r["Properties"]["TableName"] == f"sessions-{stage}-search"
        ]
        properties = search["Properties"]
        assert properties["KeySchema"] == [
            {"AttributeName": "k", "KeyType": "HASH"},
            {"AttributeName": "id", "KeyType": "RANGE"},
        ]
        assert properties["AttributeDefinitions"] == [
            {"AttributeName": name, "AttributeType": "S"} for name in ("c", "id", "k", "s")
        ]
        assert properties["LocalSecondaryIndexes"] == [
            {
                "IndexName": name,
                "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}, {"AttributeName": sort, "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
            for name, sort in (("by-start", "s"), ("by-created", "c"))
        ]
        assert not {"GlobalSecondaryIndexes", "TimeToLiveSpecification", "StreamSpecification"} & set(properties)
        assert properties["SSESpecification"] == {"SSEEnabled": True}
        assert (search["DeletionPolicy"], search["UpdateReplacePolicy"]) == (
            ("Retain",) * 2 if stage == "prod" else ("Delete",) * 2
        )


@pytest.mark.parametrize("stage", STAGES)
def test_tables_are_on_demand_with_point_in_time_recovery_and_prod_is_protected(templates, stage):
    for resource in templates[stage]["Resources"].values():
        if resource["Type"] == "AWS::DynamoDB::Table":
            properties = resource["Properties"]
            assert properties["BillingMode"] == "PAY_PER_REQUEST"
            assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
            assert properties["DeletionProtectionEnabled"] is (stage == "prod")
            assert resource["DeletionPolicy"] == ("Retain" if stage == "prod" else "Delete")


def _resource_names(resource) -> set[str]:
    """The logical ids a policy resource points at."""
    text = json.dumps(resource)
    found = set()
    for key in ("Ref", "Fn::GetAtt", "Fn::Sub"):
        if key in resource:
            value = resource[key]
            if key == "Ref":
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0])
            else:
                # Every resource the ARN names; pseudo parameters (partition, region, account) name none.
                names = {ref.split(".", 1)[0] for ref in re.findall(r"\$\{([^}]+)\}", value)}
                found |= {name for name in names if not name.startswith("AWS::")}
    assert found, f"a literal resource: {text}"
    return found


# X-Ray has no resource-level permissions: these are the only actions granted on "*".
UNSCOPED_ACTIONS = {"xray:PutTelemetryRecords", "xray:PutTraceSegments"}


def _statements(resources, role: str) -> list[dict]:
    return [s for p in resources[role]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]


@pytest.mark.parametrize("stage", STAGES)
def test_iam_is_least_privilege(templates, stage):
    resources = templates[stage]["Resources"]
    functions = [name for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"]
    roles = {name for name, r in resources.items() if r["Type"] == "AWS::IAM::Role"}
    # One role per function (chalice's shared DefaultRole is gone), and API Gateway's log role.
    assert roles == {f"{f}Role" for f in functions} | {"ApiGatewayLogRole"}
    assert "DefaultRole" not in json.dumps(templates[stage])
    allowed_targets = {
        name
        for name, r in resources.items()
        if r["Type"]
        in (
            "AWS::DynamoDB::Table",
            "AWS::S3::Bucket",
            "AWS::SecretsManager::Secret",
            "AWS::Logs::LogGroup",
            "AWS::SES::EmailIdentity",
            "AWS::SES::ConfigurationSet",
            "AWS::SQS::Queue",
        )
    } | {"MailDomain"}  # the domain identity's name is the parameter
    for function in functions:
        assert resources[function]["Properties"]["Role"] == {"Fn::GetAtt": [f"{function}Role", "Arn"]}
        for statement in _statements(resources, f"{function}Role"):
            assert statement["Effect"] == "Allow"
            actions = statement["Action"]
            assert not any("*" in action for action in actions), actions
            for target in statement["Resource"]:
                if target == "*":
                    assert set(actions) <= UNSCOPED_ACTIONS, actions
                    continue
                options = target["Fn::If"][1:] if "Fn::If" in target else [target]
                for option in options:
                    assert _resource_names(option) <= allowed_targets, option
                    if "Fn::Sub" in option:
                        sub = option["Fn::Sub"]
                        assert sub.endswith(("/index/*", "/*")) or re.fullmatch(
                            r"arn:.*:(identity|configuration-set)/\$\{\w+\}", sub
                        ), sub
        # Each function writes its own log group only.
        [logs] = [s for s in _statements(resources, f"{function}Role") if s["Sid"] == "Logs"]
        assert logs["Resource"] == [{"Fn::GetAtt": [f"{function}LogGroup", "Arn"]}]


@pytest.mark.parametrize("stage", STAGES)
def test_the_notifier_writes_of_the_events_only_the_lists_copy_of_their_seats(templates, stage):
    resources = templates[stage]["Resources"]
    writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:TransactWriteItems"}
    on_events = [
        s
        for s in _statements(resources, "NotifierRole")
        if any("EventsTable" in json.dumps(target) for target in s["Resource"]) and writes & set(s["Action"])
    ]
    # services/seat_copies.py: one conditional UpdateItem of the event item, nothing else written there.
    assert on_events == [
        {
            "Sid": "SeatCopies",
            "Effect": "Allow",
            "Action": ["dynamodb:UpdateItem"],
            "Resource": [{"Fn::GetAtt": ["EventsTable", "Arn"]}],
        }
    ]


@pytest.mark.parametrize("stage", STAGES)
def test_signing_key_is_generated_in_secrets_manager_never_written_in_clear(templates, packaged, stage):
    resources = templates[stage]["Resources"]
    secret = resources["JwtSigningSecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret" and "SecretString" not in secret["Properties"]
    for name in ("APIHandler", "JwtAuthorizer"):
        variables = resources[name]["Properties"]["Environment"]["Variables"]
        assert variables["JWT_SECRET_ARN"] == {"Ref": "JwtSigningSecret"}
        assert "JWT_SIGNING_KEY" not in variables
    assert "JWT_SIGNING_KEY" not in (packaged[stage] / "sam.json").read_text()


@pytest.mark.parametrize("stage", STAGES)
def test_authorizer_cache_matches_the_token_lifetime_and_gateway_errors_are_drf_shaped(templates, stage):
    body = templates[stage]["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    ttl = body["securityDefinitions"]["jwt_authorizer"]["x-amazon-apigateway-authorizer"][
        "authorizerResultTtlInSeconds"
    ]
    assert 0 < ttl <= 300 and ttl == int(stage_environment(stage)["AUTHORIZER_TTL_SECONDS"])
    responses = body["x-amazon-apigateway-gateway-responses"]
    assert responses["UNAUTHORIZED"]["statusCode"] == "401"
    assert json.loads(responses["UNAUTHORIZED"]["responseTemplates"]["application/json"]) == {
        "detail": "Authentication credentials were not provided."
    }
    for kind in ("UNAUTHORIZED", "ACCESS_DENIED", "DEFAULT_4XX", "DEFAULT_5XX"):
        assert responses[kind]["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"


def test_bucket_is_private_and_encrypted(templates):
    bucket = templates["prod"]["Resources"]["UploadsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    cors = templates["dev"]["Resources"]["UploadsBucket"]["Properties"]["CorsConfiguration"]
    assert cors["Fn::If"][0] == "HasCorsOrigins"
    assert cors["Fn::If"][1]["CorsRules"][0]["AllowedOrigins"] == {"Fn::Split": [",", {"Ref": "CorsAllowedOrigins"}]}


def test_function_zip_holds_only_the_project_and_stays_under_1_mb(packaged):
    function_zip = packaged["dev"] / "deployment.zip"
    assert function_zip.stat().st_size < 1_000_000
    with zipfile.ZipFile(function_zip) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
    assert tops <= {"app.py", "__pycache__", "chalicelib"}, tops
    # Chalice's runtime is a third-party package like the others: in the layer, and the third-party data too.
    with zipfile.ZipFile(packaged["dev"] / "layer-deployment.zip") as layer:
        assert "python/chalice/app.py" in layer.namelist()
        data = sorted(n for n in layer.namelist() if n.startswith("python/chalicelib/"))
    assert data == [
        "python/chalicelib/security/data/confusables.txt.gz",
        "python/chalicelib/services/data/common-passwords.txt.gz",
    ]
    with zipfile.ZipFile(function_zip) as archive:
        assert not [n for n in archive.namelist() if n.endswith(".gz")]


def test_the_code_as_deployed_reads_its_data_from_the_layer(packaged, tmp_path):
    # As Lambda lays them out: the function in /var/task (first on sys.path), the layer's python/ in /opt.
    function, layer = tmp_path / "task", tmp_path / "opt"
    zipfile.ZipFile(packaged["dev"] / "deployment.zip").extractall(function)
    zipfile.ZipFile(packaged["dev"] / "layer-deployment.zip").extractall(layer)
    code = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
        "from chalicelib.data_files import data_file\n"
        "from chalicelib.security.lookalikes import skeleton\n"
        "from chalicelib.services.password_rules import password_problems\n"
        "print(data_file('services/data/common-passwords.txt.gz').parent.parent.parent.parent)\n"
        "print(skeleton('\\u0440aypa1') == skeleton('paypal'), skeleton('qaypal') == skeleton('paypal'))\n"
        "print(password_problems('password1', username='someone', email=''))\n"
    )
    run = subprocess.run(
        [sys.executable, "-I", "-c", code, str(function), str(layer / "python")],
        capture_output=True,
        text=True,
        check=True,
    )
    found, lookalike, problems = run.stdout.splitlines()
    assert found == str(layer / "python")
    assert lookalike == "True False"  # a Cyrillic "р" and the digit 1 look like "p" and "l"; "q" is not "p"
    assert problems == "['This password is too common.']"


def test_layer_carries_the_docs_renderer_but_not_the_unused_requirements_it_drags_in(packaged):
    with zipfile.ZipFile(packaged["dev"] / "layer-deployment.zip") as archive:
        names = archive.namelist()
    packages = {
        m.group(1).lower() for n in names if (m := re.match(r"python/lib/python3\.\d+/site-packages/([^/]+)/", n))
    }
    assert {"pynamodb", "jwt", "bcrypt", "pydantic", "tzdata", "drf_spectacular_sidecar"} <= packages
    assert any(n.endswith("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js") for n in names)
    assert not packages & {"django", "sqlparse", "asgiref"}
    # PyJWT verifies HS256 without it; when present it is loaded by PyJWT and loads bcrypt in turn (cold start).
    assert "cryptography" not in packages
    assert not [n for n in names if "swagger-ui-dist" in n or n.endswith(".map")]


def test_the_authorizer_function_runs_its_own_module_and_the_api_runs_app(templates):
    for stage in STAGES:
        resources = templates[stage]["Resources"]
        assert resources["JwtAuthorizer"]["Properties"]["Handler"] == "chalicelib.http.authorizer.jwt_authorizer"
        assert resources["APIHandler"]["Properties"]["Handler"] == "app.app"


@pytest.mark.parametrize("stage", STAGES)
def test_cors_origins_are_a_deploy_parameter_that_reaches_the_functions(templates, stage):
    template = templates[stage]
    parameter = template["Parameters"]["CorsAllowedOrigins"]
    assert parameter["Default"] == stage_environment(stage)["CORS_ALLOWED_ORIGINS"]
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.match("") and pattern.match("https://app.example.com,http://localhost:*")
    assert not pattern.match("javascript:alert(1)") and not pattern.match("https://a.example.com, https://b")
    for function in ("APIHandler", "JwtAuthorizer"):
        variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert variables["CORS_ALLOWED_ORIGINS"] == {"Ref": "CorsAllowedOrigins"}


@pytest.mark.parametrize("archive", ["deployment.zip", "layer-deployment.zip"])
def test_every_module_ships_with_bytecode_python_trusts_without_its_source_date(packaged, archive):
    # Lambda's code folders are read-only and the zips date every file 1980: timestamp-checked bytecode would
    # be refused and every module compiled from source at each cold start.
    with zipfile.ZipFile(packaged["dev"] / archive) as zipped:
        names = set(zipped.namelist())
        tag = f"cpython-{sys.version_info.major}{sys.version_info.minor}"
        sources = [n for n in names if n.endswith(".py")]
        assert sources
        for source in sources:
            folder, _, file = source.rpartition("/")
            pyc = f"{folder}/__pycache__/{file[:-3]}.{tag}.pyc".lstrip("/")
            assert pyc in names, source
            flags = int.from_bytes(zipped.read(pyc)[4:8], "little")
            assert flags == 0b01, (pyc, flags)  # hash-based, source never checked
        for pyc in (n for n in names if n.endswith(".pyc")):
            cache, _, file = pyc.rpartition("/")
            source = f"{cache.removesuffix('__pycache__')}{file.split('.')[0]}.py"
            assert source in names, f"{pyc} has no source (stale bytecode)"


def test_the_layer_carries_botocore_data_only_for_the_apis_the_code_calls(packaged):
    from deploy.package import BOTOCORE_SERVICES

    called = set()
    for path in (Path(__file__).resolve().parents[2] / "chalicelib").rglob("*.py"):
        # Direct botocore calls and the app's own helper (chalicelib/adapters/aws.py: client("s3", settings, ...)).
        called |= set(re.findall(r"(?:create_client|\bclient)\(\s*\"([a-z0-9-]+)\"", path.read_text()))
    called.add("dynamodb")  # pynamodb's client
    assert called <= BOTOCORE_SERVICES, called - BOTOCORE_SERVICES
    with zipfile.ZipFile(packaged["dev"] / "layer-deployment.zip") as zipped:
        services = {
            m.group(1)
            for n in zipped.namelist()
            if (m := re.match(r"python/lib/python3\.\d+/site-packages/botocore/data/([^/]+)/", n))
        }
    assert services == set(BOTOCORE_SERVICES)


ENDPOINT_PROBE = """
import json, sys
import botocore.session
session = botocore.session.get_session()
answers = {}
for service in sys.argv[1].split(","):
    for region in sys.argv[2].split(","):
        client = session.create_client(service, region_name=region, aws_access_key_id="k", aws_secret_access_key="s")
        signer = client._request_signer  # where the client signs for: no public attribute tells
        answers[f"{service} {region}"] = [
            client.meta.endpoint_url, client.meta.partition, signer._region_name, signer._signing_name
        ]
print(json.dumps(answers))
"""


def test_the_layers_pruned_endpoint_catalogue_gives_every_kept_client_the_endpoint_full_botocore_gives(
    packaged, tmp_path
):
    from deploy.package import BOTOCORE_SERVICES

    with zipfile.ZipFile(packaged["dev"] / "layer-deployment.zip") as zipped:
        zipped.extractall(tmp_path)
        [catalogue] = [n for n in zipped.namelist() if n.endswith("botocore/data/endpoints.json")]
        services = {s for p in json.loads(zipped.read(catalogue))["partitions"] for s in p["services"]}
    assert services == {"dynamodb", "s3", "secretsmanager", "email"}  # SES v2's endpoint prefix is "email"
    [site] = tmp_path.glob("python/lib/python3.*/site-packages")
    args = [",".join(sorted(BOTOCORE_SERVICES)), "us-east-1,eu-west-1,ap-southeast-2,cn-north-1,us-gov-west-1"]
    pruned = subprocess.run(
        [sys.executable, "-S", "-c", f"import sys; sys.path[:0] = [{str(site)!r}]\n" + ENDPOINT_PROBE, *args],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    full = subprocess.run(
        [sys.executable, "-c", ENDPOINT_PROBE, *args], capture_output=True, text=True, check=True, env={}
    )
    assert json.loads(pruned.stdout) == json.loads(full.stdout)
    assert json.loads(full.stdout)["dynamodb cn-north-1"][:2] == [
        "https://dynamodb.cn-north-1.amazonaws.com.cn",
        "aws-cn",
    ]


@pytest.mark.parametrize("stage", STAGES)
def test_e_mail_goes_out_through_ses_from_the_stages_sender_only(templates, stage):
    resources = templates[stage]["Resources"]
    identity = resources["MailSenderIdentity"]
    assert identity["Type"] == "AWS::SES::EmailIdentity" and identity["Condition"] == "SendsFromAddress"
    assert identity["Properties"]["EmailIdentity"] == stage_environment(stage)["MAIL_FROM"]
    [mail] = [s for s in _statements(resources, "APIHandlerRole") if any(a.startswith("ses:") for a in s["Action"])]
    assert mail["Action"] == ["ses:SendEmail"]
    # The notifier sends MIME messages (an .ics attached): SES v2's SendEmail with Raw content.
    for role in ("NotifierRole", "SendDigestsRole"):  # the creators' digests go out as the notifier's messages
        [notices] = [s for s in _statements(resources, role) if any(a.startswith("ses:") for a in s["Action"])]
        assert notices["Action"] == ["ses:SendEmail", "ses:SendRawEmail"]
        assert notices["Resource"] == mail["Resource"]
    identity_arn = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/"
    assert mail["Resource"] == [
        {
            "Fn::If": [
                "HasMailDomain",
                {"Fn::Sub": identity_arn + "${MailDomain}"},
                {"Fn::Sub": identity_arn + "${MailSenderIdentity}"},
            ]
        },
        {
            "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:"
            "configuration-set/${MailConfigurationSet}"
        },
    ]
    # No other function sends e-mail.
    others = [
        f"{f}Role"
        for f, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function" and f not in ("APIHandler", "Notifier", "SendDigests")
    ]
    assert not [s for role in others for s in _statements(resources, role) if any("ses:" in a for a in s["Action"])]


@pytest.mark.parametrize("stage", STAGES)
def test_token_state_and_throttle_counters_expire_by_ttl(templates, stage):
    env = stage_environment(stage)
    tables = {
        r["Properties"]["TableName"]: r["Properties"]
        for r in templates[stage]["Resources"].values()
        if r["Type"] == "AWS::DynamoDB::Table"
    }
    for name in (env["TOKENS_TABLE"], env["THROTTLE_TABLE"]):
        assert tables[name]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


@pytest.mark.parametrize("stage", STAGES)
def test_stripe_keys_live_in_a_secret_the_functions_may_read_and_the_template_never_holds_them(
    templates, packaged, stage
):
    resources = templates[stage]["Resources"]
    secret = resources["StripeSecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert json.loads(secret["Properties"]["SecretString"]) == {"secret_key": "", "webhook_secret": ""}
    for name in ("APIHandler", "JwtAuthorizer", "SweepPayments"):
        variables = resources[name]["Properties"]["Environment"]["Variables"]
        assert variables["STRIPE_SECRET_ARN"] == {"Ref": "StripeSecret"}
        assert not {"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE"} & set(variables)
    [secrets] = [s for s in _statements(resources, "APIHandlerRole") if s["Sid"] == "Secrets"]
    assert secrets["Action"] == ["secretsmanager:GetSecretValue"]
    assert secrets["Resource"] == [{"Ref": "JwtSigningSecret"}, {"Ref": "StripeSecret"}]
    [stripe] = [s for s in _statements(resources, "SweepPaymentsRole") if s["Sid"] == "Stripe"]
    assert (stripe["Action"], stripe["Resource"]) == (["secretsmanager:GetSecretValue"], [{"Ref": "StripeSecret"}])
    text = (packaged[stage] / "sam.json").read_text()
    assert not re.search(r"(sk|rk)_(live|test)_|whsec_", text)


@pytest.mark.parametrize("stage", STAGES)
def test_the_payment_sweep_runs_every_minute_as_its_own_function_with_its_log_group(templates, stage):
    resources = templates[stage]["Resources"]
    sweep = resources["SweepPayments"]["Properties"]
    assert sweep["Handler"] == "chalicelib.http.payments.sweep_payments"
    assert sweep["Events"]["SweepPaymentsEvent"] == {"Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)"}}
    assert sweep["FunctionName"] == f"sessions-marketplace-{stage}-sweep"
    from chalicelib.http.payments import SWEEP_BUDGET_SECONDS

    assert sweep["Timeout"] >= SWEEP_BUDGET_SECONDS + 15  # the budget ends well before the function's timeout
    assert resources["SweepPaymentsLogGroup"]["Properties"]["LogGroupName"] == (
        f"/aws/lambda/sessions-marketplace-{stage}-sweep"
    )


@pytest.mark.parametrize("stage", STAGES)
def test_the_webhook_has_its_own_throttle_below_the_stages_and_its_url_is_an_output(templates, stage):
    template = templates[stage]
    settings = template["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    stage_wide, webhook = settings
    assert webhook["ResourcePath"] == "/~1api~1payments~1webhook" and webhook["HttpMethod"] == "POST"
    assert webhook["ThrottlingRateLimit"] < stage_wide["ThrottlingRateLimit"]
    assert webhook["ThrottlingBurstLimit"] < stage_wide["ThrottlingBurstLimit"]
    url = template["Outputs"]["StripeWebhookUrl"]["Value"]["Fn::Sub"]
    assert url.endswith("/v1/api/payments/webhook/")


def test_the_bookings_table_has_the_index_of_payment_work_due(templates):
    tables = [r["Properties"] for r in templates["dev"]["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    [bookings] = [t for t in tables if t["TableName"] == stage_environment("dev")["BOOKINGS_TABLE"]]
    indexes = {i["IndexName"]: i["KeySchema"] for i in bookings["GlobalSecondaryIndexes"]}
    assert indexes["payments-due"] == [
        {"AttributeName": "pay_due", "KeyType": "HASH"},
        {"AttributeName": "pay_due_sk", "KeyType": "RANGE"},
    ]


@pytest.mark.parametrize("stage", STAGES)
def test_the_role_reaches_every_table_and_the_indexes_of_those_that_have_some(templates, stage):
    resources = templates[stage]["Resources"]
    statement = next(
        s
        for p in resources["APIHandlerRole"]["Properties"]["Policies"]
        for s in p["PolicyDocument"]["Statement"]
        if s["Sid"] == "Tables"
    )
    tables = {name for name, r in resources.items() if r["Type"] == "AWS::DynamoDB::Table"}
    assert {"UsersTable", "EventsTable", "AuditTable"} <= tables
    granted = {t["Fn::GetAtt"][0] for t in statement["Resource"] if "Fn::GetAtt" in t}
    indexed = {t["Fn::Sub"] for t in statement["Resource"] if "Fn::Sub" in t}
    # The search index (tests/deploy/test_operations.py) and the queue table have statements of their own.
    assert granted == tables - {"SearchTable", "QueueTable"}
    assert indexed == {
        f"${{{name}.Arn}}/index/*" for name in granted if resources[name]["Properties"].get("GlobalSecondaryIndexes")
    }
    assert len(resources["UsersTable"]["Properties"]["GlobalSecondaryIndexes"]) == 9


@pytest.mark.parametrize("stage", STAGES)
def test_the_queue_table_expires_its_items_and_the_api_may_only_get_put_update_and_batch_read_it(templates, stage):
    resources = templates[stage]["Resources"]
    properties = resources["QueueTable"]["Properties"]
    assert properties["TableName"] == f"sessions-{stage}-queue"
    assert properties["KeySchema"] == [{"AttributeName": "k", "KeyType": "HASH"}]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert "GlobalSecondaryIndexes" not in properties
    granted = [
        s
        for p in resources["APIHandlerRole"]["Properties"]["Policies"]
        for s in p["PolicyDocument"]["Statement"]
        if any(r == {"Fn::GetAtt": ["QueueTable", "Arn"]} for r in s["Resource"])
    ]
    assert [(s["Sid"], s["Action"], s["Resource"]) for s in granted] == [
        (
            "Queue",
            ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            [{"Fn::GetAtt": ["QueueTable", "Arn"]}],
        )
    ]
