"""Findings of the web security review, each held by a test that fails without its protection.

Chunked bodies and HEAD are tried on the real server too (the test client frames nothing);
the remote store is faked by a small http.server on a loopback port.
"""

import http.client
import io
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlencode, urlsplit

import pytest
import requests

from smartcity_kg.config import Config
from smartcity_kg.errors import InputError, StoreUnavailable
from smartcity_kg.sparql.catalog import MAX_PARAM_LENGTH, load_catalog
from smartcity_kg.store.remote import RemoteStore
from smartcity_kg.web import create_app
from smartcity_kg.web.linked_data import is_linkable
from smartcity_kg.web.state import state

FORM = "application/x-www-form-urlencoded"
EMPTY_GRAPH = "http://example.org/no-such-graph"
# ASK is false over an empty graph: the answer says whether default-graph-uri was read
ASK_DATASET = {"query": "ASK { ?s ?p ?o }", "default-graph-uri": EMPTY_GRAPH}
ONE_MB = 1_000_000  # Config.max_body_bytes


@pytest.fixture(scope="module")
def engine(packaged_store):
    with packaged_store.engine(workers=1, timeout=5) as engine:
        yield engine


@pytest.fixture(scope="module")
def client(engine):
    return create_app(engine.config, engine=engine).test_client()


def client_for(engine, **settings):
    """A test client with other settings over the module's engine."""
    config = Config(workers=1, timeout=5, store=engine.config.store, **settings)
    return create_app(config, engine=engine).test_client()


def padded_form(size: int) -> bytes:
    """A form whose `default-graph-uri` comes after `size` bytes of padding."""
    return (
        b"query=" + quote(ASK_DATASET["query"]).encode() + b"&padding=" + b"x" * size
        + b"&default-graph-uri=" + quote(EMPTY_GRAPH, safe="").encode()
    )  # fmt: skip


# --- 1. a chunked body over the limit is 413, not cut ------------------------------------------


