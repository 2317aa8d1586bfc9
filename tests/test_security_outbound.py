"""Outbound requests are impossible: every way a query or a file could name a URL to fetch.

Each case names a loopback listener started by the test (conftest's `loopback_listener`);
the listener must receive nothing, and the client gets a clear 4xx (or, for a FROM naming a
graph the store does not hold, an empty result).
"""

import contextlib
import socket
import subprocess
import sys
import threading
import time

import pyoxigraph as ox
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcity_kg.errors import DataSyntaxError
from smartcity_kg.rdf.files import load_file
from smartcity_kg.rdf.sparql_text import inspect

pytestmark = pytest.mark.server

ASK_ANY = "ASK { ?s ?p ?o }"


def sparql(server, params=None, **kwargs):
    return requests.get(server.endpoint, params=params, timeout=30, **kwargs)


def assert_nothing_received(listener) -> None:
    time.sleep(0.4)  # the listener's accept loop polls every 0.2 s
    assert listener.connections == []


SERVICE_QUERIES = [
    "SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
    "select * {{ service <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * {{ ?s ?p ?o {{ SELECT * {{ SERVICE <{url}> {{ ?a ?b ?c }} }} }} }}",
    "PREFIX r: <{url}>\nASK {{ OPTIONAL {{ SERVICE r: {{ ?s ?p ?o }} }} }}",
    "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "PREFIX r: <{url}>\nSELECT * {{ SERVICEr:{{ ?s ?p ?o }} }}",  # no space: still SERVICE
    "PREFIX : <{url}>\nSELECT * {{ SERVICE:{{ ?s ?p ?o }} }}",
    "SELECT * {{ SERVICESILENT<{url}>{{ ?s ?p ?o }} }}",
    # a codepoint escape in an IRI once hid the rest of the line from the tokenizer (# or ')
    r"SELECT * WHERE {{ BIND(<http://x/\u0041#> AS ?a) SERVICE <{url}> {{ ?s ?p ?o }} }}",
    r"SELECT * WHERE {{ BIND(<http://x/\u0041'> AS ?a) SERVICE <{url}> {{ ?s ?p ?o }} }}",
    r"SELECT * WHERE {{ BIND(<http://x/\U00000041#> AS ?a) SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "PREFIX x: <http://x/\\u0041#>\nSELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
]


@pytest.mark.parametrize("template", SERVICE_QUERIES)
def test_service_is_refused_and_the_listener_receives_nothing(
    packaged_sparql_server, loopback_listener, template
):
    query = template.format(url=f"http://127.0.0.1:{loopback_listener.port}/sparql")
    response = sparql(packaged_sparql_server, {"query": query})
    assert response.status_code == 400
    assert "SERVICE" in response.text
    assert_nothing_received(loopback_listener)


UPDATES = [
    "LOAD <{url}>",
    "LOAD SILENT <{url}> INTO GRAPH <urn:g>",
    "# a comment first\nLOAD <{url}>",
    "PREFIX r: <{url}>\nLOAD r:x",
    "INSERT DATA {{ <urn:a> <urn:b> <{url}> }}",
    "DELETE DATA {{ <urn:a> <urn:b> <urn:c> }}",
    "DELETE WHERE {{ ?s ?p ?o }}",
    "WITH <urn:g> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}",
    "CLEAR ALL",
    "DROP GRAPH <{url}>",
    "CREATE GRAPH <{url}>",
    "COPY <{url}> TO DEFAULT",
    "MOVE DEFAULT TO <{url}>",
    "ADD <{url}> TO <urn:g>",
]


@pytest.mark.parametrize("template", UPDATES)
@pytest.mark.parametrize("how", ["query", "update", "direct"])
def test_updates_are_refused_and_the_listener_receives_nothing(
    packaged_sparql_server, loopback_listener, template, how
):
    text = template.format(url=f"http://127.0.0.1:{loopback_listener.port}/x")
    url = packaged_sparql_server.endpoint
    if how == "direct":
        headers = {"Content-Type": "application/sparql-update"}
        response = requests.post(url, data=text.encode(), headers=headers, timeout=30)
    else:
        response = requests.post(url, data={how: text}, timeout=30)
    assert response.status_code == 403
    assert "read-only" in response.text
    assert_nothing_received(loopback_listener)
    assert sparql(packaged_sparql_server, {"query": ASK_ANY}).json()["boolean"] is True


