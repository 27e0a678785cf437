"""The local payment provider: a stand-in for the part of Stripe's API the app uses, and the payment sweep.

No network here, so the app's stripe-python adapter is pointed (STRIPE_API_BASE) at this server, which answers
like Stripe's API for what the adapter calls:

- `POST /v1/checkout/sessions` (form-encoded, idempotency keys honoured, Stripe's 30-minute to 24-hour
  `expires_at` window enforced), `GET /v1/checkout/sessions/<id>`, `POST /v1/checkout/sessions/<id>/expire`;
- `POST /v1/refunds` (once per payment in full: a second refund is `charge_already_refunded`);
- the hosted checkout page, `GET /c/pay/<session id>`: submitting its form (`POST` to the same URL with
  `action=pay` or `action=cancel`) completes or expires the session, sends the signed
  `checkout.session.completed` or `checkout.session.expired` event to the API's webhook, then redirects to the
  session's success or cancel URL, as Stripe's page does.

Events are signed as Stripe signs them (`Stripe-Signature: t=<time>,v1=<HMAC-SHA256 of "<t>.<body>">` with the
endpoint secret), so the API's real verification runs. A delivery that fails is retried a few times with
backoff, as Stripe retries. The same process runs the app's scheduled sweep on a timer (what EventBridge does
deployed). State is kept in the data folder (`payments.json`), so checkouts survive a restart.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import html
import json
import os
import queue
import re
import secrets
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from devstack.files import PORT_IN_USE_EXIT, STOP_POLL_SECONDS, write_private

# Stripe's bounds on a Checkout Session's `expires_at`, from its creation.
MIN_SESSION_SECONDS = 30 * 60
MAX_SESSION_SECONDS = 24 * 3600
# Delays between attempts to deliver an event that failed (Stripe retries for days; locally a minute will do).
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
DEFAULT_SWEEP_SECONDS = 15.0
API_VERSION = "2025-01-27.acacia"
SESSION_PATH = re.compile(r"\A/v1/checkout/sessions/(cs_test_[A-Za-z0-9]+)(/expire)?\Z")
PAGE_PATH = re.compile(r"\A/c/pay/(cs_test_[A-Za-z0-9]+)\Z")

# Delivers one signed event: (body, headers) -> HTTP status; raises OSError when the API cannot be reached.
Deliver = Callable[[bytes, dict[str, str]], int]


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header Stripe sends with `payload`."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def http_delivery(url: str) -> Deliver:
    """Deliver events by POSTing them to the API's webhook at `url`."""

    def deliver(body: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    return deliver


class StripeError(Exception):
    """An error answer in Stripe's shape."""

    def __init__(self, status: int, kind: str, message: str, code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": kind, "message": message, "code": code, "param": param}}


def _nested(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """stripe-python's form encoding (`line_items[0][price_data][currency]=usd`) as nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        converted = {k: _lists(v) for k, v in node.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return node


class StandIn:
    """Stripe's state for this stack: sessions, payments and refunds, idempotent results, and the webhook."""

    def __init__(
        self, base_url: str, secret_key: str, webhook_secret: str, deliver: Deliver, state_file: Path | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.deliver = deliver
        self.state_file = state_file
        self.lock = threading.RLock()
        self.sessions: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []  # every event sent, in order
        self._outbox: queue.Queue[tuple[bytes, int]] = queue.Queue()
        self.paused = False  # tests: answer every API call 503, as an unreachable Stripe would
        self._load()
        threading.Thread(target=self._send_queued, daemon=True, name="webhook-delivery").start()

    # State.

    def _load(self) -> None:
        if self.state_file is not None and self.state_file.exists():
            state = json.loads(self.state_file.read_text())
            self.sessions, self.refunds, self.idempotent = state["sessions"], state["refunds"], state["idempotent"]

    def _save(self) -> None:
        if self.state_file is None:
            return
        state = {"sessions": self.sessions, "refunds": self.refunds, "idempotent": self.idempotent}
        write_private(self.state_file, json.dumps(state).encode())

    # Stripe's API.

    def api(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """Answer one API request: (status, JSON body)."""
        try:
            if self.paused:
                raise StripeError(503, "api_error", "The stand-in is paused by a test.")
            if headers.get("authorization") != f"Bearer {self.secret_key}":
                raise StripeError(401, "invalid_request_error", "Invalid API Key provided.")
            params = _nested(parse_qsl(body.decode(), keep_blank_values=True))
            key = headers.get("idempotency-key")
            with self.lock:
                if method == "POST" and key:
                    return self._idempotent(key, f"{method} {path}", params)
                return self._route(method, path, params)
        except StripeError as exc:
            return exc.status, exc.body

    def _idempotent(self, key: str, request: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        fingerprint = hashlib.sha256(json.dumps([request, params], sort_keys=True).encode()).hexdigest()
        stored = self.idempotent.get(key)
        if stored is not None:
            if stored["fingerprint"] != fingerprint:
                raise StripeError(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                )
            return stored["status"], stored["body"]
        status, answer = self._route(*request.split(" ", 1), params)
        self.idempotent[key] = {"fingerprint": fingerprint, "status": status, "body": answer}
        self._save()
        return status, answer

    def _route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if (method, path) == ("POST", "/v1/checkout/sessions"):
            return 200, self._create_session(params)
        if (method, path) == ("POST", "/v1/refunds"):
            return 200, self._refund(params)
        found = SESSION_PATH.match(path)
        if found is not None:
            session = self._session(found.group(1))
            if method == "GET" and not found.group(2):
                return 200, _public(session)
            if method == "POST" and found.group(2):
                if session["status"] != "open":
                    raise StripeError(
                        400,
                        "invalid_request_error",
                        'Only Checkout Sessions with a status in ["open"] can be expired.',
                        "checkout_session_not_open",
                    )
                self._finish(session, "expired")
                self._queue_event("checkout.session.expired", session)
                return 200, _public(session)
        raise StripeError(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def _session(self, session_id: str) -> dict[str, Any]:
        session = self.sessions.get(session_id)
        if session is None:
            raise StripeError(404, "invalid_request_error", "No such checkout.session", "resource_missing", "id")
        return session

    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time())
        try:
            [item] = params["line_items"]
            price = item["price_data"]
            amount, currency = int(price["unit_amount"]), str(price["currency"])
            expires_at = int(params.get("expires_at") or now + MAX_SESSION_SECONDS)
            name = str(price["product_data"]["name"])
        except (KeyError, ValueError, TypeError):
            raise StripeError(400, "invalid_request_error", "Invalid line_items.", param="line_items") from None
        if params.get("mode") != "payment" or not params.get("success_url"):
            raise StripeError(400, "invalid_request_error", "mode=payment and success_url are required.")
        if amount < 1:
            raise StripeError(400, "invalid_request_error", "Amount must be positive.", "amount_too_small")
        if not now + MIN_SESSION_SECONDS <= expires_at <= now + MAX_SESSION_SECONDS:
            raise StripeError(
                400,
                "invalid_request_error",
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.",
                param="expires_at",
            )
        session_id = f"cs_test_{secrets.token_hex(12)}"
        session = {
            "id": session_id,
            "object": "checkout.session",
            "url": f"{self.base_url}/c/pay/{session_id}",
            "status": "open",
            "payment_status": "unpaid",
            "mode": "payment",
            "livemode": False,
            "created": now,
            "expires_at": expires_at,
            "client_reference_id": params.get("client_reference_id"),
            "amount_total": amount,
            "currency": currency,
            "metadata": params.get("metadata") or {},
            "payment_intent": None,
            "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"),
            "line_item_name": name,
        }
        self.sessions[session_id] = session
        self._save()
        return _public(session)

    def _refund(self, params: dict[str, Any]) -> dict[str, Any]:
        intent = params.get("payment_intent")
        session = next((s for s in self.sessions.values() if intent and s["payment_intent"] == intent), None)
        if session is None:
            raise StripeError(
                400, "invalid_request_error", "No such payment_intent", "resource_missing", "payment_intent"
            )
        amount = int(params.get("amount") or session["amount_total"])
        refunded = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent)
        if refunded + amount > session["amount_total"]:
            raise StripeError(
                400, "invalid_request_error", "Charge has already been refunded.", "charge_already_refunded"
            )
        refund_id = f"re_test_{secrets.token_hex(12)}"
        refund = {
            "id": refund_id,
            "object": "refund",
            "status": "succeeded",
            "amount": amount,
            "currency": session["currency"],
            "payment_intent": intent,
            "metadata": params.get("metadata") or {},
        }
        self.refunds[refund_id] = refund
        self._save()
        return refund

    def _finish(self, session: dict[str, Any], status: str) -> None:
        session["status"] = status
        if status == "complete":
            session["payment_status"] = "paid"
            session["payment_intent"] = f"pi_test_{secrets.token_hex(12)}"
        self._save()

    # The hosted checkout page.

    def page(self, session_id: str) -> tuple[int, str]:
        """The checkout page of a session: (status, HTML)."""
        with self.lock:
            session = self.sessions.get(session_id)
        if session is None:
            return 404, _page("Checkout not found", "<p>There is no such checkout.</p>")
        price = _amount_text(session["amount_total"], session["currency"])
        title = html.escape(session["line_item_name"])
        if session["status"] != "open":
            state = "paid" if session["status"] == "complete" else "expired"
            return 200, _page("Checkout closed", f"<p>This checkout for <b>{title}</b> is {state}.</p>")
        form = (
            f"<p>{title}: <b>{price}</b></p>"
            '<form method="post">'
            '<button name="action" value="pay">Pay</button> '
            '<button name="action" value="cancel">Cancel</button>'
            "</form><p>Local stand-in for Stripe Checkout: no card is charged.</p>"
        )
        return 200, _page("Pay for your seat", form)

    def submit(self, session_id: str, action: str) -> tuple[int, str, str | None]:
        """The checkout form: pay or cancel; (status, HTML, redirect URL). The event is delivered before the
        answer, so the booking has changed by the time the browser lands on the success page."""
        if action not in ("pay", "cancel"):
            return 400, _page("Bad request", "<p>`action` must be `pay` or `cancel`.</p>"), None
        with self.lock:
            session = self.sessions.get(session_id)
            if session is None:
                return 404, _page("Checkout not found", "<p>There is no such checkout.</p>"), None
            if session["status"] != "open":
                return 409, _page("Checkout closed", "<p>This checkout is no longer open.</p>"), None
            self._finish(session, "complete" if action == "pay" else "expired")
            kind = "checkout.session.completed" if action == "pay" else "checkout.session.expired"
            body = self._event(kind, session)
        self._send(body, attempt=0)
        target = session["success_url"] if action == "pay" else session["cancel_url"] or session["success_url"]
        return 303, _page("Done", f'<p><a href="{html.escape(target)}">Continue</a></p>'), target

    # Events.

    def _event(self, kind: str, session: dict[str, Any]) -> bytes:
        event = {
            "id": f"evt_test_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "type": kind,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": _public(session)},
        }
        self.events.append(event)
        return json.dumps(event).encode()

    def _queue_event(self, kind: str, session: dict[str, Any]) -> None:
        # Stripe sends events after answering the request that caused them.
        self._outbox.put((self._event(kind, session), 0))

    def _send(self, body: bytes, attempt: int) -> bool:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": sign(body, self.webhook_secret),
        }
        try:
            delivered = 200 <= self.deliver(body, headers) < 300
        except OSError:
            delivered = False
        if not delivered and attempt < len(RETRY_DELAYS):
            timer = threading.Timer(RETRY_DELAYS[attempt], self._outbox.put, args=((body, attempt + 1),))
            timer.daemon = True
            timer.start()
        return delivered

    def _send_queued(self) -> None:
        while True:
            body, attempt = self._outbox.get()
            try:
                self._send(body, attempt)
            finally:
                self._outbox.task_done()

    def wait_sent(self) -> None:
        """Return once every queued event has been handed to the webhook (first attempts; tests)."""
        self._outbox.join()

    def expire_overdue(self, now: float | None = None) -> int:
        """Expire open sessions past their `expires_at`, as Stripe does, sending their events."""
        now = time.time() if now is None else now
        with self.lock:
            overdue = [s for s in self.sessions.values() if s["status"] == "open" and s["expires_at"] <= now]
            for session in overdue:
                self._finish(session, "expired")
                self._queue_event("checkout.session.expired", session)
        return len(overdue)


def _public(session: dict[str, Any]) -> dict[str, Any]:
    """A session as Stripe's API shows it (without what only the page needs)."""
    return {k: v for k, v in session.items() if k != "line_item_name"}


def _amount_text(amount: int, currency: str) -> str:
    from chalicelib.domain.money import THREE_DECIMAL_CURRENCIES, ZERO_DECIMAL_CURRENCIES

    code = currency.upper()
    digits = 0 if code in ZERO_DECIMAL_CURRENCIES else 3 if code in THREE_DECIMAL_CURRENCIES else 2
    return f"{amount / 10**digits:.{digits}f} {code}"


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f"<body><main><h1>{title}</h1>{body}</main></body></html>"
    )


class Handler(BaseHTTPRequestHandler):
    """HTTP for the stand-in: Stripe's API under /v1/, the checkout page under /c/pay/, and /health."""

    stand_in: StandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet, like the other local servers
        return

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/health":
            self._json(200, {"status": "ok"})
        elif page := PAGE_PATH.match(path):
            self._html(*self.stand_in.page(page.group(1)))
        else:
            self._json(*self.stand_in.api("GET", path, self._headers(), b""))

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if page := PAGE_PATH.match(path):
            form = dict(parse_qsl(body.decode("utf-8", "replace")))
            status, text, target = self.stand_in.submit(page.group(1), form.get("action", ""))
            self._html(status, text, {"Location": target} if target else None)
        else:
            self._json(*self.stand_in.api("POST", path, self._headers(), body))

    def _headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers.items()}

    def _json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, "application/json", json.dumps(body).encode())

    def _html(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, "text/html; charset=utf-8", text.encode(), headers)

    def _send(self, status: int, media: str, data: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(HTTPStatus(status))
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def serve(stand_in: StandIn, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Bind the stand-in's HTTP server (serve it with `serve_forever`, in a thread for tests)."""
    handler = type("BoundHandler", (Handler,), {"stand_in": stand_in})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


# The local stack's hook: its environment, the command that runs this process, and the process itself.


def environment(port: int, api_url: str, data_dir: Path) -> dict[str, str]:
    """What the app and this process need: where Stripe is, its keys, and where the webhook is."""
    return {
        "STRIPE_API_BASE": f"http://127.0.0.1:{port}",
        "STRIPE_SECRET_KEY": "sk_test_local",
        "STRIPE_WEBHOOK_SECRET": _webhook_secret(data_dir),
        "STRIPE_WEBHOOK_URL": f"{api_url}/api/payments/webhook/",
    }


def command(port: int, data_dir: Path) -> list[str]:
    """The child process of the local stack that runs the stand-in and the sweep."""
    return [sys.executable, "-m", "devstack.payments", "--port", str(port), "--data-dir", str(data_dir)]


def _webhook_secret(data_dir: Path) -> str:
    # Kept with the data, like the JWT key, so that events signed before a restart still verify after it.
    path = data_dir / "stripe-webhook-secret"
    if not path.exists():
        write_private(path, f"whsec_{secrets.token_hex(24)}".encode())
    return path.read_text().strip()


def run_sweep() -> dict[str, Any]:
    """The app's scheduled function, called as Lambda calls it on its schedule."""
    from chalicelib.http.payments import sweep_payments

    scheduled = {
        "version": "0",
        "id": secrets.token_hex(8),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": os.environ.get("AWS_REGION", "us-east-1"),
        "resources": [],
        "detail": {},
    }
    result: dict[str, Any] = sweep_payments(scheduled, None)
    return result


def _sweep_forever(stand_in: StandIn, every: float, stop: threading.Event) -> None:
    while not stop.wait(every):
        try:
            stand_in.expire_overdue()
            run_sweep()
        except Exception as exc:  # noqa: BLE001 - a failed run is logged; the next one tries again
            print(json.dumps({"level": "ERROR", "message": "payment sweep failed", "error": repr(exc)}), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    stand_in = StandIn(
        f"http://127.0.0.1:{args.port}",
        os.environ["STRIPE_SECRET_KEY"],
        os.environ["STRIPE_WEBHOOK_SECRET"],
        http_delivery(os.environ["STRIPE_WEBHOOK_URL"]),
        args.data_dir / "payments.json",
    )
    try:
        server = serve(stand_in, args.port)
    except OSError:
        print(f"payments: port {args.port} is already in use", file=sys.stderr, flush=True)
        sys.exit(PORT_IN_USE_EXIT)
    stop = threading.Event()
    every = float(os.environ.get("LOCAL_PAYMENT_SWEEP_SECONDS") or DEFAULT_SWEEP_SECONDS)
    threading.Thread(target=_sweep_forever, args=(stand_in, every, stop), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        server.serve_forever(poll_interval=STOP_POLL_SECONDS)
    except KeyboardInterrupt:
        pass
    stop.set()
    server.server_close()


if __name__ == "__main__":
    main()
