"""Accounts: sign-up, sign-in, token refresh and the caller's own profile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.domain import AuditEntry, Role, User, normalize_username, utcnow
from chalicelib.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from chalicelib.ids import is_valid_id, new_id
from chalicelib.ports import StaleWrite, UniqueViolation, UserRepository
from chalicelib.security import tokens
from chalicelib.security.passwords import BCRYPT_MAX_BYTES, check_password, fits_bcrypt, hash_password
from chalicelib.services.password_rules import password_problems

MAX_USERNAME = 150
BAD_CREDENTIALS = "No active account found with the given credentials"
TAKEN = {
    "username": "A user with that username already exists.",
    "email": "A user with that email already exists.",
}


@dataclass(frozen=True)
class TokenPolicy:
    """How tokens are signed and how long they live."""

    key: bytes
    lifetimes: tokens.Lifetimes


def _token_error(message: str) -> NotAuthenticated:
    return NotAuthenticated(message, code="token_not_valid")


def check_new_password(password: str, *, username: str, email: str) -> None:
    """Refuse a password bcrypt cannot hash whole or that Django's validators reject (400 on `password`)."""
    if not fits_bcrypt(password):
        raise ValidationFailed({"password": [f"Ensure this field has no more than {BCRYPT_MAX_BYTES} bytes."]})
    problems = password_problems(password, username=username, email=email)
    if problems:
        raise ValidationFailed({"password": problems})


def register(users: UserRepository, *, username: str, email: str, password: str, rounds: int) -> User:
    """Create a USER account; the username and email are unique whatever their case."""
    check_new_password(password, username=username, email=email)
    return create_user(users, username=username, email=email, password=password, rounds=rounds)


def create_user(
    users: UserRepository,
    *,
    username: str,
    email: str,
    password: str,
    rounds: int,
    role: Role = Role.USER,
    is_staff: bool = False,
    user_id: str | None = None,
    audit: AuditEntry | None = None,
) -> User:
    """Store a new account without the strength rules (the command-line tool and seeding use this too), with
    `audit` in the same transaction when staff create it (then `user_id` is the id the entry names)."""
    user = User(
        id=user_id or new_id(),
        username=normalize_username(username),
        email=email,
        password_hash=hash_password(password, rounds),
        role=role,
        is_staff=is_staff,
    )
    try:
        users.add(user, audit)
    except UniqueViolation as exc:
        raise ValidationFailed({field: [TAKEN[field]] for field in exc.fields}) from exc
    return user


def obtain_tokens(
    users: UserRepository, policy: TokenPolicy, *, username: str, password: str, rounds: int
) -> dict[str, str]:
    """A refresh and an access token for valid credentials of an active account."""
    # Longer names cannot exist (and would exceed a DynamoDB key); they still pay for a dummy hash check.
    user = users.get_by_username(username) if len(username) <= MAX_USERNAME else None
    valid = check_password(password, user.password_hash if user else None, rounds)
    if user is None or not valid or not user.is_active:
        raise NotAuthenticated(BAD_CREDENTIALS)
    users.record_login(user.id, utcnow())
    return {
        "refresh": tokens.issue(user.id, tokens.REFRESH, policy.lifetimes.refresh_seconds, policy.key),
        "access": tokens.issue(user.id, tokens.ACCESS, policy.lifetimes.access_seconds, policy.key),
    }


def refresh_access(users: UserRepository, policy: TokenPolicy, *, refresh: str) -> dict[str, str]:
    """A new access token for a valid refresh token whose account is still active."""
    try:
        claims = tokens.decode(refresh, policy.key, policy.lifetimes, expected_type=tokens.REFRESH)
    except tokens.TokenError as exc:
        raise _token_error(str(exc)) from exc
    user = users.get(claims.user_id) if is_valid_id(claims.user_id) else None
    if user is None or not user.is_active:
        raise NotAuthenticated("No active account found for the given token.", code="no_active_account")
    return {"access": tokens.issue(user.id, tokens.ACCESS, policy.lifetimes.access_seconds, policy.key)}


def verify(policy: TokenPolicy, *, token: str) -> None:
    """Succeed when `token` (access or refresh) is authentic and unexpired."""
    try:
        tokens.decode(token, policy.key, policy.lifetimes)
    except tokens.TokenError as exc:
        raise _token_error(str(exc)) from exc


def profile(users: UserRepository, user_id: str) -> User:
    """The caller's own account."""
    user = users.get(user_id)
    if user is None:
        raise NotFound()
    return user


def update_profile(users: UserRepository, user_id: str, changes: dict[str, Any]) -> User:
    """Apply `changes` (email, avatar) to the caller's account."""
    return change(users, lambda: profile(users, user_id), changes)


def change(
    users: UserRepository,
    load: Callable[[], User],
    changes: dict[str, Any],
    audit: Callable[[User, User], AuditEntry | None] | None = None,
) -> User:
    """Apply `changes` to the account `load` reads. With `audit`, its entry for (before, after) is written with
    the change, and a change it finds empty (None) is not written at all."""
    # Read, change, write only if unchanged since the read; a concurrent edit makes us start over.
    for _ in range(3):
        current = load()
        updated = current.with_changes(**changes)
        entry = audit(current, updated) if audit is not None else None
        if audit is not None and entry is None:
            return current
        try:
            users.save(current, updated, entry)
            return updated
        except UniqueViolation as exc:
            raise ValidationFailed({field: [TAKEN[field]] for field in exc.fields}) from exc
        except StaleWrite:
            continue
    raise Conflict("The account changed during the update; try again.", "concurrent_update")


def _by_username(users: UserRepository, username: str) -> User:
    user = users.get_by_username(username)
    if user is None:
        raise NotFound(f"No user named {username!r}.")
    return user


def change_account(users: UserRepository, username: str, **changes: Any) -> User:
    """Staff-side change of role, staff flag or active flag (the command-line tool)."""
    return change(users, lambda: _by_username(users, username), changes)
