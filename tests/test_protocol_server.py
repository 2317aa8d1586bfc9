"""The W3C SPARQL 1.1 Protocol query tests, and the limits, against a real `serve` process.

The cases follow w3c/rdf-tests sparql/sparql11/protocol/manifest.ttl (query side). Responses
are parsed back by independent parsers: rdflib for RDF and result formats, SPARQLWrapper as a
client. Update cases expect refusal: this endpoint is read-only.
"""

import io
import os
import re
import signal
import threading
import time
import warnings

import pytest
import rdflib
import requests
from rdflib.query import Result
from SPARQLWrapper import CSV, JSON, POST, TSV, TURTLE, XML, SPARQLWrapper

from smartcity_kg.sparql.worker import NICENESS

pytestmark = pytest.mark.server

DATA = "http://kasei.us/2009/09/sparql/data/"
DATA0, DATA1, DATA2, DATA3 = (f"{DATA}data{n}.rdf" for n in range(4))
BOTH_TYPED = f"ASK {{ <{DATA1}> a ?type . <{DATA2}> a ?type . }}"
BOTH_NAMED = f"ASK {{ GRAPH ?g1 {{ <{DATA1}> a ?type }} GRAPH ?g2 {{ <{DATA2}> a ?type }} }}"
RESULTS = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
RDF = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
    "application/n-quads": "nquads",
    "application/trig": "trig",
}


@pytest.fixture(scope="module")
def server(w3c_sparql_server):
    return w3c_sparql_server


def results(response) -> Result:
    """Parse a SPARQL results response with rdflib, by its media type."""
    assert response.status_code == 200, response.text
    fmt = RESULTS[response.headers["Content-Type"].split(";")[0]]
    return Result.parse(io.BytesIO(response.content), format=fmt)


def graph(response) -> rdflib.Graph:
    """Parse an RDF response with rdflib, by its media type, into one graph of its triples."""
    assert response.status_code == 200, response.text
    fmt = RDF[response.headers["Content-Type"].split(";")[0]]
    with warnings.catch_warnings():  # rdflib's Dataset warns about its own internals
        warnings.simplefilter("ignore", DeprecationWarning)
        dataset = rdflib.Dataset(default_union=True).parse(data=response.content, format=fmt)
        return rdflib.Graph().__iadd__((s, p, o) for s, p, o, _ in dataset.quads())


def direct(server, query, params=None, **headers):
    headers = {"Content-Type": "application/sparql-query", **headers}
    return requests.post(server.endpoint, params=params, data=query.encode(), headers=headers)


# --- query operation --------------------------------------------------------------------------


def test_query_get(server):
    response = requests.get(server.endpoint, params={"query": "ASK {}", "default-graph-uri": DATA0})
    assert results(response).askAnswer is True


def test_query_post_form(server):
    response = requests.post(
        server.endpoint, params={"default-graph-uri": DATA0}, data={"query": "ASK {}"}
    )
    assert results(response).askAnswer is True


def test_query_post_direct(server):
    assert results(direct(server, "ASK {}")).askAnswer is True


def test_query_dataset_default_graphs_get(server):
    params = {"query": BOTH_TYPED, "default-graph-uri": [DATA1, DATA2]}
    assert results(requests.get(server.endpoint, params=params)).askAnswer is True


def test_query_dataset_default_graphs_post(server):
    response = direct(server, BOTH_TYPED, {"default-graph-uri": [DATA1, DATA2]})
    assert results(response).askAnswer is True


def test_query_dataset_default_graph_excludes_other_graphs(server):
    response = direct(server, BOTH_TYPED, {"default-graph-uri": [DATA1]})
    assert results(response).askAnswer is False


def test_query_dataset_named_graphs_post(server):
    response = direct(server, BOTH_NAMED, {"named-graph-uri": [DATA1, DATA2]})
    assert results(response).askAnswer is True


def test_query_dataset_named_graphs_get(server):
    params = {"query": BOTH_NAMED, "named-graph-uri": [DATA1, DATA2]}
    assert results(requests.get(server.endpoint, params=params)).askAnswer is True


def test_query_dataset_full(server):
    query = (
        f"ASK {{ <{DATA3}> a ?type GRAPH ?g1 {{ <{DATA1}> a ?type }} "
        f"GRAPH ?g2 {{ <{DATA2}> a ?type }} }}"
    )
    params = {"default-graph-uri": DATA3, "named-graph-uri": [DATA1, DATA2]}
    assert results(direct(server, query, params)).askAnswer is True


def test_query_multiple_dataset_uses_the_protocol_dataset(server):
    # The manifest encodes the two named-graph-uri values as one by mistake; sent as intended.
    query = (
        f"ASK FROM <{DATA3}> {{ GRAPH ?g1 {{ <{DATA1}> a ?type }} "
        f"GRAPH ?g2 {{ <{DATA2}> a ?type }} }}"
    )
    response = direct(server, query, {"named-graph-uri": [DATA1, DATA2]})
    assert results(response).askAnswer is True


