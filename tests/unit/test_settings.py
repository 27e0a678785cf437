import boto3
import pytest
from moto import mock_aws

from chalicelib.errors import ServiceUnavailable
from chalicelib.security import keys
from chalicelib.settings import ConfigurationError, check_startup, load_settings


def test_app_refuses_to_start_in_a_deployed_stage_without_a_key_or_secret():
    settings = load_settings({"STAGE": "prod"})  # tools reading the routes need no key
    with pytest.raises(ConfigurationError, match=r"^no JWT signing key: set JWT_SECRET_ARN \(the stage's secret\)$"):
        check_startup(settings)
    with pytest.raises(ConfigurationError, match="^no JWT signing key: set JWT_SIGNING_KEY$"):
        check_startup(load_settings({"STAGE": "local"}))
    check_startup(load_settings({"STAGE": "prod", "JWT_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:k"}))


def test_short_signing_key_is_refused():
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        load_settings({"STAGE": "local", "JWT_SIGNING_KEY": "short"})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BCRYPT_ROUNDS", "99", "BCRYPT_ROUNDS must be between 4 and 16, got 99"),
        ("BCRYPT_ROUNDS", "twelve", "BCRYPT_ROUNDS must be an integer, got 'twelve'"),
        ("AWS_READ_TIMEOUT_SECONDS", "60", "AWS_READ_TIMEOUT_SECONDS must be between 0.1 and 10.0, got 60.0"),
        ("AUTHORIZER_TTL_SECONDS", "600", "AUTHORIZER_TTL_SECONDS must not exceed ACCESS_TOKEN_SECONDS"),
        ("PUBLIC_API_ORIGIN", "javascript://evil.example", "PUBLIC_API_ORIGIN must be scheme://host[:port]"),
    ],
)
def test_out_of_range_or_malformed_values_are_refused(name, value, message):
    with pytest.raises(ConfigurationError) as caught:
        load_settings({"JWT_SIGNING_KEY": "k" * 32, name: value})
    assert str(caught.value).startswith(message)


def test_aws_calls_give_up_well_inside_the_lambda_timeout():
    settings = load_settings({"JWT_SIGNING_KEY": "k" * 32})
    assert (settings.aws.connect_seconds, settings.aws.read_seconds, settings.aws.max_attempts) == (1.0, 2.0, 2)
    assert settings.aws.worst_case_seconds() == 6.0
    slow = load_settings({"JWT_SIGNING_KEY": "k" * 32, "AWS_READ_TIMEOUT_SECONDS": "9", "AWS_MAX_ATTEMPTS": "3"})
    with pytest.raises(ConfigurationError, match="well inside the Lambda timeout"):
        check_startup(slow)


def test_deployed_stage_reads_the_key_from_secrets_manager_once():
    with mock_aws():
        arn = boto3.client("secretsmanager").create_secret(Name="jwt", SecretString="s" * 48)["ARN"]
        settings = load_settings({"STAGE": "prod", "JWT_SECRET_ARN": arn, "AWS_REGION": "us-east-1"})
        assert settings.jwt_signing_key is None
        assert keys.signing_key(settings) == b"s" * 48
    # Cached: no second call once the mock is gone.
    assert keys.signing_key(settings) == b"s" * 48


def test_a_short_or_missing_secret_is_an_outage_not_a_weak_key():
    with mock_aws():
        client = boto3.client("secretsmanager")
        short = client.create_secret(Name="short", SecretString="tiny")["ARN"]
        missing = short.replace("short", "gone")
        for arn in (short, missing):
            settings = load_settings({"STAGE": "dev", "JWT_SECRET_ARN": arn, "AWS_REGION": "us-east-1"})
            with pytest.raises(ServiceUnavailable):
                keys.signing_key(settings)


def test_the_secrets_client_gives_up_as_soon_as_the_dynamodb_ones():
    # A hung Secrets Manager must fail the request within the same bound as DynamoDB (a 503), in the stage's
    # region, not wait for botocore's defaults (60 s reads, several retries).
    env = {"STAGE": "prod", "JWT_SECRET_ARN": "arn:x", "AWS_REGION": "eu-west-3", "AWS_READ_TIMEOUT_SECONDS": "3"}
    settings = load_settings(env)
    client = keys._secrets_client(settings)
    config = client.meta.config
    assert (client.meta.region_name, config.connect_timeout, config.read_timeout) == ("eu-west-3", 1.0, 3.0)
    assert config.retries == {"total_max_attempts": 2, "mode": "standard"}
