"""Stripe's keys read from the stage's secret with a maximum age (moto's Secrets Manager, an injected clock): a
key rolled in the secret is used within STRIPE_KEYS_MAX_AGE_SECONDS, and a failed re-read keeps the keys for a
short grace, then is a PaymentUnavailable (503)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from chalicelib.adapters.secrets import RETRY_SECONDS, STALE_GRACE_SECONDS
from chalicelib.adapters.stripe_payments import StripeKeys, StripePayments
from chalicelib.ports.payments import InvalidSignature, PaymentUnavailable
from chalicelib.settings import load_settings
from devstack.payments import sign
from tests.unit.test_signing_keys import Clock

EVENT = json.dumps({"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {}}}).encode()


@pytest.fixture
def stripe_secret():
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        value = {"secret_key": "sk_test_one", "webhook_secret": "whsec_one"}
        arn = client.create_secret(Name="stripe", SecretString=json.dumps(value))["ARN"]
        settings = load_settings(
            {"STAGE": "dev", "STRIPE_SECRET_ARN": arn, "AWS_REGION": "us-east-1", "STRIPE_KEYS_MAX_AGE_SECONDS": "120"}
        )
        clock = Clock()
        yield client, arn, StripePayments(settings, clock=clock), clock


def _roll(client, arn: str, secret_key: str, webhook_secret: str) -> None:
    value = {"secret_key": secret_key, "webhook_secret": webhook_secret}
    client.put_secret_value(SecretId=arn, SecretString=json.dumps(value))


def test_keys_rolled_in_the_secret_are_used_once_the_old_ones_reach_their_maximum_age(stripe_secret):
    client, arn, payments, clock = stripe_secret
    assert payments.keys() == StripeKeys("sk_test_one", "whsec_one")
    first = payments._stripe()
    _roll(client, arn, "sk_test_two", "whsec_two")
    clock.advance(119)
    assert payments.keys() == StripeKeys("sk_test_one", "whsec_one") and payments._stripe() is first
    assert payments.read_event(EVENT, sign(EVENT, "whsec_one")).id == "evt_1"
    clock.advance(1)
    assert payments.keys() == StripeKeys("sk_test_two", "whsec_two")
    assert payments.read_event(EVENT, sign(EVENT, "whsec_two")).id == "evt_1"
    with pytest.raises(InvalidSignature):
        payments.read_event(EVENT, sign(EVENT, "whsec_one"))
    # The client, made with the secret key, is made again with the new one.
    second = payments._stripe()
    assert second is not first and second._requestor._options.api_key == "sk_test_two"
    assert payments._stripe() is second


def test_a_failed_read_after_the_maximum_age_keeps_the_keys_for_a_grace_then_payments_are_unavailable(
    stripe_secret,
):
    client, arn, payments, clock = stripe_secret
    payments.keys()
    client.put_secret_value(SecretId=arn, SecretString="not json")
    clock.advance(120)
    assert payments.keys() == StripeKeys("sk_test_one", "whsec_one")
    clock.advance(STALE_GRACE_SECONDS - 0.1)
    assert payments.keys() == StripeKeys("sk_test_one", "whsec_one")
    clock.advance(0.1)
    with pytest.raises(PaymentUnavailable, match="^the Stripe secret could not be read$"):
        payments.keys()
    # The operator puts the keys back: read at the next try.
    _roll(client, arn, "sk_test_three", "whsec_three")
    clock.advance(RETRY_SECONDS)
    assert payments.keys() == StripeKeys("sk_test_three", "whsec_three")


def test_local_keys_come_from_the_environment_without_any_call():
    settings = load_settings({"STRIPE_SECRET_KEY": "sk_local", "STRIPE_WEBHOOK_SECRET": "whsec_local"})
    assert StripePayments(settings).keys() == StripeKeys("sk_local", "whsec_local")
    with pytest.raises(PaymentUnavailable, match="^payments are not configured$"):
        StripePayments(load_settings({})).keys()
