"""The /sparql endpoint through the Flask test client (smartcity_kg.web.sparql, .service)."""

import gzip
import io
import json
import warnings

import pytest
import rdflib
from rdflib.query import Result

from smartcity_kg import __version__
from smartcity_kg.config import Config
from smartcity_kg.rdf.files import GraphSource, graph_iri
from smartcity_kg.sparql.engine import QueryEngine
from smartcity_kg.web import create_app

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
DATA1 = "http://kasei.us/2009/09/sparql/data/data1.rdf"
SELECT_ALL = "SELECT * { ?s ?p ?o }"
CONSTRUCT_ALL = "CONSTRUCT WHERE { ?s ?p ?o }"


@pytest.fixture
def app(stores, tmp_path, w3c_graphs_nq):
    many = tmp_path / "many.nt"
    many.write_text("".join(f'<http://ex/n{i}> <http://ex/q> "{i}" .\n' for i in range(3000)))
    sources = [GraphSource("http://unused/", (w3c_graphs_nq,)), GraphSource("http://ex/g", (many,))]
    config = Config(timeout=1, max_rows=100, max_body_bytes=10_000, max_query_length=5_000)
    with stores.holding(sources).engine(config) as engine:
        yield create_app(engine.config, engine=engine)


@pytest.fixture
def client(app):
    return app.test_client()


def get(client, query, **headers):
    return client.get("/sparql", query_string={"query": query}, headers=headers)


def parse_results(response) -> Result:
    fmt = {"application/sparql-results+json": "json", "application/sparql-results+xml": "xml",
           "text/csv": "csv", "text/tab-separated-values": "tsv"}[response.mimetype]  # fmt: skip
    return Result.parse(io.BytesIO(response.data), format=fmt)


