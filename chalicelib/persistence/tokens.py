"""Token state on DynamoDB: refresh-token families and pending password resets, in one table whose items
expire (TTL) with the tokens they speak for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.persistence.common import epoch, get_or_none, update_if
from chalicelib.persistence.errors import translate_errors
from chalicelib.persistence.models.tokens import TokenStateModel
from chalicelib.persistence.models.users import UserModel
from chalicelib.persistence.transactions import ConditionsFailed, write_transaction
from chalicelib.persistence.users import user_item
from chalicelib.ports.common import StaleWrite
from chalicelib.ports.tokens import RefreshToken, ResetTicket, TicketGone, TokenRevoked

if TYPE_CHECKING:
    from pynamodb.expressions.condition import Condition

    from chalicelib.domain.users import User


def family_key(family: str) -> str:
    """Key of a refresh-token family's state."""
    return f"FAMILY#{family}"


def reset_key(user_id: str) -> str:
    """Key of a user's pending password reset."""
    return f"RESET#{user_id}"


def _live(token: RefreshToken) -> Condition:
    # A family has no item until its first rotation or revocation, so only its first token can be live
    # without one; afterwards the item names the live token.
    live: Condition = TokenStateModel.current == token.jti
    if token.root:
        live = TokenStateModel.key.does_not_exist() | live
    condition: Condition = live & TokenStateModel.revoked.does_not_exist()
    return condition


class DynamoRefreshFamilies:
    """Implements ports.RefreshFamilies."""

    def rotate(self, token: RefreshToken, successor: str, expires_at: int) -> None:
        item = TokenStateModel(key=family_key(token.family))
        actions = [
            TokenStateModel.current.set(successor),
            TokenStateModel.owner.set(token.user_id),
            TokenStateModel.expires_at.set(epoch(expires_at)),
        ]
        if not update_if(item, actions, _live(token)):
            self._revoke(token)
            raise TokenRevoked()

    def revoke(self, token: RefreshToken) -> None:
        if not self._revoke(token, _live(token)):
            self._revoke(token)
            raise TokenRevoked()

    def check(self, token: RefreshToken) -> None:
        item = get_or_none(TokenStateModel, family_key(token.family))
        live = token.root if item is None else not item.revoked and item.current == token.jti
        if not live:
            raise TokenRevoked()

    def _revoke(self, token: RefreshToken, condition: Condition | None = None) -> bool:
        # The item keeps the expiry of the family's newest token, which outlives every older one.
        actions = [
            TokenStateModel.revoked.set(True),
            TokenStateModel.owner.set(token.user_id),
            TokenStateModel.expires_at.set(TokenStateModel.expires_at | epoch(token.expires_at)),
        ]
        return update_if(TokenStateModel(key=family_key(token.family)), actions, condition)


class DynamoPasswordResets:
    """Implements ports.PasswordResets."""

    def get(self, user_id: str) -> ResetTicket | None:
        item = get_or_none(TokenStateModel, reset_key(user_id))
        if item is None or not item.digest or not item.binding or item.expires_at is None:
            return None
        return ResetTicket(
            user_id=user_id, digest=item.digest, binding=item.binding, expires_at=int(item.expires_at.timestamp())
        )

    def put(self, ticket: ResetTicket) -> None:
        item = TokenStateModel(
            key=reset_key(ticket.user_id),
            owner=ticket.user_id,
            digest=ticket.digest,
            binding=ticket.binding,
            expires_at=epoch(ticket.expires_at),
        )
        with translate_errors():
            item.save()

    def redeem(self, ticket: ResetTicket, old: User, new: User) -> None:
        # `new` differs from `old` in its password and token generation only: no uniqueness marker moves.
        try:
            with write_transaction() as tx:
                marker = TokenStateModel(key=reset_key(ticket.user_id))
                tx.delete("ticket", marker, condition=TokenStateModel.digest == ticket.digest)
                tx.save("user", user_item(new), condition=UserModel.version == old.version)
        except ConditionsFailed as exc:
            if "ticket" in exc.names:
                raise TicketGone() from exc
            raise StaleWrite() from exc
