"""Dereferencing, downloads and /.well-known/void through the Flask test client."""

import gzip
import hashlib
import re
import warnings
from datetime import UTC, datetime

import pyoxigraph as ox
import pytest
import rdflib

from smartcity_kg.config import BASE_IRI
from smartcity_kg.publish.dumps import Dumps
from smartcity_kg.web import create_app
from smartcity_kg.web.state import state

RDF_ACCEPT = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SPDX = "http://spdx.org/rdf/terms#"
DCAT = "http://www.w3.org/ns/dcat#"


@pytest.fixture(scope="module")
def app(store_app):
    return store_app


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def store(app):
    return state(app).engine.store


def local(iri: str) -> str:
    return "/" + iri[len(BASE_IRI) :]


def parse(body: bytes, fmt: str) -> rdflib.Graph:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # rdflib's JSON-LD parser
        return rdflib.Graph().parse(data=body, format=fmt)


def subject_iris(store) -> list[str]:
    subjects = {q.subject.value for q in store if isinstance(q.subject, ox.NamedNode)}
    return sorted(s for s in subjects if s.startswith(BASE_IRI))


def own_triples(store, iri: str) -> set:
    """The subject's triples without blank nodes, as rdflib terms (simple literals plain)."""
    found = set()
    for q in store.quads_for_pattern(ox.NamedNode(iri), None, None):
        o = q.object
        if isinstance(o, ox.BlankNode):
            continue
        if isinstance(o, ox.NamedNode):
            obj = rdflib.URIRef(o.value)
        elif o.language:
            obj = rdflib.Literal(o.value, lang=o.language)
        elif o.datatype.value.endswith("#string"):
            obj = rdflib.Literal(o.value)
        else:
            obj = rdflib.Literal(o.value, datatype=rdflib.URIRef(o.datatype.value))
        found.add((rdflib.URIRef(iri), rdflib.URIRef(q.predicate.value), obj))
    return found


def test_every_subject_iri_dereferences_in_every_rdf_format(client, store):
    iris = subject_iris(store)
    assert len(iris) > 250
    for iri in iris:
        expected = own_triples(store, iri)
        for accept, fmt in RDF_ACCEPT.items():
            redirect = client.get(local(iri), headers={"Accept": accept})
            assert redirect.status_code == 303, (iri, accept)
            assert "Accept" in redirect.vary
            response = client.get(redirect.headers["Location"])
            assert response.status_code == 200, (iri, accept)
            assert response.mimetype == accept
            graph = parse(response.data, fmt)
            missing = {t for t in expected if t not in graph}
            assert not missing, (iri, accept, sorted(missing)[:3])


