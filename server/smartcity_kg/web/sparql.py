"""The /sparql endpoint: the SPARQL 1.1 Protocol's query operation, read-only."""

import io

from flask import Blueprint, current_app, g, request

from smartcity_kg.errors import InputError, PayloadTooLarge, UnsupportedMediaType, UpdateRefused
from smartcity_kg.sparql.engine import ProtocolDataset, query_id
from smartcity_kg.web.hooks import check_utf8_parameters
from smartcity_kg.web.negotiation import requested_format
from smartcity_kg.web.responses import READS, result_response
from smartcity_kg.web.service_description import service_description
from smartcity_kg.web.state import state

bp = Blueprint("sparql", __name__)

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint():
    """Answer a query; a GET without one describes the service (or shows the query page)."""
    query = read_query()
    if query is None:
        return service_description()
    engine = state().engine
    kind = engine.inspect(query).kind  # refuses updates, SERVICE, oversized texts
    fmt = requested_format(kind) if kind else None  # the engine checks it against `kind`
    g.query_id = query_id(query)
    result = engine.run(query, format=fmt, dataset=read_dataset())
    return result_response(result)


@bp.before_request
def check_body() -> None:
    """Hold a POST body to the byte limit however it is framed, and a form to UTF-8.

    Werkzeug stops reading a chunked body (no Content-Length) at the limit without an error,
    so what followed the cut would be silently dropped; the body is read here instead.
    """
    if request.method != "POST":
        return
    limit = current_app.config["SMARTCITY_KG"].max_body_bytes
    if (request.content_length or 0) > limit:
        raise PayloadTooLarge(f"request body over the {limit} byte limit")
    if request.content_length is None and request.environ.get("wsgi.input_terminated"):
        _buffer_streamed_body(limit)  # the server ends the stream: safe to read to its end
    if request.mimetype == FORM:
        check_utf8_parameters(request.get_data(), "form")


def _buffer_streamed_body(limit: int) -> None:
    """Read a body sent without Content-Length, refusing one over `limit` bytes."""
    stream, chunks, size = request.environ["wsgi.input"], [], 0
    while size <= limit and (chunk := stream.read(min(65536, limit + 1 - size))):
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise PayloadTooLarge(f"request body over the {limit} byte limit (sent chunked)")
    request.environ["wsgi.input"] = io.BytesIO(b"".join(chunks))


def read_query() -> str | None:
    """Return the one query of the request, refusing updates and malformed requests."""
    if "update" in request.values:
        raise UpdateRefused("this endpoint is read-only: the update operation is refused")
    if request.method in READS:
        queries = request.args.getlist("query")
        if not queries and not _dataset_params():
            return None
    else:
        queries = request.args.getlist("query") + _posted_queries()
    if len(queries) != 1:
        raise InputError(
            "a query request needs exactly one query; "
            + ("none was given" if not queries else f"{len(queries)} were given")
        )
    return queries[0]


def _posted_queries() -> list[str]:
    """Return the queries in a POST body, by its media type (the Protocol allows two)."""
    if request.mimetype == FORM:
        return request.form.getlist("query")
    if request.mimetype == QUERY:
        return [_utf8_body()]
    if request.mimetype == UPDATE:
        raise UpdateRefused("this endpoint is read-only: application/sparql-update is refused")
    raise UnsupportedMediaType(
        f"POST a query as {FORM} or {QUERY}, not {request.mimetype or 'a body without type'}"
    )


def _utf8_body() -> str:
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"a {QUERY} body must be UTF-8, not {charset}")
    try:
        return request.get_data().decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"the query body is not valid UTF-8 (byte {error.start})") from None


def _dataset_params() -> bool:
    return any(k in request.values for k in ("default-graph-uri", "named-graph-uri"))


def read_dataset() -> ProtocolDataset:
    """Return the dataset named by default-graph-uri and named-graph-uri (URL or form)."""
    return ProtocolDataset(
        default_graphs=tuple(request.values.getlist("default-graph-uri")),
        named_graphs=tuple(request.values.getlist("named-graph-uri")),
    )
