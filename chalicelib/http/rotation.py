"""The signing key's rotation function, which Secrets Manager invokes (logical id RotateSigningKey); its steps
are services.key_rotation's."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.logs import lambda_handler

rotation_bp = Blueprint(__name__)


@rotation_bp.lambda_function(name="rotate_signing_key")
@lambda_handler("rotate_signing_key")
def rotate_signing_key(event: dict[str, Any], context: Any) -> None:
    """One of the four rotation steps (createSecret, setSecret, testSecret, finishSecret)."""
    # Imported here: the API's functions load this module with the app, never the rotation's code.
    from chalicelib import bootstrap
    from chalicelib.services import key_rotation

    key_rotation.rotate(bootstrap.secret_versions(), event)
