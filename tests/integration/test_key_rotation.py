"""The signing key's rotation on moto's Secrets Manager: RotateSecret drives the app's rotation function
(`rotate_signing_key`) through its four steps, each run twice, while the API signs and verifies tokens with
the secret's keys (their maximum age on an injected clock)."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlsplit

import boto3
import jwt
import moto.awslambda.utils
import pytest

from chalicelib import bootstrap
from chalicelib.adapters.secrets import RENEW_SECONDS, SecretsManagerKeys, SecretVersions, version_kid
from chalicelib.http.rotation import rotate_signing_key
from chalicelib.security import tokens
from chalicelib.services import key_rotation
from chalicelib.services.key_rotation import RotationRefused
from chalicelib.settings import get_settings, load_settings
from tests.integration.conftest import PASSWORD
from tests.unit.test_signing_keys import Clock

ROTATION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:rotate-signing-key"
MAX_AGE = 300
INVALID = {"detail": "Token is invalid", "code": "token_not_valid"}


class RotationFunction:
    """moto's Lambda service as Secrets Manager sees it: the rotation function exists, and each step it is
    invoked for runs `step` twice (Secrets Manager may run a step again). A step that raises ends the rotation,
    as it does on AWS; its exception is kept."""

    def __init__(self, step: Any = rotate_signing_key) -> None:
        self.step = step
        self.events: list[dict[str, Any]] = []
        self.refused: list[Exception] = []

    def get_function(self, name: str) -> None:
        assert name == ROTATION_ARN

    def invoke(self, name: str, qualifier: Any, body: str, headers: Any, response_headers: Any) -> None:
        event = json.loads(body)
        self.events.append(event)
        if self.refused:
            return
        try:
            for _ in range(2):
                self.step(event, None)
        except RotationRefused as exc:
            self.refused.append(exc)


@pytest.fixture
def secrets_manager(aws, monkeypatch):
    function = RotationFunction()
    monkeypatch.setattr(moto.awslambda.utils, "get_backend", lambda account, region: function)
    return boto3.client("secretsmanager", region_name="us-east-1"), function


@pytest.fixture
def secret(secrets_manager, request):
    client, _ = secrets_manager
    # moto keeps its secrets for the whole package: one name per test.
    return client.create_secret(Name=f"jwt-{request.node.name}", SecretString="a" * 64)["ARN"]


@pytest.fixture
def ring(secret, monkeypatch):
    """The API's keys: the secret's, their maximum age on a clock the test moves."""
    settings = load_settings({**os.environ, "JWT_SIGNING_KEY": "", "JWT_SECRET_ARN": secret})
    clock = Clock()
    keys = SecretsManagerKeys(settings, clock=clock)
    monkeypatch.setattr(bootstrap, "signing_keys", lambda: keys)
    return keys, clock, settings


def rotate(client: Any, arn: str) -> None:
    client.rotate_secret(SecretId=arn, RotationLambdaARN=ROTATION_ARN, RotationRules={"AutomaticallyAfterDays": 30})


def labels(client: Any, arn: str) -> dict[str, list[str]]:
    versions = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    return {version: stages for version, stages in versions.items() if stages}


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def current_kid(client: Any, arn: str) -> str:
    return version_kid(client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["VersionId"])


def test_a_rotation_runs_the_four_steps_each_twice_and_leaves_current_and_previous(secrets_manager, secret):
    client, function = secrets_manager
    pending: list[str] = []

    def step(event: dict[str, Any], context: Any) -> None:
        rotate_signing_key(event, context)
        if event["Step"] == "createSecret":
            pending.append(client.get_secret_value(SecretId=secret, VersionStage="AWSPENDING")["SecretString"])

    function.step = step
    first = client.get_secret_value(SecretId=secret)["VersionId"]
    rotate(client, secret)
    assert [event["Step"] for event in function.events] == ["createSecret", "setSecret", "testSecret", "finishSecret"]
    new = function.events[0]["ClientRequestToken"]
    assert {e["ClientRequestToken"] for e in function.events} == {new} and function.refused == []
    assert labels(client, secret) == {first: ["AWSPREVIOUS"], new: ["AWSCURRENT"]}
    key = client.get_secret_value(SecretId=secret, VersionStage="AWSCURRENT")["SecretString"]
    assert len(key) == 64 and key != "a" * 64
    assert pending == [key, key]  # created once: the second run kept the first run's key
    assert client.get_secret_value(SecretId=secret, VersionStage="AWSPREVIOUS")["SecretString"] == "a" * 64
    # Any step again, once it is all done: nothing changes.
    for event in function.events:
        rotate_signing_key(event, None)
    assert labels(client, secret) == {first: ["AWSPREVIOUS"], new: ["AWSCURRENT"]}
    assert client.get_secret_value(SecretId=secret, VersionStage="AWSCURRENT")["SecretString"] == key


def test_tokens_of_the_previous_key_verify_after_a_rotation_and_those_two_rotations_old_do_not(
    api, make_user, secrets_manager, secret, ring
):
    client, _ = secrets_manager
    _, clock, _ = ring
    make_user("someone")
    first = api.post("/api/token/", {"username": "someone", "password": PASSWORD}).json
    assert kid_of(first["access"]) == kid_of(first["refresh"]) == current_kid(client, secret)

    rotate(client, secret)
    clock.advance(MAX_AGE)  # every warm container has read the rotation
    assert api.get("/api/me/", token=first["access"]).status == 200
    second = api.post("/api/token/refresh/", {"refresh": first["refresh"]})
    assert second.status == 200 and kid_of(second.json["access"]) == current_kid(client, secret)
    assert kid_of(second.json["refresh"]) != kid_of(first["refresh"])

    rotate(client, secret)
    clock.advance(MAX_AGE)
    old = api.get("/api/me/", token=first["access"])
    assert (old.status, old.json) == (
        401,
        {
            "detail": "Given token not valid for any token type",
            "code": "token_not_valid",
            "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is invalid"}],
        },
    )
    assert api.post("/api/token/verify/", {"token": first["refresh"]}).json == INVALID
    assert api.get("/api/me/", token=second.json["access"]).status == 200
    third = api.post("/api/token/refresh/", {"refresh": second.json["refresh"]})
    assert third.status == 200 and kid_of(third.json["access"]) == current_kid(client, secret)


def test_a_container_that_has_not_read_the_rotation_yet_verifies_the_new_keys_tokens(
    api, make_user, secrets_manager, secret, ring
):
    client, _ = secrets_manager
    keys, clock, settings = ring
    user = make_user("someone")
    before = api.post("/api/token/", {"username": "someone", "password": PASSWORD}).json
    rotate(client, secret)
    pair = api.post("/api/token/refresh/", {"refresh": before["refresh"]}).json
    assert kid_of(pair["access"]) == kid_of(before["access"])  # this container still signs with the old key
    # Another container, reading the secret after the rotation, signs with the new key...
    newer = tokens.issue(user.id, tokens.ACCESS, 300, SecretsManagerKeys(settings, clock=Clock()))
    clock.advance(RENEW_SECONDS)
    # ...and this one, within its maximum age, reads the secret again to verify it.
    assert api.get("/api/me/", token=newer).status == 200
    assert kid_of(newer) == current_kid(client, secret) == keys.current().kid


def test_a_pending_key_too_short_stops_the_rotation_at_its_test(secrets_manager, secret, monkeypatch):
    client, function = secrets_manager
    store = SecretVersions(get_settings())
    function.step = lambda event, context: key_rotation.rotate(store, event, make_key=lambda: "s" * 31)
    first = client.get_secret_value(SecretId=secret)["VersionId"]
    rotate(client, secret)
    assert [str(e) for e in function.refused] == ["the pending key is missing or shorter than 32 bytes"]
    pending = function.events[0]["ClientRequestToken"]
    assert labels(client, secret) == {first: ["AWSCURRENT"], pending: ["AWSPENDING"]}
    assert client.get_secret_value(SecretId=secret, VersionStage="AWSCURRENT")["SecretString"] == "a" * 64


def test_a_step_for_a_version_not_pending_or_a_secret_not_rotating_is_refused(secrets_manager, secret):
    client, _ = secrets_manager
    store = SecretVersions(get_settings())
    current = client.get_secret_value(SecretId=secret)["VersionId"]
    event = {"SecretId": secret, "ClientRequestToken": current, "Step": "createSecret"}
    with pytest.raises(RotationRefused, match="^rotation is not enabled on the secret$"):
        key_rotation.rotate(store, event)
    rotate(client, secret)  # now enabled
    with pytest.raises(RotationRefused, match="^the version to rotate to has no staging label$"):
        key_rotation.rotate(store, {**event, "ClientRequestToken": "b" * 32})
    with pytest.raises(RotationRefused, match="^the version to rotate to is not AWSPENDING$"):
        key_rotation.rotate(store, {**event, "ClientRequestToken": current})  # AWSPREVIOUS now


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_a_client_paging_through_a_list_across_a_rotation_goes_on(api, secrets_manager, secret, ring, creator_token):
    client, _ = secrets_manager
    _, clock, _ = ring
    titles = [f"Event {n}" for n in range(3)]
    for title in titles:
        assert api.post("/api/events/", {"title": title, "description": "D"}, token=creator_token).status == 201
    first = api.get("/api/events/?limit=1").json
    rotate(client, secret)
    clock.advance(MAX_AGE)  # the container has read the rotation: new cursors are signed with the new key
    second = api.get(_path(first["next"])).json
    third = api.get(_path(second["next"])).json
    assert [page["results"][0]["title"] for page in (first, second, third)] == titles[::-1]
    rotate(client, secret)
    clock.advance(MAX_AGE)  # two rotations after it was signed, the first page's cursor is no longer good
    assert (api.get(_path(first["next"])).json, api.get(_path(second["next"])).status) == (
        {"detail": "Invalid cursor"},
        200,
    )
