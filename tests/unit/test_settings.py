import boto3
import pytest
from moto import mock_aws

from chalicelib.errors import ServiceUnavailable
from chalicelib.security import keys
from chalicelib.settings import ConfigurationError, load_settings


def test_app_refuses_to_start_in_a_deployed_stage_without_a_key_or_secret():
    with pytest.raises(ConfigurationError, match="JWT_SECRET_ARN"):
        load_settings({"STAGE": "prod"})


def test_short_signing_key_is_refused():
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        load_settings({"STAGE": "local", "JWT_SIGNING_KEY": "short"})


def test_out_of_range_numbers_are_refused():
    with pytest.raises(ConfigurationError, match="BCRYPT_ROUNDS"):
        load_settings({"JWT_SIGNING_KEY": "k" * 32, "BCRYPT_ROUNDS": "99"})


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