def post_streamed(client, body: bytes):
    """POST `body` as a server hands on a chunked one: no Content-Length, a terminated stream."""
    return client.post(
        "/sparql",
        input_stream=io.BytesIO(body),
        content_type=FORM,
        headers={"Transfer-Encoding": "chunked", "Accept": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_streamed_body_over_the_limit_is_413(client):
    response = post_streamed(client, padded_form(ONE_MB))
    assert response.status_code == 413, response.text
    assert "1000000 byte limit" in response.json["error"]["message"]


def test_streamed_body_within_the_limit_is_read_whole(client):
    response = post_streamed(client, padded_form(ONE_MB - 200))
    assert response.status_code == 200, response.text
    assert response.json["boolean"] is False  # the dataset parameter after the padding counted


def post_chunked(server, body: bytes) -> tuple[int, bytes]:
    """POST `body` to the real server with Transfer-Encoding: chunked."""
    address = urlsplit(server.base)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    try:
        chunks = (body[at : at + 65536] for at in range(0, len(body), 65536))
        conn.request("POST", "/sparql", body=chunks, encode_chunked=True, headers={
            "Content-Type": FORM, "Accept": "application/json"})  # fmt: skip
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.server
def test_chunked_body_over_the_limit_is_413_on_the_wire(packaged_sparql_server):
    status, body = post_chunked(packaged_sparql_server, padded_form(ONE_MB))
    assert status == 413, body[:300]
    assert b"byte limit" in body


@pytest.mark.server
def test_chunked_body_within_the_limit_is_read_whole_on_the_wire(packaged_sparql_server):
    status, body = post_chunked(packaged_sparql_server, padded_form(ONE_MB - 200))
    assert status == 200, body[:300]
    assert json.loads(body)["boolean"] is False


# --- 2. HEAD answers as GET, without the body, on every route ----------------------------------

ROUTES = [
    "/", "/sparql", "/sparql?query=ASK%20%7B%7D", "/sparql?query=SELECT%20*%20%7B%7D",
    "/sparql?query=CONSTRUCT%20WHERE%20%7B%3Fs%20%3Fp%20%3Fo%7D%20LIMIT%202",
    "/sparql?query=ASK", "/queries", "/queries/list-tasks", "/queries/list-tasks?format=csv",
    "/queries/no-such-query", "/downloads", "/downloads/SHA256SUMS",
    "/downloads/smartcity-kg.ttl", "/coverage", "/coverage/institution.csv",
    "/.well-known/void", "/context.jsonld", "/healthz", "/institution/kaia",
    "/institution/kaia.html", "/institution/kaia.ttl", "/def", "/no/such/thing",
    "/static/query.js",
]  # fmt: skip
ACCEPTS = ["text/html", "application/json", "*/*"]


def comparable(headers) -> dict:
    return {name: value for name, value in headers.items() if name.lower() != "date"}


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("path", ROUTES)
def test_head_answers_as_get_without_the_body(client, path, accept):
    with (
        client.get(path, headers={"Accept": accept}) as got,
        client.head(path, headers={"Accept": accept}) as head,
    ):
        got.get_data()
    assert (head.status_code, comparable(head.headers)) == (
        got.status_code,
        comparable(got.headers),
    )
    assert head.data == b""


@pytest.mark.server
@pytest.mark.parametrize("path", ROUTES)
def test_head_answers_as_get_on_the_wire(packaged_sparql_server, path):
    url, accept = packaged_sparql_server.base + path, {"Accept": "*/*"}
    got = requests.get(url, headers=accept, allow_redirects=False, timeout=30)
    head = requests.head(url, headers=accept, allow_redirects=False, timeout=30)
    assert head.status_code == got.status_code
    assert comparable(head.headers) == comparable(got.headers)
    assert head.content == b""


def test_service_description_is_the_same_bytes_each_time(client):
    """Its blank nodes are named: random ones made HEAD's Content-Length differ from GET's."""
    first, second = (client.get("/sparql", headers={"Accept": "text/turtle"}) for _ in range(2))
    assert first.data == second.data


def test_head_of_a_cached_result_honours_if_none_match(client):
    etag = client.get(ROUTES[2]).headers["ETag"]
    assert client.head(ROUTES[2], headers={"If-None-Match": etag}).status_code == 304


# --- 3. every response chosen by Accept says Vary: Accept --------------------------------------

NEGOTIATED = ["/sparql", "/sparql?query=ASK%20%7B%7D", "/queries", "/queries/list-tasks",
              "/queries/no-such-query", "/institution/kaia", "/.well-known/void",
              "/no/such/thing", "/sparql?query=ASK"]  # fmt: skip


@pytest.mark.parametrize("accept", ["text/html", "application/json", "text/turtle"])
@pytest.mark.parametrize("path", NEGOTIATED)
def test_negotiated_responses_vary_on_accept(client, path, accept):
    response = client.get(path, headers={"Accept": accept})
    assert "Accept" in response.vary, (response.status_code, response.headers)


def test_named_query_page_varies_on_accept_as_its_public_json_does(client):
    page = client.get("/queries/list-tasks", headers={"Accept": "text/html"})
    data = client.get("/queries/list-tasks", headers={"Accept": "application/json"})
    assert page.mimetype == "text/html" and "public" in data.headers["Cache-Control"]
    assert "Accept" in page.vary and "Accept" in data.vary


# --- 4. only http(s) IRIs become links ----------------------------------------------------------

UNSAFE_IRIS = ["javascript:alert(1)", "data:text/html;base64,PHNjcmlwdD4=", "vbscript:msgbox"]
EVIL_TTL = """@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://w3id.org/smartcity-kr/institution/evil> a <https://example.org/Thing> ;
    rdfs:label "Evil"@en ;
    rdfs:seeAlso <javascript:alert(1)>, <data:text/html;base64,PHNjcmlwdD4=>, <vbscript:msgbox>,
        <https://example.org/ok> .
<javascript:alert(2)> rdfs:seeAlso <https://w3id.org/smartcity-kr/institution/evil> .
"""


@pytest.mark.parametrize(
    ("href", "linkable"),
    [("/institution/kaia", True), ("https://example.org/a", True), ("HTTP://example.org", True),
     ("javascript:alert(1)", False), ("JavaScript:alert(1)", False), ("data:text/html,x", False),
     ("vbscript:msgbox", False), ("urn:isbn:123", False), ("", False), (None, False),
     ("http://[::1", False)],
)  # fmt: skip
def test_only_local_paths_and_http_urls_are_linkable(href, linkable):
    assert is_linkable(href) is linkable


@pytest.fixture(scope="module")
def evil_client(stores, tmp_path_factory):
    path = tmp_path_factory.mktemp("evil") / "evil.ttl"
    path.write_text(EVIL_TTL)
    with stores.of_files([path]).engine(workers=1, timeout=5) as engine:
        yield create_app(engine.config, engine=engine).test_client()


def test_resource_page_shows_unsafe_iris_as_text(evil_client):
    response = evil_client.get("/institution/evil.html")
    assert response.status_code == 200, response.text
    hrefs = re.findall(r'href="([^"]*)"', response.text)
    assert "https://example.org/ok" in hrefs
    for iri in UNSAFE_IRIS:
        assert not [h for h in hrefs if h.lower().startswith(iri.split(":")[0] + ":")], hrefs
        assert iri in response.text  # still shown, as text
    assert "javascript:alert(2)" in response.text  # the incoming link's subject


FOREIGN_VOCABULARY_TTL = """<https://w3id.org/smartcity-kr/institution/odd> a <urn:x:Thing> ;
    <vbscript:msgbox> "a value" .
"""


def test_foreign_terms_without_slash_or_hash_do_not_break_pages(stores, tmp_path):
    """A predicate `<vbscript:msgbox>` once made every resource page and the VoID 500."""
    path = tmp_path / "odd.ttl"
    path.write_text(FOREIGN_VOCABULARY_TTL)
    with stores.of_files([path]).engine(workers=1, timeout=5) as engine:
        client = create_app(engine.config, engine=engine).test_client()
        assert client.get("/institution/odd.html").status_code == 200
        void = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
        assert void.status_code == 200
        assert "<vbscript:>" in void.text and "<urn:x:>" in void.text


UNSAFE_SELECT = (
    "SELECT ?x WHERE { VALUES ?x { <javascript:alert(1)> <data:text/html;base64,PHNjcmlwdD4=>"
    " <vbscript:msgbox> <https://example.org/ok> } }"
)
UNSAFE_CONSTRUCT = (
    "CONSTRUCT { <https://example.org/s> <https://example.org/p> ?x } WHERE { VALUES ?x {"
    " <javascript:alert(1)> <data:text/html;base64,PHNjcmlwdD4=> <https://example.org/ok> } }"
)
RESULT_HREFS = "Array.from(document.querySelectorAll('#results a'), (a) => a.getAttribute('href'))"


@pytest.mark.browser
@pytest.mark.server
@pytest.mark.parametrize(
    ("query", "shown"), [(UNSAFE_SELECT, "#results-table"), (UNSAFE_CONSTRUCT, "#results-turtle")]
)
def test_query_page_links_no_unsafe_iri(page, packaged_sparql_server, query, shown):
    page.set_default_timeout(20_000)
    page.goto(packaged_sparql_server.base + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.fill("#editor", query)
    page.click("#run")
    page.wait_for_selector(shown)
    hrefs = page.evaluate(RESULT_HREFS)
    assert "https://example.org/ok" in hrefs
    assert not [h for h in hrefs if not h.startswith(("http:", "https:", "/"))], hrefs
    assert page.locator("a[href^='javascript:' i]").count() == 0
    assert "javascript:alert(1)" in page.inner_text("#results")


# --- 5. the loopback exemption follows the TCP peer ---------------------------------------------

OUTSIDE = {"REMOTE_ADDR": "203.0.113.7"}
LOCAL_PROXY = {"REMOTE_ADDR": "127.0.0.1"}


def statuses(client, times: int, environ: dict, forwarded: str | None = None) -> list[int]:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return [client.get("/queries", environ_base=environ, headers=headers).status_code
            for _ in range(times)]  # fmt: skip


@pytest.mark.parametrize("forwarded", ["::1", "127.0.0.1", "127.0.0.2"])
def test_forwarded_loopback_claims_no_exemption(engine, forwarded):
    client = client_for(engine, rate_limit=2, trusted_proxies=1)
    assert statuses(client, 3, OUTSIDE, forwarded) == [200, 200, 429]


def test_outside_clients_of_a_proxy_on_this_host_are_limited(engine):
    client = client_for(engine, rate_limit=2, trusted_proxies=1)
    assert statuses(client, 3, LOCAL_PROXY, "198.51.100.7") == [200, 200, 429]


def test_this_hosts_own_requests_stay_exempt_behind_a_proxy(engine):
    client = client_for(engine, rate_limit=2, trusted_proxies=1)
    assert statuses(client, 4, LOCAL_PROXY, "127.0.0.1") == [200] * 4  # through the proxy
    assert statuses(client, 4, LOCAL_PROXY) == [200] * 4  # straight to the app


def test_without_trusted_proxies_a_rotating_forwarded_for_is_ignored(engine):
    client = client_for(engine, rate_limit=2)
    got = [statuses(client, 1, OUTSIDE, f"192.0.2.{n}")[0] for n in range(3)]
    assert got == [200, 200, 429]
    assert statuses(client, 1, OUTSIDE, "::1") == [429]


# --- 6. parameters that are not UTF-8 are a 400 naming them -------------------------------------


def get_raw(client, path: str, query_string: bytes):
    """GET with the query string's bytes as they came (WSGI carries them as Latin-1)."""
    return client.get(path, environ_overrides={"QUERY_STRING": query_string.decode("latin-1")})


@pytest.mark.parametrize(
    ("query_string", "name"),
    [(b"query=ASK%20%7B%FF%7D", "query"), (b"query=ASK%20%7B%7D&format=%C0%AF", "format"),
     (b"query=ASK%20%7B%7D&default-graph-uri=http://x/%E9", "default-graph-uri"),
     (b"query=ASK\xff\xfe", "query")],
)  # fmt: skip
def test_url_parameter_not_utf8_is_400_naming_it(client, query_string, name):
    response = get_raw(client, "/sparql", query_string)
    assert response.status_code == 400
    assert f"parameter '{name}' is not valid UTF-8" in response.text


def test_named_query_parameter_not_utf8_is_400_naming_it(client):
    response = get_raw(client, "/queries/list-tasks", b"institution=%FF")
    assert response.status_code == 400
    assert "parameter 'institution' is not valid UTF-8" in response.text


def test_parameter_name_not_utf8_is_400(client):
    response = get_raw(client, "/", b"%FF=1")
    assert response.status_code == 400 and "parameter name" in response.text


def test_form_parameter_not_utf8_is_400_naming_it(client):
    body = b"query=ASK%20%7B%7D&default-graph-uri=http%3A%2F%2Fx%2F%FF"
    response = client.post("/sparql", data=body, content_type=FORM)
    assert response.status_code == 400
    assert "parameter 'default-graph-uri' is not valid UTF-8" in response.text


def test_utf8_parameters_still_run(client):
    text = 'ASK { FILTER ("스마트시티" != "") }'
    assert client.get("/sparql", query_string={"query": text}).status_code == 200
    body = urlencode({"query": text}).encode()
    assert client.post("/sparql", data=body, content_type=FORM).status_code == 200


@pytest.mark.server
def test_url_parameter_not_utf8_is_400_on_the_wire(packaged_sparql_server):
    response = requests.get(packaged_sparql_server.endpoint + "?query=ASK%20%7B%FF%7D", timeout=30)
    assert response.status_code == 400
    assert "parameter 'query' is not valid UTF-8" in response.text


# --- 7. named-query parameters are bounded ------------------------------------------------------


def test_named_query_parameter_over_the_length_limit_is_400(client):
    iri = "https://w3id.org/smartcity-kr/institution/" + "k" * MAX_PARAM_LENGTH
    response = client.get("/queries/list-tasks", query_string={"institution": iri})
    assert response.status_code == 400
    assert "parameter 'institution'" in response.text
    assert f"the limit is {MAX_PARAM_LENGTH:,}" in response.text
    assert len(response.text) < 1000  # the value is not echoed


def test_named_query_parameter_at_the_length_limit_runs(client):
    iri = "https://w3id.org/smartcity-kr/institution/"
    iri += "k" * (MAX_PARAM_LENGTH - len(iri))
    response = client.get("/queries/list-tasks", query_string={"institution": iri})
    assert response.status_code == 200, response.text


def test_page_parameters_are_bounded_too(client):
    response = client.get("/queries/list-tasks", query_string={"offset": "9" * 5000})
    assert response.status_code == 400 and "parameter 'offset'" in response.text


def test_binding_refuses_a_long_value_for_the_cli_too():
    query = load_catalog()["list-tasks"]
    with pytest.raises(InputError, match=r"parameter 'institution' .* limit is 2,000"):
        query.bind({"institution": "https://example.org/" + "x" * MAX_PARAM_LENGTH})


# --- 8. a remote store that redirects or answers nonsense is a StoreUnavailable (502) -----------

RESULTS_JSON = "application/sparql-results+json"
COUNT_42 = json.dumps({"head": {"vars": ["n"]}, "results": {"bindings": [{"n": {
    "type": "literal", "value": "42",
    "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}]}}).encode()  # fmt: skip
MALFORMED = {
    "html": (200, "text/html", b"<html><body>Welcome</body></html>"),
    "garbage as JSON results": (200, RESULTS_JSON, b"\x00garbage"),
    "JSON that is not results": (200, RESULTS_JSON, b'{"status": "ok"}'),
    "an empty body": (200, RESULTS_JSON, b""),
    "a boolean to a SELECT": (200, RESULTS_JSON, b'{"head": {}, "boolean": true}'),
    "no row": (200, RESULTS_JSON, b'{"head": {"vars": ["n"]}, "results": {"bindings": []}}'),
    "the wrong variable": (200, RESULTS_JSON, COUNT_42.replace(b'"n"', b'"x"')),
    "a count that is no number": (200, RESULTS_JSON, COUNT_42.replace(b'"42"', b'"many"')),
    "triples to a SELECT": (200, "application/n-triples", b"<http://a> <http://b> <http://c> .\n"),
    "garbage as N-Triples": (200, "application/n-triples", b"not triples at all"),
    "a 400 to our own query": (400, "text/plain", b"Parse error"),
    "not HTTP at all": None,
}


class FakeStore:
    """A SPARQL endpoint on a loopback port answering every request as a test says."""

    def __init__(self, answer=(200, RESULTS_JSON, COUNT_42)):
        self.answer = answer  # (status, content type, body), a Location to redirect, or None
        self.requests: list[str] = []
        store = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                store.respond(self)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/sparql"

    def respond(self, handler) -> None:
        self.requests.append(handler.command)
        if self.answer is None:
            handler.wfile.write(b"garbage\r\n\r\n")
            handler.close_connection = True
            return
        if isinstance(self.answer, str):
            status, content_type, body = 302, "text/plain", b""
        else:
            status, content_type, body = self.answer
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        if isinstance(self.answer, str):
            handler.send_header("Location", self.answer)
        handler.end_headers()
        handler.wfile.write(body)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_store():
    made = []

    def make(answer=(200, RESULTS_JSON, COUNT_42)) -> FakeStore:
        made.append(FakeStore(answer))
        return made[-1]

    yield make
    for store in made:
        store.close()


def test_a_fake_store_that_answers_well_is_read(fake_store):
    assert len(RemoteStore(fake_store().url, timeout=5)) == 42  # the fake itself works


def test_redirect_to_another_origin_is_refused_naming_both_urls(fake_store):
    other = fake_store()
    redirecting = fake_store(other.url)
    with pytest.raises(StoreUnavailable) as caught:
        len(RemoteStore(redirecting.url, timeout=5))
    message = caught.value.message
    assert redirecting.url in message and other.url in message and "another origin" in message
    assert other.requests == []  # its data was never asked for


def test_redirect_within_the_origin_is_refused_naming_the_target(fake_store):
    store = fake_store("/elsewhere")
    with pytest.raises(StoreUnavailable, match="redirected") as caught:
        len(RemoteStore(store.url, timeout=5))
    assert store.url.replace("/sparql", "/elsewhere") in caught.value.message
    assert store.requests == ["POST"]


@pytest.mark.parametrize("answer", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_answer_is_store_unavailable_naming_the_url(fake_store, answer):
    store = RemoteStore(fake_store(answer).url, timeout=5)
    with pytest.raises(StoreUnavailable) as caught:
        len(store)
    assert store.url in caught.value.message


LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(b'<!ENTITY %c "%s">' % (98 + i, (b"&%c;" % (97 + i)) * 10) for i in range(5))
    + b']>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="http://ex/s"><rdf:value>&f;</rdf:value></rdf:Description>'
    b"</rdf:RDF>"
)


def test_a_hostile_store_answering_rdf_xml_with_entities_is_refused_unread(fake_store):
    """Nested entities (here a mild 1 MB; ten levels ask for 10 GB) are never parsed."""
    store = RemoteStore(fake_store((200, "application/rdf+xml", LAUGHS)).url, timeout=5)
    with pytest.raises(StoreUnavailable, match="DOCTYPE, refused unread") as caught:
        list(store.query("CONSTRUCT WHERE { ?s ?p ?o }"))
    assert store.url in caught.value.message


NOT_SOLUTIONS = ["html", "garbage as JSON results", "JSON that is not results", "an empty body",
                 "a boolean to a SELECT", "triples to a SELECT", "garbage as N-Triples",
                 "not HTTP at all"]  # fmt: skip


@pytest.mark.parametrize("answer", [MALFORMED[k] for k in NOT_SOLUTIONS], ids=NOT_SOLUTIONS)
def test_malformed_answer_to_a_select_is_store_unavailable(fake_store, answer):
    store = RemoteStore(fake_store(answer).url, timeout=5)
    with pytest.raises(StoreUnavailable, match=re.escape(store.url)):
        store.named_graphs()
    with pytest.raises(StoreUnavailable, match=re.escape(store.url)):
        store.query("SELECT * WHERE { ?s ?p ?o }")


@pytest.fixture
def app_over(fake_store):
    """Make an app whose store is a fake answering `answer`; close its engine after."""
    apps = []

    def make(answer):
        if answer == ELSEWHERE:  # a store on another port, with a good answer of its own
            answer = fake_store().url
        apps.append(create_app(Config(store=fake_store(answer).url, workers=1, timeout=5)))
        return apps[-1].test_client()

    yield make
    for app in apps:
        state(app).engine.close()


BROKEN_FOR_HEALTHZ = ["JSON that is not results", "the wrong variable", "not HTTP at all"]
BROKEN_FOR_SELECT = ["JSON that is not results", "a boolean to a SELECT", "not HTTP at all"]
ELSEWHERE = "a redirect to another origin"


@pytest.mark.parametrize("answer", [*(MALFORMED[k] for k in BROKEN_FOR_HEALTHZ), ELSEWHERE])
def test_healthz_answers_502_over_a_broken_store(app_over, answer):
    health = app_over(answer).get("/healthz")
    assert health.status_code == 502, health.text
    assert "the store at http://127.0.0.1" in health.text
    assert answer != ELSEWHERE or "another origin" in health.text


@pytest.mark.parametrize("answer", [*(MALFORMED[k] for k in BROKEN_FOR_SELECT), ELSEWHERE])
def test_sparql_answers_502_over_a_broken_store(app_over, answer):
    query = {"query": "SELECT * WHERE { ?s ?p ?o }"}
    response = app_over(answer).get("/sparql", query_string=query)
    assert response.status_code == 502, response.text
    assert "the store at http://127.0.0.1" in response.text
    assert answer != ELSEWHERE or "another origin" in response.text
