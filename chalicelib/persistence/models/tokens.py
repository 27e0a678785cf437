"""The tokens table: refresh-token families and pending password resets."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.persistence.models import table


@table("tokens")
class TokenStateModel(Model):
    """Token state, each item living (TTL) only as long as the tokens it speaks for:
    `FAMILY#<family>`: the live refresh token (`current` jti) of a sign-in's family, or `revoked`;
    `RESET#<user id>`: the user's pending password reset (`digest` of the e-mailed token, its `binding`)."""

    class Meta:
        table_name = "unbound-tokens"
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute(null=True)
    current = UnicodeAttribute(null=True)
    revoked = BooleanAttribute(null=True)
    digest = UnicodeAttribute(null=True)
    binding = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()
