"""Passwords: changing one (signed in) and resetting a forgotten one by e-mail. Both revoke every token the
account holds, by raising its token generation in the same write as the new password hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from chalicelib import metrics
from chalicelib.domain.users import PendingEmail, User, identity
from chalicelib.errors import Conflict, ValidationFailed
from chalicelib.ids import is_valid_id
from chalicelib.logs import get_logger
from chalicelib.ports.common import StaleWrite, UniqueViolation
from chalicelib.ports.mail import Mailer, MailMessage, MailUnavailable
from chalicelib.ports.tokens import PasswordResets, ResetTicket, TicketGone
from chalicelib.security.passwords import check_password, hash_password
from chalicelib.services.accounts import change, next_generation, password_errors, profile

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.ports.users import UserRepository
    from chalicelib.services.throttling import Guard

WRONG_OLD_PASSWORD = "Your old password was entered incorrectly. Please enter it again."
INVALID = "Invalid value"
RESET_SENT = "Password reset e-mail has been sent."
RESET_DONE = "Password has been reset with the new password."
RESET_SECONDS = 3600
ATTEMPTS = 3
SITE_NAME = "Sessions Marketplace"

log = get_logger()


def _revoking(password_hash: str) -> Callable[[User], dict[str, Any]]:
    def changes(current: User) -> dict[str, Any]:
        return {"password_hash": password_hash, **next_generation(current)}

    return changes


def change_password(
    users: UserRepository,
    guard: Guard,
    user_id: str,
    *,
    old_password: str,
    new_password: str,
    client_ip: str,
    rounds: int,
) -> None:
    """Replace the caller's password, proven by the old one, and revoke every token of the account.

    Checking the old password counts like a sign-in (the same throttles): a stolen access token is no way
    around the sign-in lock."""
    user = profile(users, user_id)
    errors: dict[str, list[str]] = {}
    with guard.password_check(guard.sign_in(user.username, client_ip)) as attempt:
        if not check_password(old_password, user.password_hash, rounds):
            attempt.failed()
            errors["old_password"] = [WRONG_OLD_PASSWORD]
        else:
            attempt.succeeded()
    problems = password_errors(new_password, username=user.username, email=user.email)
    if problems:
        errors["new_password"] = problems
    if errors:
        raise ValidationFailed(errors)
    revoke = _revoking(hash_password(new_password, rounds))

    def changes(current: User) -> dict[str, Any]:
        # The old password was proven against this hash: if another change won meanwhile, it no longer is.
        if current.password_hash != user.password_hash:
            raise ValidationFailed({"old_password": [WRONG_OLD_PASSWORD]})
        return revoke(current)

    change(users, lambda: profile(users, user_id), changes)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _binding(user: User) -> str:
    # A ticket is for the password and the address it was e-mailed to: a change of either voids it.
    return hashlib.sha256(f"{user.password_hash}\0{identity(user.email)}".encode()).hexdigest()


def reset_link(web_app_url: str, user_id: str, token: str) -> str:
    """The web app's reset page for this ticket."""
    return f"{web_app_url}/reset-password?{urlencode({'uid': user_id, 'token': token})}"


def _reset_message(user: User, link: str) -> MailMessage:
    text = (
        f"You're receiving this e-mail because you requested a password reset for your user account at "
        f"{SITE_NAME}.\n\n"
        f"Please go to the following page and choose a new password:\n\n{link}\n\n"
        f"The link works once, within an hour. Your username, in case you've forgotten: {user.username}\n\n"
        f"If you did not ask for this, ignore this e-mail: your password stays as it is.\n\n"
        f"Thanks for using our site!\n\nThe {SITE_NAME} team\n"
    )
    return MailMessage(to=user.email, subject=f"Password reset on {SITE_NAME}", text=text)