def test_browsers_are_sent_to_the_html_page(client):
    response = client.get("/institution/kaia", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 303
    assert response.headers["Location"] == "/institution/kaia.html"
    page = client.get("/institution/kaia.html", headers={"Accept-Language": "ko"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "Accept-Language" in page.vary


def test_html_page_links_to_each_format_and_to_a_describe_query(client):
    html = client.get("/institution/kaia.html").get_data(as_text=True)
    for ext in ("ttl", "nt", "jsonld", "rdf"):
        assert f'href="/institution/kaia.{ext}"' in html
    assert "/?query=DESCRIBE%20%3Chttps%3A//w3id.org/smartcity-kr/institution/kaia%3E" in html


def test_every_local_link_on_resource_pages_resolves(client, store):
    pages = ["/def.html", "/dataset.html", "/eli/kr/act/2008/9052/art_19-4.html",
             local(subject_iris(store)[-1]) + ".html"]  # fmt: skip
    checked = set()
    for page in pages:
        html = client.get(page).get_data(as_text=True)
        for href in set(re.findall(r'href="(/[^"?#]*)', html)) - checked:
            checked.add(href)
            response = client.get(href, headers={"Accept": BROWSER_ACCEPT})
            if response.status_code == 303:
                response = client.get(response.headers["Location"])
            response.close()  # static files are streamed from open files
            assert response.status_code == 200, (page, href)
    assert len(checked) > 50


def test_ontology_page_documents_every_term_in_both_languages(client, store):
    html = client.get("/def.html").get_data(as_text=True)
    rdfs = "http://www.w3.org/2000/01/rdf-schema#"
    query = f"SELECT ?t ?l {{ ?t <{rdfs}isDefinedBy> <{BASE_IRI}def> ; <{rdfs}label> ?l }}"
    terms = store.query(query, use_default_graph_as_union=True)
    labels = [row["l"].value for row in terms]
    assert len(labels) > 40
    for label in labels:
        assert f">{label}<" in html, label


def test_unknown_iri_gets_a_helpful_404_page(client):
    response = client.get("/institution/no-such-body", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert 'href="/institution/kaia"' in response.get_data(as_text=True)
    plain = client.get("/institution/no-such-body", headers={"Accept": "text/turtle"})
    assert plain.status_code == 404 and "no-such-body" in plain.get_data(as_text=True)
    assert "Traceback" not in plain.get_data(as_text=True)


def test_an_unsatisfiable_accept_is_406(client):
    response = client.get("/institution/kaia", headers={"Accept": "application/pdf"})
    assert response.status_code == 406
    assert "text/turtle" in response.get_data(as_text=True)


def test_well_known_void_checksums_match_the_bytes_served(client):
    response = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and "Accept" in response.vary
    graph = parse(response.data, "turtle")
    distributions = list(graph.subjects(rdflib.RDF.type, rdflib.URIRef(DCAT + "Distribution")))
    assert len(distributions) == 12
    for dist in distributions:
        url = str(graph.value(dist, rdflib.URIRef(DCAT + "downloadURL")))
        checksum = graph.value(dist, rdflib.URIRef(SPDX + "checksum"))
        stated = str(graph.value(checksum, rdflib.URIRef(SPDX + "checksumValue")))
        size = int(graph.value(dist, rdflib.URIRef(DCAT + "byteSize")))
        served = client.get(local(url))
        assert served.status_code == 200, url
        assert hashlib.sha256(served.data).hexdigest() == stated, url
        assert len(served.data) == size


def test_resource_pages_serialise_no_dump_until_the_void_is_asked_for(app):
    fresh = create_app(engine=state(app).engine)  # a new app, so a new Publication
    client = fresh.test_client()
    assert client.get("/institution/kaia", headers={"Accept": "text/turtle"}).status_code == 303
    assert client.get("/institution/kaia.html").status_code == 200
    assert client.get("/institution/kaia.ttl").status_code == 200
    assert client.get("/graph/data.ttl").status_code == 200
    dumps = state(fresh).publication.dumps
    assert dumps.ready() == []
    assert client.get("/.well-known/void").status_code == 200
    assert dumps.ready() == dumps.names()


def test_downloads_have_validators_and_answer_304(client, store):
    response = client.get("/downloads/smartcity-kg.ttl")
    assert response.headers["Content-Disposition"] == 'attachment; filename="smartcity-kg.ttl"'
    assert response.headers["ETag"].strip('"') == hashlib.sha256(response.data).hexdigest()
    assert response.last_modified <= datetime.now(UTC)
    assert response.data == Dumps(store).get("smartcity-kg.ttl").data
    again = client.get(
        "/downloads/smartcity-kg.ttl", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    packed = client.get("/downloads/smartcity-kg.nq.gz")
    assert packed.mimetype == "application/gzip"
    assert gzip.decompress(packed.data) == client.get("/downloads/smartcity-kg.nq").data


def test_downloads_page_lists_every_file_with_its_checksum(client, store):
    html = client.get("/downloads").get_data(as_text=True)
    for dump in Dumps(store).all():
        assert f"/downloads/{dump.name}" in html and dump.sha256 in html
    sums = client.get("/downloads/SHA256SUMS").get_data(as_text=True)
    assert len(sums.splitlines()) == 12
    assert client.get("/downloads/nothing.ttl").status_code == 404


def test_json_ld_context_is_published(client):
    response = client.get("/context.jsonld")
    assert response.mimetype == "application/ld+json"
    assert response.get_json()["@context"]["assignedTo"]["@type"] == "@id"
