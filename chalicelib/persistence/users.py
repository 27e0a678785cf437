"""User repository on DynamoDB: users table plus uniqueness markers written in one transaction."""

from __future__ import annotations

from chalicelib.domain import Role, User, identity, iso
from chalicelib.persistence.common import get_or_none, parse_time
from chalicelib.persistence.models import UniqueModel, UserModel
from chalicelib.persistence.transactions import ConditionsFailed, write_transaction
from chalicelib.ports import StaleWrite, UniqueViolation


def username_key(username: str) -> str:
    """Marker key of a username: names equal after NFKC and case folding are one name (`ｕｓｅｒ` is `user`)."""
    return f"USERNAME#{identity(username)}"


def email_key(email: str) -> str:
    """Marker key of an email address, compared the same way."""
    return f"EMAIL#{identity(email)}"


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
        token_generation=int(item.token_gen or 0),
    )


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
        version=user.version,
        token_gen=user.token_generation,
    )


class DynamoUserRepository:
    """Implements ports.UserRepository."""

    def get(self, user_id: str) -> User | None:
        item = get_or_none(UserModel, user_id)
        return _to_domain(item) if item else None

    def get_by_username(self, username: str) -> User | None:
        return self._by_marker(username_key(username))

    def get_by_email(self, email: str) -> User | None:
        return self._by_marker(email_key(email))

    def _by_marker(self, key: str) -> User | None:
        marker = get_or_none(UniqueModel, key)
        return self.get(marker.owner) if marker else None

    def add(self, user: User) -> None:
        markers = {"username": username_key(user.username)}
        if user.email:
            markers["email"] = email_key(user.email)
        try:
            with write_transaction() as tx:
                for field, key in markers.items():
                    tx.save(field, UniqueModel(key=key, owner=user.id), condition=UniqueModel.key.does_not_exist())
                tx.save("user", user_item(user), condition=UserModel.id.does_not_exist())
        except ConditionsFailed as exc:
            taken = [field for field in markers if field in exc.names]
            if taken:
                raise UniqueViolation(taken) from exc
            raise

    def save(self, old: User, new: User) -> None:
        email_changed = identity(old.email) != identity(new.email)
        try:
            with write_transaction() as tx:
                if email_changed and old.email:
                    tx.delete("old_email", UniqueModel(key=email_key(old.email)), condition=UniqueModel.owner == old.id)
                if email_changed and new.email:
                    marker = UniqueModel(key=email_key(new.email), owner=new.id)
                    tx.save("email", marker, condition=UniqueModel.key.does_not_exist())
                tx.save("user", user_item(new), condition=UserModel.version == old.version)
        except ConditionsFailed as exc:
            if "user" in exc.names or "old_email" in exc.names:
                raise StaleWrite() from exc
            if "email" in exc.names:
                raise UniqueViolation(["email"]) from exc
            raise