def _send_reset(
    users: UserRepository, resets: PasswordResets, mailer: Mailer, *, email: str, web_app_url: str, now: int
) -> None:
    user = users.get_by_email(email)
    if user is None or not user.is_active or not user.email:
        return  # as Django: only active accounts get a link
    token = secrets.token_urlsafe(32)
    resets.put(ResetTicket(user.id, _digest(token), _binding(user), now + RESET_SECONDS))
    try:
        mailer.send(_reset_message(user, reset_link(web_app_url, user.id, token)))
    except MailUnavailable:
        # The answer must not differ from an unknown address's; the user can ask again.
        log.exception("password reset e-mail not sent")
        metrics.count(metrics.RESET_MAIL_FAILED)


def request_reset(
    users: UserRepository,
    resets: PasswordResets,
    mailer: Mailer,
    guard: Guard,
    *,
    email: str,
    client_ip: str,
    web_app_url: str,
    min_seconds: float,
    now: int | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> str:
    """E-mail a single-use reset link (valid an hour, replacing any earlier one) if `email` belongs to an
    active account. The answer is the same either way, and takes at least `min_seconds` either way, so that
    neither tells whether the address has an account. Past the address's own limit nothing is sent, again
    with the same answer (no mail-bombing anyone)."""
    clock = clock or time.monotonic
    started = clock()
    guard.count(guard.reset(client_ip))
    try:
        if guard.allows(guard.reset_address(email)):
            at = int(time.time()) if now is None else now
            _send_reset(users, resets, mailer, email=email, web_app_url=web_app_url, now=at)
    finally:
        remaining = min_seconds - (clock() - started)
        if remaining > 0:
            (sleep or time.sleep)(remaining)
    return RESET_SENT


def confirm_reset(
    users: UserRepository,
    resets: PasswordResets,
    *,
    uid: str,
    token: str,
    new_password: str,
    rounds: int,
    now: int | None = None,
) -> str:
    """Set a new password with an e-mailed ticket: single use, an hour, void once the password or address
    changed; every token of the account is revoked in the same transaction that uses the ticket up."""
    at = int(time.time()) if now is None else now
    password_hash: str | None = None
    for _ in range(ATTEMPTS):
        user = users.get(uid) if is_valid_id(uid) else None
        if user is None:
            raise ValidationFailed({"uid": [INVALID]})
        ticket = resets.get(user.id)
        if (
            ticket is None
            or not user.is_active
            or ticket.expires_at <= at
            or ticket.binding != _binding(user)
            or not hmac.compare_digest(ticket.digest, _digest(token))
        ):
            raise ValidationFailed({"token": [INVALID]})
        problems = password_errors(new_password, username=user.username, email=user.email)
        if problems:
            raise ValidationFailed({"new_password": problems})
        password_hash = password_hash or hash_password(new_password, rounds)
        try:
            resets.redeem(ticket, user, user.with_changes(**_revoking(password_hash)(user)))
        except TicketGone as exc:
            raise ValidationFailed({"token": [INVALID]}) from exc
        except StaleWrite:
            continue
        return RESET_DONE
    raise Conflict("The account changed during the update; try again.", "concurrent_update")


# Changing the e-mail address (the address that receives password resets): proven by the current password, and
# confirmed from the new address; the old one is told.

EMAIL_CHANGE_SECONDS = 3600
NEED_PASSWORD = "Enter your current password to change your e-mail address."
WRONG_PASSWORD = "Your password was entered incorrectly. Please enter it again."
EMAIL_CHANGED = "Your e-mail address has been changed."


def email_change_link(web_app_url: str, user_id: str, token: str) -> str:
    """The web app's page that confirms a new address."""
    return f"{web_app_url}/confirm-email?{urlencode({'uid': user_id, 'token': token})}"


def _masked(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}{'•' * max(len(local) - 1, 1)}@{domain}"


def prove_email_change(
    users: UserRepository,
    guard: Guard,
    user_id: str,
    *,
    email: str,
    current_password: str | None,
    client_ip: str,
    rounds: int,
) -> User | None:
    """Check a request to change the caller's e-mail address before anything is written: proven by the current
    password (counted like a sign-in), to an address no other account has. The account as read, or None when
    the address is the one it has (nothing to do)."""
    user = profile(users, user_id)
    if email == user.email:
        return None
    if not current_password:
        raise ValidationFailed({"current_password": [NEED_PASSWORD]})
    with guard.password_check(guard.sign_in(user.username, client_ip)) as attempt:
        if not check_password(current_password, user.password_hash, rounds):
            attempt.failed()
            raise ValidationFailed({"current_password": [WRONG_PASSWORD]})
        attempt.succeeded()
    taken = users.get_by_email(email) if email else None
    if taken is not None and taken.id != user.id:
        raise ValidationFailed({"email": ["A user with that email already exists."]})
    return user


def request_email_change(
    users: UserRepository, mailer: Mailer, proven: User, *, email: str, web_app_url: str, now: int | None = None
) -> User:
    """Record the change `prove_email_change` checked: a link valid an hour is e-mailed to the new address, and
    the old one is told; the address changes when the link is opened (confirm_email_change). Removing the
    address takes effect at once (there is nothing to confirm it from)."""
    at = int(time.time()) if now is None else now

    def asked(current: User) -> dict[str, Any]:
        # The password was proven against this hash: if it changed meanwhile, so did who may ask.
        if current.password_hash != proven.password_hash:
            raise ValidationFailed({"current_password": [WRONG_PASSWORD]})
        if not email:
            return {"email": "", "pending_email": None}
        return {"pending_email": PendingEmail(email, _digest(token), at + EMAIL_CHANGE_SECONDS)}

    token = secrets.token_urlsafe(32)
    updated = change(users, lambda: profile(users, proven.id), asked)
    if email:
        _send(mailer, _confirmation_message(updated, email, email_change_link(web_app_url, proven.id, token)))
    _tell_old_address(mailer, proven, email)
    return updated


def confirm_email_change(users: UserRepository, *, uid: str, token: str, now: int | None = None) -> str:
    """Change the address to the one the e-mailed link was sent to (single use, an hour; void once the password
    changed or the account signed out everywhere). The address must still be free."""
    at = int(time.time()) if now is None else now
    for _ in range(ATTEMPTS):
        user = users.get(uid) if is_valid_id(uid) else None
        if user is None:
            raise ValidationFailed({"uid": [INVALID]})
        pending = user.pending_email
        if (
            pending is None
            or not user.is_active
            or pending.expires_at <= at
            or not hmac.compare_digest(pending.digest, _digest(token))
        ):
            raise ValidationFailed({"token": [INVALID]})
        try:
            users.save(user, user.with_changes(email=pending.address, pending_email=None))
        except UniqueViolation as exc:
            raise ValidationFailed({"email": ["A user with that email already exists."]}) from exc
        except StaleWrite:
            continue
        return EMAIL_CHANGED
    raise Conflict("The account changed during the update; try again.", "concurrent_update")


def _confirmation_message(user: User, address: str, link: str) -> MailMessage:
    text = (
        f"Hello {user.username},\n\n"
        f"Please confirm that this is the new e-mail address of your account at {SITE_NAME}:\n\n{link}\n\n"
        f"The link works once, within an hour. Until it is opened your address stays as it was.\n\n"
        f"If you did not ask for this, ignore this e-mail.\n\nThe {SITE_NAME} team\n"
    )
    return MailMessage(to=address, subject=f"Confirm your new e-mail address on {SITE_NAME}", text=text)


def _tell_old_address(mailer: Mailer, user: User, new_address: str) -> None:
    if not user.email:
        return
    what = (
        f"a change of its e-mail address to {_masked(new_address)} was asked for. It takes effect only when the "
        f"link sent to that address is opened"
        if new_address
        else "its e-mail address was removed"
    )
    text = (
        f"Hello {user.username},\n\nSomeone signed in to your account at {SITE_NAME} with its password: {what}.\n\n"
        f"If it was not you, change your password now (it also cancels a change not yet confirmed), and sign out "
        f"everywhere from your profile.\n\nThe {SITE_NAME} team\n"
    )
    _send(mailer, MailMessage(to=user.email, subject=f"Your e-mail address on {SITE_NAME}", text=text))


def _send(mailer: Mailer, message: MailMessage) -> None:
    try:
        mailer.send(message)
    except MailUnavailable:
        # The change is recorded; the user can ask again (a new link replaces this one).
        log.exception("e-mail address change message not sent")