def test_query_dataset_from_and_from_named(server):
    query = (
        f"SELECT ?s ?g FROM <{DATA1}> FROM NAMED <{DATA2}> {{ ?s a ?t GRAPH ?g {{ ?x ?p ?o }} }}"
    )
    rows = list(results(requests.get(server.endpoint, params={"query": query})))
    assert [(str(r.s), str(r.g)) for r in rows] == [(DATA1, DATA2)]


def test_query_without_dataset_sees_the_union_of_graphs(server):
    rows = results(requests.get(server.endpoint, params={"query": "SELECT ?s { ?s a ?t }"}))
    assert sorted(str(r.s) for r in rows) == [DATA1, DATA2, DATA3]


def test_query_from_a_graph_not_in_the_store_fetches_nothing(server, loopback_listener):
    query = f"SELECT * FROM <{loopback_listener.url}> {{ ?s ?p ?o }}"
    assert list(results(requests.get(server.endpoint, params={"query": query}))) == []
    time.sleep(0.3)
    assert loopback_listener.connections == []


@pytest.mark.parametrize("media_type", list(RESULTS))
def test_query_content_type_select(server, media_type):
    response = direct(server, "SELECT (1 AS ?value) {}", {"default-graph-uri": DATA0},
                      Accept=media_type)  # fmt: skip
    assert response.headers["Content-Type"].startswith(media_type)
    assert [int(r.value) for r in results(response)] == [1]


@pytest.mark.parametrize("media_type", ["application/sparql-results+json",
                                        "application/sparql-results+xml"])  # fmt: skip
def test_query_content_type_ask(server, media_type):
    response = direct(server, "ASK {}", {"default-graph-uri": DATA0}, Accept=media_type)
    assert results(response).askAnswer is True


@pytest.mark.parametrize("media_type", list(RDF))
def test_query_content_type_construct(server, media_type):
    response = direct(server, "CONSTRUCT { <http://ex/s> <http://ex/p> 1 } WHERE {}",
                      {"default-graph-uri": DATA0}, Accept=media_type)  # fmt: skip
    assert response.headers["Content-Type"].startswith(media_type)
    assert len(graph(response)) == 1


@pytest.mark.parametrize("media_type", list(RDF))
def test_query_content_type_describe(server, media_type):
    response = direct(server, f"DESCRIBE <{DATA1}>", Accept=media_type)
    assert len(graph(response)) == 1


# --- bad requests -----------------------------------------------------------------------------


def test_bad_query_method(server):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    response = requests.put(server.endpoint, params={"query": "ASK {}"}, headers=form)
    assert 400 <= response.status_code < 500


def test_bad_multiple_queries(server):
    response = requests.get(server.endpoint + "?query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D")
    assert response.status_code == 400 and "exactly one query" in response.text