FROM_QUERIES = [
    "SELECT * FROM <{url}> {{ ?s ?p ?o }}",
    "SELECT * FROM NAMED <{url}> {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "SELECT * FROM <file:///etc/passwd> {{ ?s ?p ?o }}",
    "SELECT * FROM NAMED <file:///etc/passwd> {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "SELECT * {{ GRAPH <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * {{ GRAPH <file:///etc/passwd> {{ ?s ?p ?o }} }}",
]


@pytest.mark.parametrize("template", FROM_QUERIES)
def test_from_a_remote_or_file_iri_is_an_empty_graph(
    packaged_sparql_server, loopback_listener, template
):
    query = template.format(url=f"http://127.0.0.1:{loopback_listener.port}/g")
    response = sparql(packaged_sparql_server, {"query": query})
    assert response.status_code == 200
    assert response.json()["results"]["bindings"] == []
    assert "root:" not in response.text
    assert_nothing_received(loopback_listener)


@pytest.mark.parametrize("param", ["default-graph-uri", "named-graph-uri"])
@pytest.mark.parametrize("iri", ["http://127.0.0.1:{port}/", "file:///etc/passwd"])
def test_dataset_parameters_naming_remote_graphs_fetch_nothing(
    packaged_sparql_server, loopback_listener, param, iri
):
    params = {"query": "SELECT * { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }",
              param: iri.format(port=loopback_listener.port)}  # fmt: skip
    response = sparql(packaged_sparql_server, params)
    assert response.status_code == 200
    assert response.json()["results"]["bindings"] == []
    assert_nothing_received(loopback_listener)


def test_describe_of_a_remote_iri_fetches_nothing(packaged_sparql_server, loopback_listener):
    query = f"DESCRIBE <http://127.0.0.1:{loopback_listener.port}/thing>"
    response = sparql(packaged_sparql_server, {"query": query}, headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert_nothing_received(loopback_listener)


def test_named_query_parameter_cannot_smuggle_a_service(packaged_sparql_server, loopback_listener):
    """Parameters are bound as values, never pasted into the text: a SERVICE in one is a string."""
    url = f"http://127.0.0.1:{loopback_listener.port}/sparql"
    catalogue = requests.get(packaged_sparql_server.base + "/queries", timeout=30).json()
    query = next(q for q in catalogue["queries"] if q.get("params"))
    name = query["params"][0]["name"]
    value = f"x> }} SERVICE <{url}> {{ ?a ?b ?c }} #"
    response = requests.get(
        f"{packaged_sparql_server.base}/queries/{query['name']}", params={name: value}, timeout=30
    )
    assert response.status_code in (200, 400)
    assert_nothing_received(loopback_listener)


# --- JSON-LD remote contexts: files the CLI and `serve --data` read ----------------------------


def remote_context_file(tmp_path, port: int):
    path = tmp_path / "draft.jsonld"
    path.write_text(
        f'{{"@context": "http://127.0.0.1:{port}/context.jsonld",'
        ' "@id": "https://w3id.org/smartcity-kr/institution/x", "name": "x"}'
    )
    return path


def test_jsonld_remote_context_is_not_fetched_when_loading(tmp_path, loopback_listener):
    path = remote_context_file(tmp_path, loopback_listener.port)
    with pytest.raises(DataSyntaxError, match="remote context"):
        load_file(ox.Store(), path, "urn:g")
    assert_nothing_received(loopback_listener)


def test_validate_refuses_a_jsonld_remote_context(tmp_path, loopback_listener):
    path = remote_context_file(tmp_path, loopback_listener.port)
    done = subprocess.run(
        [sys.executable, "-m", "smartcity_kg.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "draft.jsonld" in done.stderr and "Traceback" not in done.stderr
    assert_nothing_received(loopback_listener)


# --- the tokenizer against pyoxigraph: whatever pyoxigraph would fetch, inspect() refuses ----

SEPARATORS = st.sampled_from(["", " ", "\n", "\t", "\r\n", " # SERVICE? \n", "\f", "\u3000"])
KEYWORDS = st.sampled_from(["SERVICE", "service", "SeRvIcE", "SERVICE SILENT", "service\tsilent",
                            "SERVICESILENT", "SERVICE\nSILENT"])  # fmt: skip
TARGETS = st.sampled_from(["<{url}>", "r:", "r:x", ":", ":x", "r:x.y", "?endpoint", "$endpoint",
                           "<{url}?q=(1)>"])  # fmt: skip
WRAPPERS = st.sampled_from([("", ""), ("OPTIONAL {", "}"), ("{ SELECT * {", "} }"),
                            ("FILTER EXISTS {", "}"), ("GRAPH ?g {", "}"), ("MINUS {", "}"),
                            ("{} UNION {", "}"), ("BIND(1 AS ?x)", "")])  # fmt: skip


@pytest.fixture(scope="module")
def recorder():
    """A loopback listener that accepts, records and closes at once (so a fetch fails fast)."""
    server = socket.create_server(("127.0.0.1", 0))
    seen = []

    def accept():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # closed by the fixture
                return
            seen.append(conn.recv(200))
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/sparql", seen
    server.close()


@settings(max_examples=200, deadline=None)
@given(sep=st.lists(SEPARATORS, min_size=6, max_size=6), keyword=KEYWORDS, target=TARGETS,
       wrapper=WRAPPERS, form=st.sampled_from(["SELECT *", "ASK", "CONSTRUCT WHERE"]))  # fmt: skip
def test_every_service_pyoxigraph_would_call_is_seen_by_the_tokenizer(
    recorder, sep, keyword, target, wrapper, form
):
    """Differential: run the text on pyoxigraph itself; a connection means a missed SERVICE."""
    url, seen = recorder
    before = len(seen)
    head = f"PREFIX r: <{url}> PREFIX : <{url}>{sep[0]}{form}{sep[1]}{{{sep[2]}{wrapper[0]}"
    head += f"{keyword}{sep[3]}"
    query = f"{head}{target.format(url=url)}{sep[4]}{{ ?s ?p ?o }}{wrapper[1]}{sep[5]}}}"
    query = query.replace("BIND(1 AS ?x)", f"BIND(<{url}> AS ?endpoint)")
    try:
        result = ox.Store().query(query)
        if not isinstance(result, ox.QueryBoolean):
            list(result)
    except (SyntaxError, OSError, RuntimeError, ValueError):
        pass
    time.sleep(0.02)  # let the listener's thread record a connection
    if len(seen) > before:
        assert inspect(query).service, query


# Codepoint escapes placed where a tokenizer that does not read them would see a comment, a
# string, an IRI or a group open: before #, ', ", <, {, in IRIs, PREFIX declarations and strings.
ESCAPES = st.sampled_from(["\\u0041", "\\U00000041", "\\u0023", "\\u0027", "\\u0022",
                           "\\u003C", "\\u007B", "\\u000A", "\\u", "\\u00", "\\"])  # fmt: skip
AFTER_ESCAPE = st.sampled_from(["#", "'", '"', "<", "{", "", "x"])
DECOYS = st.sampled_from([
    "BIND(<http://x/{e}{a}> AS ?d)", "BIND('{e}{a}' AS ?d)", 'BIND("{e}{a}" AS ?d)',
    "BIND(\"\"\"{e}{a}\"\"\" AS ?d)", "?s <http://x/{e}{a}> ?o .", "# {e}{a}\n",
    "BIND(r:{e}{a} AS ?d)",
])  # fmt: skip
PROLOGUES = st.sampled_from(["", "PREFIX x: <http://x/{e}{a}>\n", "BASE <http://x/{e}{a}>\n",
                             "PREFIX x{e}: <http://x/>\n"])  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(escape=ESCAPES, after=AFTER_ESCAPE, decoy=DECOYS, prologue=PROLOGUES,
       keyword=KEYWORDS, sep=SEPARATORS)  # fmt: skip
def test_codepoint_escapes_never_hide_a_service_pyoxigraph_would_call(
    recorder, escape, after, decoy, prologue, keyword, sep
):
    """Differential, as above, with an escape placed to mislead a tokenizer before SERVICE."""
    url, seen = recorder
    before = len(seen)
    head = prologue.format(e=escape, a=after) + f"PREFIX r: <{url}>\nSELECT * WHERE {{ "
    query = f"{head}{decoy.format(e=escape, a=after)} {keyword}{sep}<{url}> {{ ?s ?p ?o }} }}"
    with contextlib.suppress(SyntaxError, OSError, RuntimeError, ValueError):
        list(ox.Store().query(query))
    time.sleep(0.02)
    if len(seen) > before:
        assert inspect(query).service, query
