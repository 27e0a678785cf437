"""User repository on DynamoDB: users table plus uniqueness markers written in one transaction."""

from __future__ import annotations

import hashlib
from itertools import combinations
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import UpdateError

from chalicelib.domain.common import Page, iso
from chalicelib.domain.enums import Role
from chalicelib.domain.users import NotificationPreferences, PendingEmail, User, identity
from chalicelib.persistence.common import Stream, get_or_none, merge_streams, parse_time
from chalicelib.persistence.errors import error_code, translate_errors
from chalicelib.persistence.models import ALL, USER_FACETS, facet_attribute
from chalicelib.persistence.models.uniques import UniqueModel
from chalicelib.persistence.models.users import UserModel
from chalicelib.persistence.transactions import ConditionsFailed, write_transaction
from chalicelib.ports.common import StaleWrite, UniqueViolation

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from pynamodb.expressions.update import Action

    from chalicelib.domain.audit import AuditEntry
    from chalicelib.ports.uploads import Claim
    from chalicelib.ports.users import UserQuery

# Above every character a username or an e-mail can hold: `prefix + LAST` bounds the keys starting with prefix.
LAST = "\U0010ffff"
# DynamoDB refuses index sort keys over 1024 bytes; a name that long (NFKC can expand a character into many)
# is cut to leave room for `#<id>`. A search compares the whole name once the index has found the cut one.
KEY_NAME_BYTES = 990
# DynamoDB's limit on a partition key: a longer one is refused, not merely absent.
MAX_KEY_BYTES = 2048


def username_key(username: str) -> str:
    """Marker key of a username: names equal after NFKC and case folding are one name (`ｕｓｅｒ` is `user`)."""
    return f"USERNAME#{identity(username)}"


def lookalike_key(username: str) -> str:
    """Marker key of how a username looks (security.lookalikes): one account per look. A digest, so that a key
    stays short whatever a skeleton expands to, and names stay out of it."""
    from chalicelib.security.lookalikes import lookalike_key as key  # only writers of accounts load the data

    return f"LOOKALIKE#{hashlib.sha256(key(username).encode('utf-8', 'surrogatepass')).hexdigest()}"


def email_key(email: str) -> str:
    """Marker key of an email address, compared the same way."""
    return f"EMAIL#{identity(email)}"


def _key_name(name: str) -> str:
    """A name as the staff's indexes sort and search it: its identity, cut to what a key can hold."""
    return identity(name).encode()[:KEY_NAME_BYTES].decode(errors="ignore")


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _facets(role: Role | None, staff: bool | None, active: bool | None) -> dict[str, str]:
    """The given facet values, by facet name, as the index keys spell them."""
    values = {
        "role": role.value if role is not None else None,
        "staff": _flag(staff) if staff is not None else None,
        "active": _flag(active) if active is not None else None,
    }
    return {name: value for name, value in values.items() if value is not None}


def _index_keys(user: User) -> dict[str, Any]:
    """The attributes that place the user in the staff's indexes (see models.UserModel)."""
    facets = _facets(user.role, user.is_staff, user.is_active)
    keys: dict[str, Any] = {
        "name_sk": f"{_key_name(user.username)}#{user.id}",
        "email_sk": f"{_key_name(user.email)}#{user.id}" if user.email else None,
        "all_key": ALL,
    }
    for size in range(1, len(USER_FACETS) + 1):
        for combination in combinations(USER_FACETS, size):
            keys[facet_attribute(combination)] = "|".join(facets[name] for name in combination)
    return keys


def _to_domain(item: UserModel) -> User:
    date_joined = parse_time(item.date_joined)
    assert date_joined is not None
    return User(
        id=item.id,
        username=item.username,
        email=item.email or "",
        password_hash=item.password_hash,
        role=Role(item.role),
        is_staff=bool(item.is_staff),
        is_active=bool(item.is_active),
        avatar=item.avatar,
        date_joined=date_joined,
        last_login=parse_time(item.last_login),
        version=int(item.version),
        token_generation=int(item.token_gen or 0),
        pending_email=_pending(item),
        notifications=NotificationPreferences(
            reminders=item.notify_reminders is not False,
            digest=item.notify_digest is not False,
            timezone=item.notify_timezone,
        ),
        calendar_secret=item.calendar_secret,
        display_name=item.display_name or "",
        bio=item.bio or "",
    )


def _pending(item: UserModel) -> PendingEmail | None:
    if item.pending_email is None or item.pending_email_digest is None or item.pending_email_expires is None:
        return None
    return PendingEmail(item.pending_email, item.pending_email_digest, int(item.pending_email_expires))


def user_item(user: User) -> UserModel:
    """The users-table item of `user`."""
    return UserModel(
        id=user.id,
        username=user.username,
        email=user.email,
        password_hash=user.password_hash,
        role=user.role.value,
        is_staff=user.is_staff,
        is_active=user.is_active,
        avatar=user.avatar,
        date_joined=iso(user.date_joined),
        last_login=iso(user.last_login) if user.last_login else None,
        version=user.version,
        token_gen=user.token_generation,
        pending_email=user.pending_email.address if user.pending_email else None,
        pending_email_digest=user.pending_email.digest if user.pending_email else None,
        pending_email_expires=user.pending_email.expires_at if user.pending_email else None,
        notify_reminders=user.notifications.reminders,
        notify_digest=user.notifications.digest,
        notify_timezone=user.notifications.timezone,
        calendar_secret=user.calendar_secret,
        display_name=user.display_name or None,
        bio=user.bio or None,
        **_index_keys(user),
    )


