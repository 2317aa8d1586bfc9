"""The named-query API: GET /queries lists the catalogue, GET /queries/<name> runs one.

Running a named query binds its parameters (catalog.NamedQuery.bind), then answers exactly as
/sparql does: the same negotiation, engine, limits, caching and truncation headers.
"""

from flask import Blueprint, Flask, current_app, g, jsonify, render_template, request

from .. import formats
from ..catalog import Catalog, load_catalog
from ..engine import query_id
from ..errors import InputError, NotAcceptable
from .negotiation import negotiate
from .pages import render_query_page
from .sparql import engine, result_response

bp = Blueprint("queries", __name__)

JSON = "application/json"
HTML = "text/html"


def init_app(app: Flask, catalogue: Catalog | None = None) -> None:
    """Load the catalogue at start-up (a broken file stops the app, naming it) and serve it."""
    app.extensions["smartcity_kg.catalog"] = catalogue if catalogue is not None else load_catalog()
    app.register_blueprint(bp)


def catalogue() -> Catalog:
    return current_app.extensions["smartcity_kg.catalog"]


@bp.get("/queries")
def index():
    """List the named queries: HTML for browsers, JSON otherwise (or as `format=` says)."""
    wanted = request.args.get("format") or request.accept_mimetypes.best_match([JSON, HTML])
    if not request.accept_mimetypes and not request.args.get("format"):
        wanted = JSON
    if wanted in ("json", JSON):
        response = jsonify(queries=[q.to_json() for q in catalogue().values()])
    elif wanted in ("html", HTML):
        entries = [(q, formats.formats_for(q.form.kind)) for q in catalogue().values()]
        response = current_app.make_response(render_template("queries.html", entries=entries))
    else:
        raise NotAcceptable(f"the list of named queries is available as {JSON} or {HTML}")
    response.vary.add("Accept")
    return response


@bp.get("/queries/<name>")
def run(name: str):
    """Run one named query with the parameters in the URL; browsers get the query page."""
    query = catalogue().get_query(name)
    fmt = negotiate(query.form.kind, html=True)
    if fmt is None:
        return render_query_page(name)
    text = query.bind(_values())
    g.query_id = query_id(text)
    return result_response(engine().run(text, format=fmt))


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
