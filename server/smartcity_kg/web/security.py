"""Browser-facing hardening: security headers on every response, a per-client rate limit.

The pages load their script and styles from /static only (the query page's data block is
`<script type="application/json">`, which a browser never executes), so the policy allows no
inline script or style. Every response says `nosniff`, so a query result or a download that
echoes a client's text is never run as HTML or script.
"""

import ipaddress
import math
import threading
from collections.abc import Callable
from time import monotonic

from flask import Flask, current_app, request
from werkzeug.exceptions import TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix

from smartcity_kg.lru import Lru

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)
HTML_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
UNLIMITED_PATHS = ("/healthz",)  # monitoring must see an overloaded server as up


def init_app(app: Flask) -> None:
    """Add the headers to every response and, when configured, the rate limit to requests."""
    config = app.config["SMARTCITY_KG"]
    if config.trusted_proxies:
        # Believe the last `trusted_proxies` entries of X-Forwarded-For, and nothing more.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.trusted_proxies)
    if config.rate_limit:
        app.before_request(_rate_limit(RateLimiter(config.rate_limit)))
    app.after_request(_add_security_headers)


def _add_security_headers(response):
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        response.headers.update(HTML_HEADERS)
    return response


def _rate_limit(limiter: "RateLimiter") -> Callable[[], None]:
    """Return the hook that spends a request of the client's from `limiter` (the app's own)."""

    def limit_rate() -> None:
        """Answer 429 with Retry-After once a client has spent its requests for the minute."""
        config = current_app.config["SMARTCITY_KG"]
        client = request.remote_addr or "unknown"
        if request.path in UNLIMITED_PATHS or (from_loopback() and not config.rate_limit_loopback):
            return
        if wait := limiter.take(client):
            raise TooManyRequests(
                f"rate limit: {config.rate_limit} requests a minute per client; "
                f"try again in {wait} s",
                retry_after=wait,
            )

    return limit_rate


def from_loopback() -> bool:
    """Return whether the TCP peer and the client the limit counts are both on this host.

    The peer is the address the server saw (ProxyFix keeps it aside): X-Forwarded-For alone,
    which anyone reaching the app directly can write, never claims the exemption. Behind a
    proxy on this host the peer is always loopback, so the forwarded client must be too.
    """
    peer = request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR")
    return is_loopback(peer or request.remote_addr or "") and is_loopback(request.remote_addr or "")


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class RateLimiter:
    """A token bucket per client: `per_minute` requests in a burst, refilled evenly.

    One lock guards the buckets (the HTTP server answers with threads); it is held for a dictionary
    update only. At most MAX_CLIENTS buckets are kept, the least recently seen client's dropped
    first: memory and time per request stay bounded however many addresses send requests, and a
    dropped client (idle the longest) only starts again with a full bucket.
    """

    MAX_CLIENTS = 10_000

    def __init__(self, per_minute: int, clock=monotonic):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens a second
        self._clock = clock
        self._buckets = Lru(self.MAX_CLIENTS)  # client -> (tokens, at)
        self._lock = threading.Lock()  # one read-and-write of a bucket at a time

    def take(self, client: str) -> int:
        """Spend one request of `client`; return 0 if allowed, else the seconds to wait."""
        now = self._clock()
        with self._lock:
            tokens = self._tokens(client, now)
            allowed = tokens >= 1
            self._buckets.put(client, (tokens - 1 if allowed else tokens, now))
        return 0 if allowed else max(1, math.ceil((1 - tokens) / self.rate))

    def __len__(self) -> int:
        return len(self._buckets)

    def _tokens(self, client: str, now: float) -> float:
        tokens, at = self._buckets.get(client) or (self.capacity, now)
        return min(self.capacity, tokens + (now - at) * self.rate)
