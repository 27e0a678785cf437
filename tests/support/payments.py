"""The local payment provider (devstack/payments.py) for in-process tests: Stripe's stand-in on a free port in a
thread, the app's settings pointed at it, and its webhook events held until the test delivers them, through the
same gateway emulation as every other request (in the test's thread, in the order the test chooses)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from devstack.files import STOP_POLL_SECONDS
from devstack.payments import StandIn, serve, sign
from devstack.stack import free_port
from tests.support.api import Api, Reply

WEBHOOK = "/api/payments/webhook/"
SECRET_KEY = "sk_test_integration"
WEBHOOK_SECRET = "whsec_integration_secret"


class LocalCheckout:
    """Stripe's stand-in serving the app's adapter over HTTP; events it sends wait in `outbox`."""

    def __init__(self, api: Api, stand_in: StandIn) -> None:
        self.api = api
        self.stand_in = stand_in
        self.outbox: list[tuple[bytes, dict[str, str]]] = []

    def hold(self, body: bytes, headers: dict[str, str]) -> int:
        self.outbox.append((body, headers))
        return 200

    def session_of(self, checkout_url: str) -> dict[str, Any]:
        return self.stand_in.sessions[checkout_url.rsplit("/", 1)[1]]

    def submit(self, checkout_url: str, action: str) -> list[Reply]:
        """Submit the checkout page's form, then deliver the events it sent."""
        status, _, _ = self.stand_in.submit(checkout_url.rsplit("/", 1)[1], action)
        assert status == 303, status
        return self.deliver()

    def deliver(self) -> list[Reply]:
        """Deliver every event sent so far to the webhook, oldest first."""
        self.stand_in.wait_sent()
        sent, self.outbox = self.outbox, []
        return [self.api.post(WEBHOOK, raw=body, headers=headers) for body, headers in sent]

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.stand_in.events if kind is None or e["type"] == kind]

    def send(self, event: dict[str, Any], secret: str = WEBHOOK_SECRET, signature: str | None = None) -> Reply:
        """Deliver an event the test made (signed with `secret` unless `signature` is given)."""
        body = json.dumps(event).encode()
        header = signature if signature is not None else sign(body, secret)
        headers = {"Content-Type": "application/json", "Stripe-Signature": header} if header else {}
        return self.api.post(WEBHOOK, raw=body, headers=headers)


@contextmanager
def local_checkout(api: Api, monkeypatch: Any) -> Iterator[LocalCheckout]:
    """The stand-in on a free port and the app's payment settings pointing at it, for one test."""
    from chalicelib import bootstrap
    from chalicelib.settings import get_settings

    port = free_port()
    holder: list[LocalCheckout] = []
    stand_in = StandIn(f"http://127.0.0.1:{port}", SECRET_KEY, WEBHOOK_SECRET, lambda b, h: holder[0].hold(b, h))
    checkout = LocalCheckout(api, stand_in)
    holder.append(checkout)
    server = serve(stand_in, port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": STOP_POLL_SECONDS}, daemon=True)
    thread.start()
    settings = get_settings()
    payments = settings.payments._replace(
        secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET, api_base=f"http://127.0.0.1:{port}"
    )
    configured = settings._replace(payments=payments)
    monkeypatch.setattr(bootstrap, "get_settings", lambda: configured)
    bootstrap.payment_provider.cache_clear()
    try:
        yield checkout
    finally:
        bootstrap.payment_provider.cache_clear()
        server.shutdown()
        server.server_close()
