import boto3
import pytest
from moto import mock_aws

from chalicelib.adapters import aws
from chalicelib.adapters import secrets as keys
from chalicelib.errors import ServiceUnavailable
from chalicelib.settings import ConfigurationError, check_startup, load_settings


def test_app_refuses_to_start_in_a_deployed_stage_without_a_key_or_secret():
    settings = load_settings({"STAGE": "prod"})  # tools reading the routes need no key
    with pytest.raises(ConfigurationError, match=r"^no JWT signing key: set JWT_SECRET_ARN \(the stage's secret\)$"):
        check_startup(settings)
    with pytest.raises(ConfigurationError, match="^no JWT signing key: set JWT_SIGNING_KEY$"):
        check_startup(load_settings({"STAGE": "local"}))
    deployed = {"STAGE": "prod", "JWT_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:k"}
    check_startup(load_settings({**deployed, "MEDIA_BASE_URL": "https://d111111abcdef8.cloudfront.net"}))


def test_a_deployed_stage_needs_its_media_distribution_and_the_local_stack_serves_media_itself():
    deployed = {"STAGE": "dev", "JWT_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:k"}
    with pytest.raises(ConfigurationError, match="^no MEDIA_BASE_URL: set it to the media distribution's"):
        check_startup(load_settings(deployed))
    settings = load_settings({**deployed, "MEDIA_BASE_URL": "https://d1.cloudfront.net/", "UPLOADS_BUCKET": "b-1"})
    assert (settings.media_base_url, settings.uploads_bucket) == ("https://d1.cloudfront.net", "b-1")
    local = load_settings({"STAGE": "local", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:8001"})
    assert (local.media_base_url, local.uploads_bucket) == (
        "http://127.0.0.1:8001/sessions-local-uploads",
        "sessions-local-uploads",
    )
    assert local.tables.uploads == "sessions-local-uploads"
    with pytest.raises(ConfigurationError, match="^MEDIA_BASE_URL must be scheme://host"):
        load_settings({**deployed, "MEDIA_BASE_URL": "javascript:alert(1)//"})


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


@pytest.mark.parametrize(
    ("text", "count", "seconds"),
    [("5/15m", 5, 900), ("100/hour", 100, 3600), ("20/h", 20, 3600), ("3/2d", 3, 172_800), ("1/30s", 1, 30)],
)
def test_rates_read_as_drf_writes_them_or_with_a_window_length(text, count, seconds):
    from chalicelib.domain.limits import Rate
    from chalicelib.settings import parse_rate

    assert parse_rate(text) == Rate(count, seconds)


@pytest.mark.parametrize("text", ["5", "0/15m", "5/0m", "five/m", "5/15x", "5/-1m", "/m"])
def test_malformed_rates_are_refused_at_start(text):
    with pytest.raises(ConfigurationError, match="^THROTTLE_SIGN_IN_USERNAME must look like 5/15m or 100/hour"):
        load_settings({"THROTTLE_SIGN_IN_USERNAME": text})
    with pytest.raises(ConfigurationError, match="window of at most a day"):
        load_settings({"THROTTLE_SIGN_UP_IP": "5/2d"})


def test_account_security_defaults_and_every_stage_keeps_the_sign_in_lock():
    from chalicelib.domain.limits import Rate
    from deploy.template import stage_environment

    defaults = load_settings({})
    assert defaults.rotate_refresh_tokens is True
    limits = defaults.rate_limits
    assert (limits.sign_in_client, limits.sign_in_username, limits.sign_in_paced) == (
        Rate(5, 900),
        Rate(20, 900),
        Rate(1, 30),
    )
    assert limits.sign_in_ip == Rate(100, 900)
    assert defaults.web_app_url == "http://127.0.0.1:3000"
    for stage in ("local", "dev", "prod"):
        configured = load_settings(stage_environment(stage))
        assert configured.rate_limits.sign_in_client == Rate(5, 900)
        assert configured.rate_limits.sign_in_username == Rate(20, 900)
        assert configured.rotate_refresh_tokens is True
        assert configured.tables.tokens == f"sessions-{stage}-tokens"
        assert configured.tables.throttle == f"sessions-{stage}-throttle"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ROTATE_REFRESH_TOKENS", "sometimes", "ROTATE_REFRESH_TOKENS must be true or false"),
        ("WEB_APP_URL", "javascript:alert(1)", "WEB_APP_URL must be scheme://host[:port][/path]"),
        ("WEB_APP_URL", "https://app.example.com/?next=evil", "WEB_APP_URL must be scheme://host[:port][/path]"),
        ("MAIL_FROM", "not an address", "MAIL_FROM must be an e-mail address"),
        ("PASSWORD_RESET_MIN_SECONDS", "30", "PASSWORD_RESET_MIN_SECONDS must be between 0.0 and 5.0"),
    ],
)
def test_account_security_settings_are_validated(name, value, message):
    with pytest.raises(ConfigurationError) as caught:
        load_settings({name: value})
    assert str(caught.value).startswith(message)


def test_rotation_can_be_turned_off_per_stage_and_the_web_app_url_loses_its_trailing_slash():
    settings = load_settings({"ROTATE_REFRESH_TOKENS": "false", "WEB_APP_URL": "https://app.example.com/"})
    assert settings.rotate_refresh_tokens is False
    assert settings.web_app_url == "https://app.example.com"


def test_the_secrets_client_gives_up_as_soon_as_the_dynamodb_ones():
    # A hung Secrets Manager must fail the request within the same bound as DynamoDB (a 503), in the stage's
    # region, not wait for botocore's defaults (60 s reads, several retries). keys.signing_key asks aws.client.
    env = {"STAGE": "prod", "JWT_SECRET_ARN": "arn:x", "AWS_REGION": "eu-west-3", "AWS_READ_TIMEOUT_SECONDS": "3"}
    settings = load_settings(env)
    client = aws.client("secretsmanager", settings)
    config = client.meta.config
    assert (client.meta.region_name, config.connect_timeout, config.read_timeout) == ("eu-west-3", 1.0, 3.0)
    assert config.retries == {"total_max_attempts": 2, "mode": "standard"}
