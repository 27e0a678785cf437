"""RefreshFamilies and PasswordResets (ports.tokens): the live token of each family, reuse detection, and the
one pending reset per user redeemed with the account's change."""

from __future__ import annotations

import pytest

from chalicelib.ids import new_id
from chalicelib.ports.common import StaleWrite
from chalicelib.ports.tokens import RefreshToken, ResetTicket, TicketGone, TokenRevoked
from tests.contract.builders import user

EXPIRES = 2_000_000_000


def root(user_id=None):
    family = new_id()
    return RefreshToken(user_id=user_id or new_id(), jti=family, family=family, expires_at=EXPIRES)


def next_of(token, jti=None):
    return RefreshToken(token.user_id, jti or new_id(), token.family, token.expires_at + 60)


def live(world, token):
    try:
        world.families.check(token)
    except TokenRevoked:
        return False
    return True


def test_a_families_first_token_is_live_until_rotated(world):
    first = root()
    assert live(world, first)
    second = next_of(first)
    world.families.rotate(first, second.jti, second.expires_at)
    assert (live(world, first), live(world, second)) == (False, True)
    third = next_of(second)
    world.families.rotate(second, third.jti, third.expires_at)
    assert [live(world, t) for t in (first, second, third)] == [False, False, True]


def test_a_token_that_never_was_the_live_one_is_not(world):
    first = root()
    assert not live(world, next_of(first))  # not the family's first, and no state says it is live
    with pytest.raises(TokenRevoked):
        world.families.rotate(next_of(first), new_id(), EXPIRES)
    assert not live(world, first)  # the family is revoked


def test_reusing_a_rotated_token_revokes_its_family(world):
    first = root()
    second = next_of(first)
    world.families.rotate(first, second.jti, second.expires_at)
    with pytest.raises(TokenRevoked):
        world.families.rotate(first, new_id(), EXPIRES)
    assert not live(world, second)
    with pytest.raises(TokenRevoked):
        world.families.rotate(second, new_id(), EXPIRES)
    other = root(first.user_id)  # another sign-in of the same user is another family
    assert live(world, other)


def test_revoke_ends_the_family_once(world):
    first = root()
    world.families.revoke(first)
    assert not live(world, first)
    with pytest.raises(TokenRevoked):
        world.families.revoke(first)
    with pytest.raises(TokenRevoked):
        world.families.rotate(first, new_id(), EXPIRES)


def test_revoking_with_a_rotated_token_revokes_all_the_same(world):
    first = root()
    second = next_of(first)
    world.families.rotate(first, second.jti, second.expires_at)
    with pytest.raises(TokenRevoked):
        world.families.revoke(first)
    assert not live(world, second)


# password resets


def ticket(user_id, digest=None):
    return ResetTicket(user_id=user_id, digest=digest or new_id(), binding=new_id(), expires_at=EXPIRES)


def test_a_users_latest_ticket_is_the_one_kept(world):
    owner = new_id()
    assert world.resets.get(owner) is None
    first, second = ticket(owner), ticket(owner)
    world.resets.put(first)
    assert world.resets.get(owner) == first
    world.resets.put(second)
    assert world.resets.get(owner) == second
    assert world.resets.get(new_id()) is None


def test_redeem_uses_the_ticket_and_saves_the_user_together(world):
    old = user("olivia")
    world.users.add(old)
    pending = ticket(old.id)
    world.resets.put(pending)
    new = old.with_changes(password_hash="new-hash", token_generation=1)
    world.resets.redeem(pending, old, new)
    assert (world.resets.get(old.id), world.users.get(old.id)) == (None, new)
    with pytest.raises(TicketGone):  # used
        world.resets.redeem(pending, new, new.with_changes(password_hash="again"))
    assert world.users.get(old.id) == new


def test_redeem_refuses_a_replaced_ticket_before_a_stale_user(world):
    old = user("peggy")
    world.users.add(old)
    first, second = ticket(old.id), ticket(old.id)
    world.resets.put(first)
    world.resets.put(second)
    world.users.record_login(old.id, old.date_joined)  # the account changed too
    with pytest.raises(TicketGone):
        world.resets.redeem(first, old, old.with_changes(password_hash="x"))
    assert world.resets.get(old.id) == second


def test_redeem_refuses_a_user_changed_since_read_and_keeps_the_ticket(world):
    old = user("quentin")
    world.users.add(old)
    pending = ticket(old.id)
    world.resets.put(pending)
    changed = old.with_changes(email="q@new.example")
    world.users.save(old, changed)
    with pytest.raises(StaleWrite):
        world.resets.redeem(pending, old, old.with_changes(password_hash="x"))
    assert (world.resets.get(old.id), world.users.get(old.id)) == (pending, changed)
