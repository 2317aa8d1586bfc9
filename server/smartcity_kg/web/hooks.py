"""Cross-cutting HTTP behaviour: CORS for every response and one log line per request."""

import logging
from time import perf_counter

from flask import Flask, g, request

access_log = logging.getLogger("smartcity_kg.access")

EXPOSED_HEADERS = (
    "ETag, Link, SPARQL-Results-Truncated, SPARQL-Results-Limit, SPARQL-Results-Rows, Retry-After"
)


def init_app(app: Flask) -> None:
    """Time each request, then add CORS headers and log it."""
    app.before_request(_start_clock)
    app.after_request(_allow_cross_origin)
    app.after_request(_log_request)


def _start_clock() -> None:
    g.started = perf_counter()


def _allow_cross_origin(response):
    """Let any page read the endpoint (GET, POST, OPTIONS), never with credentials."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = (
            request.headers.get("Access-Control-Request-Headers")
            or "Accept, Content-Type, If-None-Match"
        )
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


def _log_request(response):
    """Log status, duration, query hash, row count and flags (timeout, truncated, cached)."""
    elapsed = (perf_counter() - g.get("started", perf_counter())) * 1000
    access_log.info(
        "%s %s %d %.1fms query=%s rows=%s flags=%s",
        request.method,
        request.path,
        response.status_code,
        elapsed,
        g.get("query_id", "-"),
        g.get("rows", "-"),
        ",".join(g.get("flags", [])) or "-",
    )
    return response