def _stream(
    index: Any,
    partition: str,
    sort_key: Any,
    prefix: str | None,
    after: str | None,
    limit: int,
    keep: Callable[[User], bool],
) -> Stream:
    """One Query of at most a page, in key order, after the key `after` (a prefix range includes `after`
    itself, read once more and dropped); `keep` says which users the list shows."""
    count = limit + 1
    if after is None:
        condition = sort_key.startswith(prefix) if prefix else None
    elif prefix:
        condition = sort_key.between(after, prefix + LAST)
        count += 1
    else:
        condition = sort_key > after
    items = list(index.query(partition, condition, scan_index_forward=True, limit=count, page_size=count))
    read = []
    for item in items:
        key = str(getattr(item, sort_key.attr_name))
        if key != after:
            user = _to_domain(item)
            read.append((key, user, keep(user)))
    return Stream(read=read, more=len(items) == count)


class DynamoUserRepository:
    """Implements ports.UserRepository."""

    def get(self, user_id: str) -> User | None:
        item = get_or_none(UserModel, user_id)
        return _to_domain(item) if item else None

    def get_by_username(self, username: str) -> User | None:
        key = username_key(username)
        # A name from a URL, not from sign-up, may be one no marker can have: a key DynamoDB would refuse
        # (too long, or not UTF-8) is simply nobody's.
        try:
            if len(key.encode()) > MAX_KEY_BYTES:
                return None
        except UnicodeEncodeError:
            return None
        return self._by_marker(key)

    def get_by_email(self, email: str) -> User | None:
        return self._by_marker(email_key(email))

    def _by_marker(self, key: str) -> User | None:
        marker = get_or_none(UniqueModel, key)
        return self.get(marker.owner) if marker else None

    def add(self, user: User, audit: AuditEntry | None = None) -> None:
        # The writers import what only they use: the authorizer reads users at every cold start and never writes.
        from chalicelib.persistence.audit import add_entry

        markers = {"username": username_key(user.username), "lookalike": lookalike_key(user.username)}
        if user.email:
            markers["email"] = email_key(user.email)
        try:
            with write_transaction() as tx:
                for field, key in markers.items():
                    tx.save(field, UniqueModel(key=key, owner=user.id), condition=UniqueModel.key.does_not_exist())
                tx.save("user", user_item(user), condition=UserModel.id.does_not_exist())
                if audit is not None:
                    add_entry(tx, audit)
        except ConditionsFailed as exc:
            taken = [field for field in markers if field in exc.names]
            if taken:
                raise UniqueViolation(taken) from exc
            raise

    def save(self, old: User, new: User, audit: AuditEntry | None = None, claim: Claim | None = None) -> None:
        from chalicelib.persistence.audit import add_entry
        from chalicelib.persistence.uploads import CLAIM, claim_upload
        from chalicelib.ports.uploads import UploadUnavailable

        email_changed = identity(old.email) != identity(new.email)
        try:
            with write_transaction() as tx:
                if email_changed and old.email:
                    tx.delete("old_email", UniqueModel(key=email_key(old.email)), condition=UniqueModel.owner == old.id)
                if email_changed and new.email:
                    marker = UniqueModel(key=email_key(new.email), owner=new.id)
                    tx.save("email", marker, condition=UniqueModel.key.does_not_exist())
                tx.save("user", user_item(new), condition=UserModel.version == old.version)
                if audit is not None:
                    add_entry(tx, audit)
                if claim is not None:
                    claim_upload(tx, claim)
        except ConditionsFailed as exc:
            if "user" in exc.names or "old_email" in exc.names:
                raise StaleWrite() from exc
            if CLAIM in exc.names:
                raise UploadUnavailable() from exc
            if "email" in exc.names:
                raise UniqueViolation(["email"]) from exc
            raise

    def record_login(self, user_id: str, at: datetime) -> None:
        # The version moves too: a save that read the account before this sign-in would otherwise put back
        # the previous last_login.
        actions: list[Action] = [UserModel.last_login.set(iso(at)), UserModel.version.add(1)]
        with translate_errors():
            try:
                UserModel(id=user_id).update(actions=actions, condition=UserModel.id.exists())
            except UpdateError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise  # a deleted account has no sign-in to record

    def list_users(self, query: UserQuery, *, limit: int, start: dict[str, str] | None) -> Page:
        after = start.get("pos") if start else None
        term = query.search
        prefix = term.encode()[:KEY_NAME_BYTES].decode(errors="ignore") if term else None
        facets = _facets(query.role, query.is_staff, query.is_active)
        combination = tuple(name for name in USER_FACETS if name in facets)
        index = getattr(UserModel, "by_" + "_".join(combination)) if combination else UserModel.by_name
        partition = "|".join(facets[name] for name in combination) or ALL

        def named(user: User) -> bool:
            # The range holds the keys starting with the term's first KEY_NAME_BYTES, among them shorter names
            # followed by `#`: the whole name decides.
            return term is None or identity(user.username).startswith(term)

        def found_by_email(user: User) -> bool:
            return identity(user.email).startswith(term or "") and not named(user) and query.filters_match(user)

        with translate_errors():
            streams = [_stream(index, partition, UserModel.name_sk, prefix, after, limit, named)]
            if query.searches_email:
                streams.append(
                    _stream(UserModel.by_email, ALL, UserModel.email_sk, prefix, after, limit, found_by_email)
                )
        users, pos = merge_streams(streams, limit)
        return Page(items=users, next_key={"pos": pos} if pos is not None else None)


def index_key_actions(item: UserModel) -> list[Action]:
    """What gives a user stored before the staff's indexes their keys there."""
    keys = _index_keys(_to_domain(item))
    return [getattr(UserModel, name).set(value) for name, value in keys.items() if value is not None]