def parse_rdf(data: bytes, rdflib_format: str) -> rdflib.Dataset:
    """Parse RDF with rdflib, an independent parser (its Dataset warns about its own internals)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return rdflib.Dataset(default_union=True).parse(data=data, format=rdflib_format)


# --- negotiation ------------------------------------------------------------------------------


def test_get_query_without_accept_gives_sparql_json(client):
    response = get(client, "SELECT ?s { ?s a ?t } ORDER BY ?s LIMIT 1")
    assert response.status_code == 200
    assert response.mimetype == "application/sparql-results+json"
    assert json.loads(response.data)["results"]["bindings"][0]["s"]["value"] == DATA1


def test_get_query_accept_explicit_priority(client):
    accept = "text/csv;q=0.5, application/sparql-results+xml;q=0.9, text/tab-separated-values;q=0.1"
    response = get(client, SELECT_ALL, Accept=accept)
    assert response.mimetype == "application/sparql-results+xml"
    assert "Accept" in response.headers["Vary"]


def test_get_query_accept_wildcard_gives_the_default(client):
    assert get(client, SELECT_ALL, Accept="*/*").mimetype == "application/sparql-results+json"
    assert get(client, CONSTRUCT_ALL, Accept="*/*").mimetype == "text/turtle"


def test_get_query_accept_type_wildcard_and_zero_quality(client):
    response = get(client, SELECT_ALL, Accept="text/*, text/csv;q=0")
    assert response.mimetype == "text/tab-separated-values"


def test_browser_accept_for_a_query_gets_the_default_format(client):
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert get(client, SELECT_ALL, Accept=accept).mimetype == "application/sparql-results+xml"


def test_format_parameter_overrides_accept(client):
    response = client.get(
        "/sparql",
        query_string={"query": SELECT_ALL, "format": "csv"},
        headers={"Accept": "text/turtle"},
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"


def test_format_parameter_of_the_wrong_kind_is_406(client):
    response = client.get("/sparql", query_string={"query": SELECT_ALL, "format": "ttl"})
    assert response.status_code == 406
    assert b"json, xml, csv, tsv" in response.data


def test_unknown_format_parameter_is_400(client):
    response = client.get("/sparql", query_string={"query": SELECT_ALL, "format": "yaml"})
    assert response.status_code == 400


def test_nothing_acceptable_is_406_naming_what_is_offered(client):
    response = get(client, SELECT_ALL, Accept="text/turtle, image/png")
    assert response.status_code == 406
    assert b"application/sparql-results+json" in response.data


@pytest.mark.parametrize("name", ["json", "xml", "csv", "tsv"])
def test_select_results_parse_back_in_every_format(client, name):
    response = client.get("/sparql", query_string={"query": SELECT_ALL, "format": name})
    rows = list(parse_results(response))
    assert len(rows) == 100  # the row limit
    assert response.headers["SPARQL-Results-Truncated"] == "true"


@pytest.mark.parametrize(
    ("media_type", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("application/n-quads", "nquads"),
        ("application/trig", "trig"),
    ],
)
def test_construct_results_parse_back_in_every_format(client, media_type, rdflib_format):
    query = f"CONSTRUCT WHERE {{ <{DATA1}> ?p ?o }}"
    response = get(client, query, Accept=media_type)
    assert response.status_code == 200 and response.mimetype == media_type
    assert len(parse_rdf(response.data, rdflib_format)) == 1


def test_ask_parses_back_as_a_boolean(client):
    response = get(client, f"ASK {{ <{DATA1}> a ?t }}", Accept="application/sparql-results+xml")
    assert parse_results(response).askAnswer is True


# --- protocol: methods, bodies, parameters ----------------------------------------------------


def test_post_form_query(client):
    response = client.post("/sparql", data={"query": "ASK {}"})
    assert response.status_code == 200 and json.loads(response.data)["boolean"] is True


def test_post_direct_query(client):
    response = client.post("/sparql", data="ASK {}", content_type="application/sparql-query")
    assert response.status_code == 200 and json.loads(response.data)["boolean"] is True


def test_dataset_parameters_are_honoured(client):
    query = "SELECT ?s { ?s a ?t }"
    response = client.get(
        "/sparql", query_string={"query": query, "default-graph-uri": DATA1, "format": "csv"}
    )
    assert [str(row.s) for row in parse_results(response)] == [DATA1]
    response = client.post(
        "/sparql?named-graph-uri=" + DATA1,
        data="SELECT ?g { GRAPH ?g { ?s ?p ?o } }",
        content_type="application/sparql-query",
    )
    assert [str(row.g) for row in parse_results(response)] == [DATA1]


@pytest.mark.parametrize(
    ("content_type", "status"),
    [("text/plain", 415), (None, 415), ("application/sparql-query; charset=utf-16", 415)],
)
def test_post_with_a_body_type_that_is_not_allowed(client, content_type, status):
    response = client.post("/sparql", data="ASK {}", content_type=content_type)
    assert response.status_code == status
    assert response.mimetype == "text/plain" and b"application/sparql-query" in response.data


def test_post_direct_body_that_is_not_utf8_is_400(client):
    body = "ASK {}".encode("utf-16")
    response = client.post("/sparql", data=body, content_type="application/sparql-query")
    assert response.status_code == 400 and b"UTF-8" in response.data


def test_two_queries_are_400(client):
    response = client.get("/sparql?query=ASK%20%7B%7D&query=SELECT%20*%20%7B%7D")
    assert response.status_code == 400 and b"2 were given" in response.data


def test_post_without_a_query_is_400(client):
    response = client.post("/sparql", data={"default-graph-uri": DATA1})
    assert response.status_code == 400 and b"none was given" in response.data


def test_query_in_url_and_body_is_two_queries(client):
    response = client.post(
        "/sparql?query=ASK%7B%7D", data="ASK {}", content_type="application/sparql-query"
    )
    assert response.status_code == 400


def test_other_methods_are_405(client):
    response = client.put("/sparql?query=ASK%7B%7D")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"method": "GET", "query_string": {"update": "CLEAR ALL"}},
        {"method": "POST", "data": {"update": "CLEAR ALL"}},
        {"method": "POST", "data": "CLEAR ALL", "content_type": "application/sparql-update"},
        {"method": "GET", "query_string": {"query": "INSERT DATA { <a:a> <a:b> <a:c> }"}},
        {"method": "POST", "data": {"query": "LOAD <http://example.org/x>"}},
    ],
)
def test_updates_in_any_form_are_refused_with_403(client, request_kwargs):
    response = client.open("/sparql", **request_kwargs)
    assert response.status_code == 403 and b"read-only" in response.data


def test_malformed_query_is_400_with_the_position(client):
    response = get(client, "SELECT * WHERE {\n  ?s ?p }")
    assert response.status_code == 400
    assert b"line 2, column" in response.data and b"Traceback" not in response.data


def test_service_is_refused_with_400(client):
    response = get(client, "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
    assert response.status_code == 400 and b"SERVICE" in response.data


def test_errors_are_json_when_the_client_prefers_json(client):
    response = get(client, "SELECT", Accept="application/json")
    assert response.status_code == 400
    assert json.loads(response.data)["error"]["status"] == 400


def test_query_past_the_time_limit_is_503(client):
    response = get(client, "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")
    assert response.status_code == 503 and b"time limit" in response.data


def test_body_over_the_limit_is_413(client):
    big = "ASK {} #" + "x" * 20_000
    response = client.post("/sparql", data=big, content_type="application/sparql-query")
    assert response.status_code == 413


def test_query_over_the_length_limit_is_413(client):
    response = client.post("/sparql", data={"query": "ASK {} #" + "x" * 6_000})
    assert response.status_code == 413 and b"limit is 5000" in response.data


# --- caching, compression, CORS ---------------------------------------------------------------


def test_etag_and_if_none_match_give_304(client):
    first = get(client, SELECT_ALL)
    assert first.headers["ETag"] and "max-age" in first.headers["Cache-Control"]
    second = get(client, SELECT_ALL, **{"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 304 and second.data == b""
    other = get(client, SELECT_ALL, **{"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_responses_are_gzipped_when_the_client_accepts_it(client):
    response = get(client, SELECT_ALL, **{"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.data))["results"]["bindings"]
    assert "Content-Encoding" not in get(client, SELECT_ALL).headers
    refused = get(client, SELECT_ALL, **{"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers


def test_truncation_is_stated_in_headers(client):
    response = get(client, SELECT_ALL)
    assert response.headers["SPARQL-Results-Truncated"] == "true"
    assert response.headers["SPARQL-Results-Limit"] == "100"
    complete = get(client, "SELECT * { ?s a ?t }")
    assert "SPARQL-Results-Truncated" not in complete.headers
    assert complete.headers["SPARQL-Results-Rows"] == "3"


def test_cors_allows_any_origin_without_credentials(client):
    response = get(client, "ASK {}", Origin="http://example.org")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    preflight = client.options(
        "/sparql",
        headers={
            "Origin": "http://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"] == "content-type"


# --- service description, query page hook, health ---------------------------------------------


def test_plain_get_returns_the_service_description(client):
    response = client.get("/sparql")
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    assert "Accept" in response.headers["Vary"]
    graph = rdflib.Graph().parse(data=response.data, format="turtle")
    service = graph.value(predicate=rdflib.RDF.type, object=SD.Service)
    assert graph.value(service, SD.endpoint) == rdflib.URIRef("http://localhost/sparql")
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (service, SD.feature, SD.UnionDefaultGraph) in graph
    assert (service, SD.feature, SD.BasicFederatedQuery) not in graph
    formats = set(graph.objects(service, SD.resultFormat))
    assert rdflib.URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in formats
    assert len(formats) == 10
    dataset = graph.value(service, SD.defaultDataset)
    assert graph.value(dataset, SD.defaultGraph) is not None
    names = {graph.value(n, SD.name) for n in graph.objects(dataset, SD.namedGraph)}
    assert rdflib.URIRef(DATA1) in names and len(names) == 4


def test_service_description_is_negotiated(client):
    response = client.get("/sparql", headers={"Accept": "application/ld+json"})
    assert response.mimetype == "application/ld+json"
    assert len(parse_rdf(response.data, "json-ld")) > 10


def test_browsers_get_the_query_page(client):
    response = client.get("/sparql", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.mimetype == "text/html"
    assert b'id="editor"' in response.data


def test_healthz_reports_release_size_and_conformance(client):
    health = json.loads(client.get("/healthz").data)
    assert health["release"] == __version__
    assert health["triples"] == 3003
    assert health["conforms"] is None  # the W3C protocol data is not ours to validate


@pytest.mark.parametrize(
    ("turtle", "conforms"),
    [
        # no node of a class the shapes target: nothing can fail
        ("<https://w3id.org/smartcity-kr/x> <http://ex/p> 'x' .", True),
        # an institution without its Korean name fails InstitutionShape
        ("<https://w3id.org/smartcity-kr/institution/x> a "
         "<https://w3id.org/smartcity-kr/def#SupportingInstitution> .", False),
    ],
)  # fmt: skip
def test_healthz_validates_the_packaged_data_graph(tmp_path, turtle, conforms):
    """In memory: a directory or remote store refuses data that does not conform at load."""
    data = tmp_path / "data.ttl"
    data.write_text(turtle + "\n")
    sources = [GraphSource(graph_iri("data"), (data,))]
    with QueryEngine(Config(workers=1, fast_lane=0), sources) as engine:
        health = json.loads(create_app(engine=engine).test_client().get("/healthz").data)
    assert health["conforms"] is conforms


def test_healthz_does_not_claim_conformance_for_other_data(client):
    assert json.loads(client.get("/healthz").data)["conforms"] is None