def test_bad_query_wrong_media_type(server):
    response = requests.post(
        server.endpoint, data=b"ASK {}", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415


def test_bad_query_missing_form_type(server):
    response = requests.post(server.endpoint, data=b"query=ASK%20%7B%7D")
    assert 400 <= response.status_code < 500


def test_bad_query_missing_direct_type(server):
    response = requests.post(server.endpoint, data=b"ASK {}")
    assert 400 <= response.status_code < 500


def test_bad_query_non_utf8(server):
    response = requests.post(server.endpoint, data="ASK {}".encode("utf-16"),
                             headers={"Content-Type": "application/sparql-query"})  # fmt: skip
    assert 400 <= response.status_code < 500


def test_bad_query_syntax(server):
    response = requests.get(server.endpoint, params={"query": "ASK {"})
    assert response.status_code == 400
    assert "line 1, column" in response.text and "Traceback" not in response.text


@pytest.mark.parametrize(
    "send",
    [
        lambda url: requests.get(url, params={"update": "CLEAR ALL"}),
        lambda url: requests.post(url, data={"update": "CLEAR ALL"}),
        lambda url: requests.post(url, data=b"CLEAR ALL",
                                  headers={"Content-Type": "application/sparql-update"}),
        lambda url: requests.post(url, data={"query": "CLEAR ALL"}),
    ],
    ids=["update_get", "update_post_form", "update_post_direct", "update_as_query"],
)  # fmt: skip
def test_updates_are_refused_and_change_nothing(server, send):
    response = send(server.endpoint)
    assert response.status_code == 403 and "read-only" in response.text
    rows = results(requests.get(server.endpoint, params={"query": "SELECT * { ?s ?p ?o }"}))
    assert len(rows) == 3


def test_service_names_a_listener_that_receives_nothing(server, loopback_listener):
    query = f"SELECT * {{ SERVICE <{loopback_listener.url}> {{ ?s ?p ?o }} }}"
    response = requests.get(server.endpoint, params={"query": query})
    assert response.status_code == 400 and "SERVICE" in response.text
    time.sleep(0.3)
    assert loopback_listener.connections == []


# --- an independent client --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
def test_sparqlwrapper_reads_select_results(server, fmt):
    client = SPARQLWrapper(server.endpoint)
    client.setQuery("SELECT ?s { ?s a ?t } ORDER BY ?s")
    client.setReturnFormat(fmt)
    converted = client.query().convert()
    if fmt == JSON:
        assert [b["s"]["value"] for b in converted["results"]["bindings"]] == [DATA1, DATA2, DATA3]
    elif fmt == XML:
        assert len(converted.getElementsByTagName("result")) == 3
    else:
        assert converted.decode().count(DATA) == 3


def test_sparqlwrapper_reads_construct_results_by_post(server):
    client = SPARQLWrapper(server.endpoint)
    client.setMethod(POST)
    client.setQuery("CONSTRUCT WHERE { ?s ?p ?o }")
    client.setReturnFormat(TURTLE)
    turtle = client.query().convert()
    assert len(rdflib.Graph().parse(data=turtle, format="turtle")) == 3


def test_service_description_from_the_real_server(server):
    response = requests.get(server.endpoint, headers={"Accept": "application/n-triples"})
    sd = graph(response)
    endpoint = rdflib.URIRef(server.endpoint)
    assert (None, rdflib.URIRef("http://www.w3.org/ns/sparql-service-description#endpoint"),
            endpoint) in sd  # fmt: skip


def test_etag_gives_304_and_gzip_is_applied(server):
    params = {"query": "SELECT * { ?s ?p ?o . ?x ?y ?z }", "format": "xml"}
    first = requests.get(server.endpoint, params=params)
    again = requests.get(server.endpoint, params=params,
                         headers={"If-None-Match": first.headers["ETag"]})  # fmt: skip
    assert again.status_code == 304
    assert first.headers["Content-Encoding"] == "gzip"  # requests asks for gzip by default
    assert len(results(first)) == 9


# --- limits and process handling --------------------------------------------------------------


@pytest.fixture
def slow_server(sparql_server_factory, tmp_path):
    many = tmp_path / "many.nt"
    many.write_text("".join(f'<http://ex/n{i}> <http://ex/q> "{i}" .\n' for i in range(3000)))
    return sparql_server_factory("--timeout", "1", "--workers", "2", files=[many])


def test_query_past_the_limit_is_503_while_another_client_is_answered(slow_server):
    outcome = {}

    def slow():
        started = time.monotonic()
        query = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
        outcome["response"] = requests.get(slow_server.endpoint, params={"query": query})
        outcome["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    quick = requests.get(slow_server.endpoint, params={"query": "SELECT * { ?s ?p '7' }"})
    assert time.monotonic() - started < 0.5
    assert len(list(results(quick))) == 1
    thread.join()
    assert outcome["response"].status_code == 503
    assert "time limit" in outcome["response"].text
    assert 1.0 <= outcome["elapsed"] < 2.0


def test_one_log_line_per_request_with_hash_rows_and_flags(sparql_server_factory, w3c_graphs_nq):
    server = sparql_server_factory(files=[w3c_graphs_nq], env={"SMARTCITY_KG_MAX_ROWS": "2"})
    response = requests.get(server.endpoint, params={"query": "SELECT * { ?s ?p ?o }"})
    assert response.headers["SPARQL-Results-Truncated"] == "true"
    assert response.headers["SPARQL-Results-Limit"] == "2"
    deadline = time.monotonic() + 5
    while "flags=truncated" not in server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    [line] = [x for x in server.log.read_text().splitlines() if "GET /sparql" in x]
    assert "GET /sparql 200" in line and "rows=2 flags=truncated" in line
    assert re.search(r"query=[0-9a-f]{12} ", line) and re.search(r" [0-9.]+ms ", line)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_server_leaves_no_process_behind(sparql_server_factory, w3c_graphs_nq, sig):
    server = sparql_server_factory("--workers", "2", files=[w3c_graphs_nq])
    requests.get(server.endpoint, params={"query": "ASK {}"})  # make sure workers run
    processes = server.descendants()
    assert len(processes) == 4  # the HTTP worker, two query workers and the fast lane's
    server.process.send_signal(sig)
    server.process.wait(timeout=15)
    time.sleep(0.2)
    for pid in processes:
        assert not os.path.exists(f"/proc/{pid}"), f"process {pid} outlived the server"


def test_killed_query_worker_gives_5xx_and_is_replaced(sparql_server_factory, tmp_path):
    many = tmp_path / "many.nt"
    many.write_text("".join(f'<http://ex/n{i}> <http://ex/q> "{i}" .\n' for i in range(3000)))
    server = sparql_server_factory("--workers", "1", "--timeout", "20", files=[many])
    requests.get(server.endpoint, params={"query": "ASK {}"})
    _http_worker, *workers = server.descendants()
    [query_worker] = [pid for pid in workers if os.getpriority(os.PRIO_PROCESS, pid) == NICENESS]
    threading.Timer(0.5, os.kill, (query_worker, signal.SIGKILL)).start()
    query = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    response = requests.get(server.endpoint, params={"query": query}, timeout=10)
    assert response.status_code == 500 and "worker" in response.text
    assert results(requests.get(server.endpoint, params={"query": "ASK {}"})).askAnswer
    assert query_worker not in server.descendants() and len(server.descendants()) == 3
