"""Staff administration: accounts, every event whatever its status, and the audit log of staff writes.

Every write here is audited: its entry goes into the same transaction as the change (ports' `audit`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.domain.common import Page
from chalicelib.domain.enums import AuditAction, EventStatus, Role
from chalicelib.domain.users import User, identity, normalize_username
from chalicelib.errors import NotFound, PermissionDenied, ValidationFailed
from chalicelib.ids import is_valid_id, new_id
from chalicelib.ports.users import UserQuery, UserRepository
from chalicelib.services import accounts
from chalicelib.services.audit import diff, entry

if TYPE_CHECKING:
    from chalicelib.domain.access import Principal
    from chalicelib.domain.audit import AuditEntry
    from chalicelib.ports.audit import AuditRepository
    from chalicelib.ports.events import EventRepository

# What a user.update entry records (never the password hash, which staff cannot change here anyway).
LOGGED_USER_FIELDS = ("email", "role", "is_staff", "is_active")
CANNOT_UNSTAFF_SELF = "You cannot remove your own staff status."
CANNOT_DEACTIVATE_SELF = "You cannot deactivate your own account."
EMPTY = Page(items=[], next_key=None)


def _require_staff(principal: Principal) -> None:
    # The authorizer's policy and the router keep everyone else out already; a service never trusts that alone.
    if not principal.is_staff:
        raise PermissionDenied()


def list_users(
    users: UserRepository,
    *,
    search: str | None,
    role: Role | None,
    is_staff: bool | None,
    is_active: bool | None,
    limit: int,
    start: dict[str, str] | None,
) -> Page:
    """Users by username, filtered; `search` matches a prefix of the username (and of the e-mail once it holds
    an `@`) whatever its case, compared as usernames are (NFKC, case folding)."""
    term = identity(search.strip()) if search and search.strip() else None
    query = UserQuery(search=term, role=role, is_staff=is_staff, is_active=is_active)
    return users.list_users(query, limit=limit, start=start)


def find_user(users: UserRepository, user_id: str) -> User:
    """One account, whatever its state."""
    user = users.get(user_id) if is_valid_id(user_id) else None
    if user is None:
        raise NotFound()
    return user


def create_user(
    users: UserRepository,
    principal: Principal,
    *,
    username: str,
    email: str,
    password: str,
    role: Role,
    is_staff: bool,
    rounds: int,
) -> User:
    """An account made by staff: any role, staff or not, e-mail optional, password through the validators."""
    _require_staff(principal)
    accounts.check_new_password(password, username=username, email=email)
    user_id = new_id()
    changes = {
        "username": (None, normalize_username(username)),
        "email": (None, email),
        "role": (None, role.value),
        "is_staff": (None, is_staff),
        "is_active": (None, True),
    }
    return accounts.create_user(
        users,
        username=username,
        email=email,
        password=password,
        rounds=rounds,
        role=role,
        is_staff=is_staff,
        user_id=user_id,
        audit=entry(principal, AuditAction.USER_CREATE, user_id, changes),
    )


def update_user(users: UserRepository, principal: Principal, user_id: str, changes: dict[str, Any]) -> User:
    """Change an account's role, staff and active flags or e-mail. Staff cannot take away their own staff
    status or deactivate themselves (nobody could undo it from the console). A change that changes nothing
    writes nothing."""
    _require_staff(principal)
    if user_id == principal.user_id:
        refused = []
        if changes.get("is_staff") is False:
            refused.append(CANNOT_UNSTAFF_SELF)
        if changes.get("is_active") is False:
            refused.append(CANNOT_DEACTIVATE_SELF)
        if refused:
            raise ValidationFailed({"non_field_errors": refused})
    if "role" in changes:
        changes = {**changes, "role": Role(changes["role"])}
    if "email" in changes:
        changes = {**changes, "pending_email": None}  # staff set the address: a change waiting for it lapses

    def audit(before: User, after: User) -> AuditEntry | None:
        changed = diff(before, after, LOGGED_USER_FIELDS)
        return entry(principal, AuditAction.USER_UPDATE, user_id, changed) if changed else None

    return accounts.change(users, lambda: find_user(users, user_id), changes, audit)


def list_events(
    events: EventRepository,
    *,
    status: EventStatus | None,
    creator: str | None,
    limit: int,
    start: dict[str, str] | None,
) -> Page:
    """Every event (drafts and cancelled ones included), newest first; by status and/or creator."""
    if creator is not None and not is_valid_id(creator):
        return EMPTY
    return events.list_all(status=status, creator=creator, limit=limit, start=start)


def list_log(
    log: AuditRepository, *, actor: str | None, object_id: str | None, limit: int, start: dict[str, str] | None
) -> Page:
    """The audit log, newest first; by actor and/or object."""
    if (actor is not None and not is_valid_id(actor)) or (object_id is not None and not is_valid_id(object_id)):
        return EMPTY
    return log.list(actor=actor, object_id=object_id, limit=limit, start=start)
