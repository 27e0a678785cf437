"""Accounts: sign-up, sign-in, the refresh-token lifecycle (rotation with reuse detection, sign-out, sign-out
everywhere) and the caller's own profile.

Revocation has two levels. A refresh token belongs to a family (every token rotated from one sign-in), whose
state says which token is live; rotating or signing out changes it, and presenting a token that was already
rotated revokes the family. Above that, every token carries the account's token generation: raising it (a
password change or reset, signing out everywhere) revokes every token of the account at once, access tokens
included, since the authorizer compares the generation on each (uncached) call."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.domain.common import utcnow
from chalicelib.domain.enums import Role, UploadPurpose
from chalicelib.domain.users import User, normalize_username
from chalicelib.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from chalicelib.ids import is_valid_id, new_id
from chalicelib.ports.common import StaleWrite, UniqueViolation
from chalicelib.ports.tokens import RefreshFamilies, RefreshToken, TokenRevoked
from chalicelib.security import tokens
from chalicelib.security.passwords import BCRYPT_MAX_BYTES, check_password, fits_bcrypt, hash_password
from chalicelib.services import uploads
from chalicelib.services.password_rules import password_problems

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from chalicelib.domain.audit import AuditEntry
    from chalicelib.ports.uploads import Claim
    from chalicelib.ports.users import UserRepository
    from chalicelib.services.throttling import Guard

MAX_USERNAME = 150
BAD_CREDENTIALS = "No active account found with the given credentials"
BLACKLISTED = "Token is blacklisted"
NO_ACTIVE_ACCOUNT = "No active account found for the given token."
TAKEN = {
    "username": "A user with that username already exists.",
    "email": "A user with that email already exists.",
}
# A username another account's looks the same as (security.lookalikes): refused like a taken one.
LOOKALIKE = "A user with a username that looks the same already exists."


def _taken(fields: list[str]) -> ValidationFailed:
    errors = {field: [TAKEN[field]] for field in fields if field in TAKEN}
    if "lookalike" in fields and "username" not in errors:
        errors["username"] = [LOOKALIKE]
    return ValidationFailed(errors)


@dataclass(frozen=True)
class TokenPolicy:
    """How tokens are signed and how long they live."""

    key: tokens.Keys
    lifetimes: tokens.Lifetimes
    # simplejwt's ROTATE_REFRESH_TOKENS with BLACKLIST_AFTER_ROTATION.
    rotate: bool = True


def _token_error(message: str) -> NotAuthenticated:
    return NotAuthenticated(message, code="token_not_valid")


def password_errors(password: str, *, username: str, email: str) -> list[str]:
    """Why `password` cannot be an account's password: bcrypt's limit, then Django's four validators."""
    if not fits_bcrypt(password):
        return [f"Ensure this field has no more than {BCRYPT_MAX_BYTES} bytes."]
    return password_problems(password, username=username, email=email)


def check_new_password(password: str, *, username: str, email: str, field: str = "password") -> None:
    """Refuse a password bcrypt cannot hash whole or that Django's validators reject (400 on `field`)."""
    problems = password_errors(password, username=username, email=email)
    if problems:
        raise ValidationFailed({field: problems})


def register(users: UserRepository, *, username: str, email: str, password: str, rounds: int) -> User:
    """Create a USER account; the username and email are unique whatever their case."""
    check_new_password(password, username=username, email=email)
    return create_user(users, username=username, email=email, password=password, rounds=rounds)


def sign_up(
    users: UserRepository, guard: Guard, *, client_ip: str, username: str, email: str, password: str, rounds: int
) -> User:
    """`register`, counted against the client IP's sign-up limit first."""
    guard.count(guard.sign_up(client_ip))
    return register(users, username=username, email=email, password=password, rounds=rounds)


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
        raise _taken(exc.fields) from exc
    return user


def _access_token(user: User, policy: TokenPolicy, now: int | None = None) -> str:
    return tokens.issue(
        user.id, tokens.ACCESS, policy.lifetimes.access_seconds, policy.key, now, generation=user.token_generation
    )


def _refresh_token(user: User, policy: TokenPolicy, *, jti: str, family: str, now: int | None = None) -> str:
    lifetime = policy.lifetimes.refresh_seconds
    return tokens.issue(
        user.id, tokens.REFRESH, lifetime, policy.key, now, jti=jti, generation=user.token_generation, family=family
    )


def obtain_tokens(
    users: UserRepository, policy: TokenPolicy, *, username: str, password: str, rounds: int
) -> dict[str, str]:
    """A refresh and an access token for valid credentials of an active account; the refresh token starts a
    family of its own (nothing is stored until it is first rotated or revoked)."""
    # Longer names cannot exist (and would exceed a DynamoDB key); they still pay for a dummy hash check.
    user = users.get_by_username(username) if len(username) <= MAX_USERNAME else None
    valid = check_password(password, user.password_hash if user else None, rounds)
    if user is None or not valid or not user.is_active:
        raise NotAuthenticated(BAD_CREDENTIALS)
    users.record_login(user.id, utcnow())
    family = tokens.new_jti()
    return {
        "refresh": _refresh_token(user, policy, jti=family, family=family),
        "access": _access_token(user, policy),
    }


def sign_in(
    users: UserRepository,
    guard: Guard,
    policy: TokenPolicy,
    *,
    client_ip: str,
    username: str,
    password: str,
    rounds: int,
) -> dict[str, str]:
    """`obtain_tokens` behind the sign-in throttles (services.throttling.Guard.password_check): a (username,
    client) pair or a client IP whose failures used up their window is refused (429) before any password is
    checked, even the right one; only verdicts count."""
    with guard.password_check(guard.sign_in(username, client_ip)) as attempt:
        try:
            pair = obtain_tokens(users, policy, username=username, password=password, rounds=rounds)
        except NotAuthenticated:
            attempt.failed()
            raise
        attempt.succeeded()
        return pair


