"""User repository on DynamoDB: users table plus uniqueness markers written in one transaction."""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain import Role, User, iso
from chalicelib.persistence.common import get_or_none, parse_time
from chalicelib.persistence.connection import get_connection
from chalicelib.persistence.errors import cancellation_codes, translate_errors
from chalicelib.persistence.models import UniqueModel, UserModel
from chalicelib.services.ports import StaleWrite, UniqueViolation


def username_key(username: str) -> str:
    """Marker key of a username; case-insensitive uniqueness is uniqueness of the lower-cased form."""
    return f"USERNAME#{username.lower()}"


def email_key(email: str) -> str:
    """Marker key of an email address."""
    return f"EMAIL#{email.lower()}"


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
        version=int(item.version),
    )


def _to_item(user: User) -> UserModel:
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
        version=user.version,
    )


class DynamoUserRepository:
    """Implements services.ports.UserRepository."""

    def get(self, user_id: str) -> User | None:
        item = get_or_none(UserModel, user_id)
        return _to_domain(item) if item else None

    def get_by_username(self, username: str) -> User | None:
        marker = get_or_none(UniqueModel, username_key(username))
        return self.get(marker.owner) if marker else None

    def add(self, user: User) -> None:
        markers = [("username", username_key(user.username))]
        if user.email:
            markers.append(("email", email_key(user.email)))
        with translate_errors():
            try:
                with TransactWrite(connection=get_connection()) as tx:
                    for _, key in markers:
                        tx.save(UniqueModel(key=key, owner=user.id), condition=UniqueModel.key.does_not_exist())
                    tx.save(_to_item(user), condition=UserModel.id.does_not_exist())
            except TransactWriteError as exc:
                codes = cancellation_codes(exc)
                taken = [
                    field for (field, _), code in zip(markers, codes, strict=False) if code == "ConditionalCheckFailed"
                ]
                if taken:
                    raise UniqueViolation(taken) from exc
                raise

    def save(self, old: User, new: User) -> None:
        item = _to_item(new)
        with translate_errors():
            try:
                with TransactWrite(connection=get_connection()) as tx:
                    email_changed = old.email.lower() != new.email.lower()
                    if email_changed and old.email:
                        tx.delete(
                            UniqueModel(key=email_key(old.email)),
                            condition=UniqueModel.owner == old.id,
                        )
                    if email_changed and new.email:
                        tx.save(
                            UniqueModel(key=email_key(new.email), owner=new.id),
                            condition=UniqueModel.key.does_not_exist(),
                        )
                    tx.save(item, condition=UserModel.version == old.version)
            except TransactWriteError as exc:
                codes = cancellation_codes(exc)
                if codes and codes[-1] == "ConditionalCheckFailed":
                    raise StaleWrite() from exc
                # Puts follow deletes in the request, so the new email marker is the item before the user.
                if email_changed and new.email and len(codes) >= 2 and codes[-2] == "ConditionalCheckFailed":
                    raise UniqueViolation(["email"]) from exc
                raise
