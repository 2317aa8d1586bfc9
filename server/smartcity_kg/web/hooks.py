"""Cross-cutting HTTP behaviour: CORS for every response and one log line per request."""

import logging
from time import perf_counter
from urllib.parse import unquote_to_bytes

from flask import Flask, g, request

from smartcity_kg.errors import InputError

access_log = logging.getLogger("smartcity_kg.access")

EXPOSED_HEADERS = (
    "ETag, Link, SPARQL-Results-Truncated, SPARQL-Results-Limit, SPARQL-Results-Rows, Retry-After"
)


def init_app(app: Flask) -> None:
    """Time each request and check its URL parameters, then add CORS headers and log it."""
    app.before_request(_start_clock)
    app.before_request(_check_query_string)
    app.after_request(_allow_cross_origin)
    app.after_request(_log_request)


def _start_clock() -> None:
    g.started = perf_counter()


def _check_query_string() -> None:
    check_utf8_parameters(request.query_string, "URL")


def check_utf8_parameters(encoded: bytes, where: str) -> None:
    """Refuse parameters (URL query or form body) whose decoded bytes are not UTF-8.

    Werkzeug keeps such bytes percent-encoded in the value and goes on, so a query or an IRI
    would run as something the client never wrote; a raw body that is not UTF-8 is a 400 too.
    """
    for field in encoded.split(b"&"):
        name, _, value = field.replace(b"+", b" ").partition(b"=")
        key = _decode(name, "a parameter name in the " + where)
        _decode(value, f"parameter {key!r}")


def _decode(encoded: bytes, what: str) -> str:
    try:
        return unquote_to_bytes(encoded).decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{what} is not valid UTF-8 (at byte {error.start})") from None


def _allow_cross_origin(response):
    """Let any page read the endpoint (GET, HEAD, POST, OPTIONS), never with credentials."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, POST, OPTIONS"
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