def _decode(policy: TokenPolicy, token: str, expected_type: str | None) -> tokens.Claims:
    try:
        return tokens.decode(token, policy.key, policy.lifetimes, expected_type=expected_type)
    except tokens.TokenError as exc:
        raise _token_error(str(exc)) from exc


@contextmanager
def _revocation_refused() -> Iterator[None]:
    """simplejwt's answer for a revoked token."""
    try:
        yield
    except TokenRevoked as exc:
        raise _token_error(BLACKLISTED) from exc


def _held(claims: tokens.Claims) -> RefreshToken:
    return RefreshToken(user_id=claims.user_id, jti=claims.jti, family=claims.family, expires_at=claims.exp)


def refresh(
    users: UserRepository, families: RefreshFamilies, policy: TokenPolicy, *, refresh: str, now: int | None = None
) -> dict[str, str]:
    """A new access token for a live refresh token of an active account. With rotation (the default) also a
    new refresh token, which replaces the one sent: that one is revoked, and presenting it again revokes its
    whole family (a thief and a victim cannot both keep going)."""
    claims = _decode(policy, refresh, tokens.REFRESH)
    user = users.get(claims.user_id) if is_valid_id(claims.user_id) else None
    if user is not None and claims.generation != user.token_generation:
        raise _token_error(BLACKLISTED)
    if user is None or not user.is_active:
        raise NotAuthenticated(NO_ACTIVE_ACCOUNT, code="no_active_account")
    issued = int(time.time()) if now is None else now
    successor = tokens.new_jti()
    with _revocation_refused():
        if policy.rotate:
            families.rotate(_held(claims), successor, issued + policy.lifetimes.refresh_seconds)
        else:
            families.check(_held(claims))
    answer = {"access": _access_token(user, policy, issued)}
    if policy.rotate:
        answer["refresh"] = _refresh_token(user, policy, jti=successor, family=claims.family, now=issued)
    return answer


def verify(users: UserRepository, families: RefreshFamilies, policy: TokenPolicy, *, token: str) -> None:
    """Succeed when `token` (access or refresh) is authentic, unexpired and not revoked (a refresh token must
    be its family's live one). Reads only: verifying an old token is not taken for its reuse."""
    claims = _decode(policy, token, None)
    user = users.get(claims.user_id) if is_valid_id(claims.user_id) else None
    if user is not None and claims.generation != user.token_generation:
        raise _token_error(BLACKLISTED)
    if claims.token_type == tokens.REFRESH:
        with _revocation_refused():
            families.check(_held(claims))


def blacklist(families: RefreshFamilies, policy: TokenPolicy, *, refresh: str) -> None:
    """Sign out: revoke the refresh token (its family). A token already revoked or rotated is refused as
    blacklisted, and its family revoked all the same."""
    claims = _decode(policy, refresh, tokens.REFRESH)
    with _revocation_refused():
        families.revoke(_held(claims))


def next_generation(current: User) -> dict[str, Any]:
    """The change that revokes every token `current` holds; a change of e-mail address waiting for its
    confirmation lapses with them (someone who held a session asked for it, perhaps not the owner)."""
    return {"token_generation": current.token_generation + 1, "pending_email": None}


def sign_out_everywhere(users: UserRepository, user_id: str) -> None:
    """Revoke every token of the account: raise its token generation."""
    change(users, lambda: profile(users, user_id), next_generation)


def profile(users: UserRepository, user_id: str) -> User:
    """The caller's own account."""
    user = users.get(user_id)
    if user is None:
        raise NotFound()
    return user


def update_profile(users: UserRepository, user_id: str, changes: dict[str, Any], *, media: uploads.Media) -> User:
    """Apply `changes` to the caller's account: `email`, and `avatar`, an upload of the caller's (checked,
    published and used up in the same write) or None to remove it. The replaced image is deleted."""
    read: list[User] = []

    def load() -> User:
        read.append(profile(users, user_id))  # the last one read is the one the saved change replaced
        return read[-1]

    upload_id = changes.get("avatar")
    if upload_id is None:
        after = change(users, load, changes)
    else:
        verified = uploads.verify(media, "avatar", upload_id, user_id, UploadPurpose.AVATAR)
        with uploads.claiming(media, "avatar", verified):
            after = change(users, load, {**changes, "avatar": verified.key}, claim=verified.claim)
    uploads.replaced(media, read[-1].avatar, after.avatar)
    return after


def change(
    users: UserRepository,
    load: Callable[[], User],
    changes: dict[str, Any] | Callable[[User], dict[str, Any]],
    audit: Callable[[User, User], AuditEntry | None] | None = None,
    claim: Claim | None = None,
) -> User:
    """Save the account `load` reads with `changes` applied (a dict, or a function of the account read), only if
    unchanged since that read; a concurrent edit makes it start over (a few times, then 409). With `audit`, its
    entry for (before, after) is written in the same transaction, and a change it finds empty (None) is not
    written at all. With `claim`, the upload it names is used up in that transaction too."""
    for _ in range(3):
        current = load()
        updated = current.with_changes(**(changes(current) if callable(changes) else changes))
        entry = audit(current, updated) if audit is not None else None
        if audit is not None and entry is None:
            return current
        try:
            users.save(current, updated, entry, claim)
            return updated
        except UniqueViolation as exc:
            raise _taken(exc.fields) from exc
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
