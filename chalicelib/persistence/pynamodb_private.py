"""The one module that reaches into pynamodb's private API, for what its public API does not offer: a model's
botocore client and its table schema (maintenance: adding an index to an existing table), the botocore session
its connections take (one shared, not one per table), and a hook on every client pynamodb creates (make bench
counts the DynamoDB requests of each endpoint).

Pinned by tests/unit/test_library_seams.py: an upgrade of pynamodb that changes any of this fails there, by name,
instead of in `manage.py createtables` or the benchmark."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from pynamodb.models import Model


def client_of(model: type[Model]) -> Any:
    """The botocore DynamoDB client the model's table connection uses."""
    return model._get_connection().connection.client


def schema_of(model: type[Model]) -> dict[str, Any]:
    """The model's table as pynamodb would create it: key schema, attributes, indexes (with their projections)."""
    return dict(model._get_schema())


def ttl_attribute_of(model: type[Model]) -> str | None:
    """The name of the model's TTL attribute, if it has one."""
    ttl = model._ttl_attribute()  # type: ignore[no-untyped-call]
    return str(ttl.attr_name) if ttl is not None else None


def share_sessions() -> None:
    """Give the pynamodb connections created from now on one botocore session per thread, instead of a session
    each: a new session reads botocore's data files again (the endpoints, DynamoDB's model), about 0.1 s of CPU,
    so a container paid it once per table, on the first request touching each (and `manage.py createtables` 1.3 s
    for the twelve). One per thread, as pynamodb keeps them: botocore's client creation is not thread-safe."""
    import threading

    from botocore.session import get_session
    from pynamodb.connection import base

    per_thread = threading.local()

    def shared() -> Any:
        session = getattr(per_thread, "session", None)
        if session is None:
            session = per_thread.session = get_session()
        return session

    base.get_session = shared  # type: ignore[attr-defined]


def on_every_client(register: Callable[[Any], None]) -> None:
    """Call `register` with each botocore client pynamodb creates from now on (once per client)."""
    from pynamodb.connection.base import Connection

    original = Connection.client.fget  # type: ignore[attr-defined]

    def hooked(self: Any) -> Any:
        client = original(self)
        if not getattr(client, "_sessions_hooked", False):
            register(client)
            client._sessions_hooked = True
        return client

    Connection.client = property(hooked)  # type: ignore[assignment,method-assign]
