"""The named-query API: GET /queries lists the catalogue, GET /queries/<name> runs one.

Running a named query binds its parameters (catalog.NamedQuery.bind: pyoxigraph substitutions,
and for a paged query the page that `limit` and `offset` pick), then answers exactly as /sparql
does: the same negotiation, engine, limits, caching and truncation headers. A page carries a
`Link` header (RFC 8288) to the next page when it came back full, and to the previous one.
"""

from urllib.parse import urlencode

from flask import Blueprint, current_app, g, jsonify, render_template, request, url_for

from smartcity_kg.errors import InputError, NotAcceptable
from smartcity_kg.rdf import formats
from smartcity_kg.sparql.catalog import BoundQuery
from smartcity_kg.sparql.engine import QueryResult, query_id
from smartcity_kg.web.negotiation import requested_format
from smartcity_kg.web.query_page import render_query_page
from smartcity_kg.web.responses import result_response
from smartcity_kg.web.state import state

bp = Blueprint("queries", __name__)

JSON = "application/json"
HTML = "text/html"


@bp.get("/queries")
def index():
    """List the named queries: HTML for browsers, JSON otherwise (or as `format=` says)."""
    wanted = request.args.get("format") or request.accept_mimetypes.best_match([JSON, HTML])
    if not request.accept_mimetypes and not request.args.get("format"):
        wanted = JSON
    listed = state().catalogue.values()
    if wanted in ("json", JSON):
        response = jsonify(queries=[q.to_json() for q in listed])
    elif wanted in ("html", HTML):
        entries = [(q, formats.formats_for(q.form.kind)) for q in listed]
        page = render_template("queries.html", entries=entries, max_rows=_max_rows())
        response = current_app.make_response(page)
    else:
        raise NotAcceptable(f"the list of named queries is available as {JSON} or {HTML}")
    response.vary.add("Accept")
    return response


@bp.get("/queries/<name>")
def run(name: str):
    """Run one named query with the parameters in the URL; browsers get the query page."""
    query = state().catalogue.get_query(name)
    fmt = requested_format(query.form.kind, html=True)  # the engine checks its kind
    if fmt is None:
        response = current_app.make_response(render_query_page(name))
        response.vary.add("Accept")  # the same URL answers JSON, cached as public
        return response
    bound = query.bind(_values(), max_rows=_max_rows())
    g.query_id = query_id(bound.as_text())
    result = state().engine.run(bound.text, format=fmt, substitutions=bound.substitutions)
    response = result_response(result)
    if links := _page_links(name, bound, result):
        response.headers["Link"] = links
    return response


def _max_rows() -> int:
    return state().engine.config.max_rows  # the engine's own limit, which cuts the results


def _page_links(name: str, bound: BoundQuery, result: QueryResult) -> str:
    """Return the Link header value: `next` after a page that came back full (or was cut at
    the row limit), `prev` after the first page; each with a page the server can give."""
    if bound.limit is None:
        return ""
    size = min(bound.limit, result.limit)
    links = []
    if result.truncated or bound.full_page(result.rows):
        links.append((bound.offset + result.rows, "next"))
    if bound.offset > 0:
        links.append((max(0, bound.offset - size), "prev"))
    return ", ".join(f'<{_page_url(name, size, at)}>; rel="{rel}"' for at, rel in links)


def _page_url(name: str, limit: int, offset: int) -> str:
    """Return this request's URL with another page (the other parameters as they were)."""
    args = [(k, v) for k, v in request.args.items() if k not in ("limit", "offset")]
    query = urlencode([*args, ("limit", limit), ("offset", offset)])
    return f"{url_for('queries.run', name=name)}?{query}"


def _values() -> dict[str, str]:
    """Return the parameter values of the URL; a parameter given twice is an error."""
    values = {}
    for key, given in request.args.lists():
        if key == "format":
            continue
        if len(given) > 1:
            raise InputError(f"parameter {key!r} is given {len(given)} times; give it once")
        values[key] = given[0]
    return values
