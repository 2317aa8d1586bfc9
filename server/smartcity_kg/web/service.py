"""What the service says about itself: the SPARQL 1.1 Service Description and /healthz."""

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, jsonify, request

from smartcity_kg import __version__
from smartcity_kg.quality.shacl import validate_store
from smartcity_kg.rdf.files import graph_iri
from smartcity_kg.rdf.formats import FORMATS, ResultKind
from smartcity_kg.rdf.vocab import RDF_TYPE, SD
from smartcity_kg.web.negotiation import negotiate
from smartcity_kg.web.pages import render_query_page

bp = Blueprint("service", __name__)

PREFIXES = {"sd": SD, "formats": "http://www.w3.org/ns/formats/"}


@bp.get("/healthz")
def healthz():
    """Report the release, the size of the data and whether it conforms to the shapes."""
    engine = current_app.extensions["smartcity_kg.sparql.engine"]
    return jsonify(
        status="ok",
        release=__version__,
        triples=len(engine.store),
        graphs=len(named_graphs(engine.store)),
        conforms=data_conforms(engine.store),
    )


def data_conforms(store: ox.Store) -> bool | None:
    """Return whether the data conforms to the shapes, validated once per app (it is slow).

    None when the store has no packaged data graph (`serve --data` with other files).
    """
    cache = current_app.extensions.setdefault("smartcity_kg.conforms", {})
    if "value" not in cache:
        cache["value"] = _validate(store)
    return cache["value"]


def check_conformance(app, known: bool | None = None) -> None:
    """Validate now (or record `known`), so that the first /healthz answers at once.

    `serve` calls this at start, with the answer of its own validation when it made one.
    """
    if known is not None:
        app.extensions["smartcity_kg.conforms"] = {"value": known}
    with app.app_context():
        data_conforms(app.extensions["smartcity_kg.sparql.engine"].store)


def _validate(store: ox.Store) -> bool | None:
    if ox.NamedNode(graph_iri("data")) not in set(store.named_graphs()):
        return None
    return bool(validate_store(store).conforms)


def service_description() -> Response:
    """Answer a plain GET of the endpoint: the query page for browsers, else the description."""
    fmt = negotiate(ResultKind.GRAPH, html=True)
    if fmt is None:
        response = current_app.make_response(render_query_page())
        response.vary.add("Accept")
        return response
    engine = current_app.extensions["smartcity_kg.sparql.engine"]
    triples = describe_service(request.base_url, named_graphs(engine.store))
    body = ox.serialize(triples, format=fmt.oxigraph, prefixes=PREFIXES)
    response = Response(body, content_type=fmt.content_type)
    response.vary.add("Accept")
    return response


def named_graphs(store: ox.Store) -> list[str]:
    """Return the IRIs of the store's named graphs, sorted."""
    return sorted(g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode))


def describe_service(endpoint: str, graphs: list[str]) -> list[ox.Triple]:
    """Return the SPARQL 1.1 Service Description of this read-only, non-federating endpoint.

    Blank nodes are named, not random, so every answer (GET or HEAD) has the same bytes.
    """
    service, dataset, default = map(ox.BlankNode, ("service", "dataset", "default"))
    triples = [
        _t(service, RDF_TYPE, _sd("Service")),
        _t(service, _sd("endpoint"), ox.NamedNode(endpoint)),
        _t(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        _t(service, _sd("feature"), _sd("UnionDefaultGraph")),
        _t(service, _sd("defaultDataset"), dataset),
        _t(dataset, RDF_TYPE, _sd("Dataset")),
        _t(dataset, _sd("defaultGraph"), default),
        _t(default, RDF_TYPE, _sd("Graph")),
    ]
    triples += [_t(service, _sd("resultFormat"), ox.NamedNode(f.iri)) for f in FORMATS]
    for number, iri in enumerate(graphs, start=1):
        named = ox.BlankNode(f"graph{number}")
        triples += [
            _t(dataset, _sd("namedGraph"), named),
            _t(named, RDF_TYPE, _sd("NamedGraph")),
            _t(named, _sd("name"), ox.NamedNode(iri)),
        ]
    return triples


def _sd(term: str) -> ox.NamedNode:
    return ox.NamedNode(SD + term)


def _t(subject, predicate, obj) -> ox.Triple:
    return ox.Triple(subject, predicate, obj)
