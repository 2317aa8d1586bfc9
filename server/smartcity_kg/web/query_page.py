"""The query page (at `/`, at /sparql for browsers, at /queries/<name> for browsers).

The page is static HTML plus web/static/query.js; everything the script needs (the catalogue,
the formats, the base IRI, the URLs) is rendered into one JSON data block, so the script holds
no configuration of its own and the page works offline. Three blueprints answer with it, so it
lives here, in no blueprint.
"""

from flask import render_template, request, url_for

from smartcity_kg.errors import NotFound
from smartcity_kg.rdf import formats
from smartcity_kg.sparql.catalog import Catalog, NamedQuery
from smartcity_kg.web.state import state

DEFAULT_QUERY = """SELECT ?institution ?name ?acronym
WHERE {
  ?institution a skg:SupportingInstitution ;
    skos:prefLabel ?name .
  FILTER (lang(?name) = "en")
  OPTIONAL { ?institution skg:acronym ?acronym }
}
ORDER BY ?name
"""


def render_query_page(name: str | None = None):
    """Return the query page for this request; an unknown named query shows a 404 page."""
    catalogue = state().catalogue
    name = name or request.args.get("name") or None
    initial = {"name": None, "values": {}, "query": request.args.get("query") or "", "error": None}
    status = 200
    if name:
        try:
            query = catalogue.get_query(name)
        except NotFound as error:
            initial["error"], status = error.message, error.http_status
        else:
            initial.update(name=name, query=query.text, values=_param_values(query))
    if not initial["query"]:
        initial["query"] = prologue() + "\n" + DEFAULT_QUERY
    html = render_template(
        "query.html",
        catalogue=list(catalogue.values()),
        initial=initial,
        endpoint=url_for("sparql.endpoint"),
        queries_url=url_for("queries.index"),
        page_data=_page_data(catalogue, initial),
    )
    return html, status


def _param_values(query: NamedQuery) -> dict[str, str]:
    """Return the request's values for the named query's parameters (for the inputs)."""
    return {p.name: request.args[p.name] for p in query.params if p.name in request.args}


def _page_data(catalogue: Catalog, initial: dict) -> dict:
    """Return what query.js needs, as one JSON object."""
    return {
        "endpoint": url_for("sparql.endpoint"),
        "queries": url_for("queries.index"),
        "root": request.script_root + "/",
        "baseIri": state().base_iri,
        "prefixes": state().prefixes,
        "formats": [
            {
                "name": f.name,
                "mediaType": f.media_type,
                "kind": f.kind.value,
                "extension": f.extension,
            }
            for f in formats.FORMATS
        ],
        "catalogue": [q.to_json() for q in catalogue.values()],
        "initial": {"name": initial["name"], "values": initial["values"]},
    }


def prologue() -> str:
    """Return PREFIX lines for every dataset prefix, for a new query."""
    prefixes = state().prefixes
    width = max(map(len, prefixes), default=0) + 1
    return "".join(f"PREFIX {p + ':':<{width}} <{iri}>\n" for p, iri in prefixes.items())
