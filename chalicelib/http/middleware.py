"""Cross-cutting HTTP behaviour: CORS, security and cache headers (private with a token, briefly shared at the
edge without one), one log line per request, and the request's correlation id on every line logged while it
is served."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from chalice.app import Request, Response

from chalicelib.budget import request_budget
from chalicelib.http.logs import log_exception, log_request
from chalicelib.http.responses import server_error
from chalicelib.logs import invocation

# The function's name on the API's log lines (the authorizer, the sweep and the others name themselves).
API_FUNCTION = "api"
# Headers a browser script may read from an answer (CORS hides every other non-simple header).
EXPOSED_HEADERS = "Idempotent-Replayed, Retry-After, WWW-Authenticate"
Middleware = Callable[[Request, Callable[[Request], Response]], Response]
# Methods whose answers a shared cache keeps (CloudFront caches GET and HEAD).
SHARED_METHODS = frozenset({"GET", "HEAD"})


class OriginPolicy:
    """Which browser origins may call the API: exact origins, `*` for any, and `scheme://host:*` for any port
    of a host (the local stage accepts every `http://localhost:<port>` a dev server may use)."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        self.allow_any = "*" in allowed
        patterns = [re.escape(o[:-2]) + r":[0-9]{1,5}" for o in allowed if o.endswith(":*")]
        self._exact = frozenset(o for o in allowed if o != "*" and not o.endswith(":*"))
        self._ports = re.compile("|".join(patterns)) if patterns else None

    def allows(self, origin: str) -> bool:
        """True when a browser page from `origin` may read the API's answers."""
        if self.allow_any or origin in self._exact:
            return True
        return self._ports is not None and self._ports.fullmatch(origin) is not None


def shared_cache_control(seconds: int) -> str:
    """What lets a shared cache (CloudFront) keep an answer `seconds` while browsers ask again each time."""
    return f"public, max-age=0, s-maxage={seconds}"


def _cache_headers(request: Request, response: Response, edge_seconds: int) -> bool:
    """Set the answer's Cache-Control unless its route did; True when a shared cache may keep it."""
    headers = response.headers
    if request.headers.get("authorization"):
        # The answer may be this caller's alone; only a route the same for everyone says otherwise.
        headers.setdefault("Cache-Control", "private, no-store")
        return _is_public(headers)
    if "Cache-Control" not in headers and request.method in SHARED_METHODS:
        status = response.status_code
        if status >= 500 or status == 429:
            # An outage or a refusal passes: the next reader must get the origin's answer, not this one.
            headers["Cache-Control"] = "no-store"
        elif edge_seconds:
            # A 4xx as long as a success: a bad or unknown URL asked by many is the same answer for all.
            headers["Cache-Control"] = shared_cache_control(edge_seconds)
    return _is_public(headers)


def _is_public(headers: dict[str, str | list[str]]) -> bool:
    return str(headers.get("Cache-Control", "")).startswith("public")


def secure_headers(request: Request, response: Response, origins: OriginPolicy, edge_seconds: int = 0) -> None:
    """CORS for allowed origins; nosniff everywhere; no caching of answers meant for one signed-in caller, and
    public GETs to anonymous callers kept by a shared cache `edge_seconds` (0: not at all)."""
    headers = response.headers
    vary = []
    origin = request.headers.get("origin")
    if origin and origins.allows(origin):
        headers["Access-Control-Allow-Origin"] = "*" if origins.allow_any else origin
        vary.append("Origin")
        headers.setdefault("Access-Control-Expose-Headers", EXPOSED_HEADERS)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if _cache_headers(request, response, edge_seconds):
        # A kept answer serves every caller of its URL: its CORS headers depend on the Origin sent, and a
        # token's answer must never be one kept for someone else.
        vary = ["Origin", "Authorization"]
    if vary:
        headers["Vary"] = ", ".join(vary)


def cors_and_access_log(allowed_origins: tuple[str, ...], edge_seconds: int = 0) -> Middleware:
    """Middleware adding the headers above and logging the request without its body."""
    origins = OriginPolicy(allowed_origins)

    def middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
        started = time.perf_counter()
        # API Gateway's request id: the one its own logs and a client's report of a failed call carry.
        with invocation(API_FUNCTION, (request.context or {}).get("requestId")):
            try:
                with request_budget():
                    response = get_response(request)
            except Exception:  # noqa: BLE001 - the last line of defence: log it, answer DRF's 500
                log_exception(request)
                response = server_error()
            secure_headers(request, response, origins, edge_seconds)
            log_request(request, response.status_code, (time.perf_counter() - started) * 1000)
        return response

    return middleware
