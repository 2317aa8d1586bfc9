"""The SPARQL 1.1 Service Description, which a GET of /sparql without a query answers.

Browsers asking the same URL get the query page instead; the endpoint (web/sparql.py) and the
description are kept apart so that no blueprint imports another.
"""

import pyoxigraph as ox
from flask import Response, current_app, request

from smartcity_kg.rdf.formats import FORMATS, ResultKind
from smartcity_kg.rdf.vocab import RDF_TYPE, SD
from smartcity_kg.web.negotiation import negotiate
from smartcity_kg.web.query_page import render_query_page
from smartcity_kg.web.state import state

PREFIXES = {"sd": SD, "formats": "http://www.w3.org/ns/formats/"}


def service_description() -> Response:
    """Answer a plain GET of the endpoint: the query page for browsers, else the description."""
    fmt = negotiate(ResultKind.GRAPH, html=True)
    if fmt is None:
        response = current_app.make_response(render_query_page())
        response.vary.add("Accept")
        return response
    triples = describe_service(request.base_url, named_graphs(state().engine.store))
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
