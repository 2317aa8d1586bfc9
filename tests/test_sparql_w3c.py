"""The W3C SPARQL 1.1 test suite through the endpoint's text checks (smartcity_kg.rdf.sparql_text).

The checks must refuse nothing the grammar allows (but SERVICE) and miss no update or SERVICE;
the form they read must be the form pyoxigraph evaluates. The suite is in
tests/fixtures/w3c-sparql11-query, unchanged, with its licence.
"""

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest

from smartcity_kg.config import Config
from smartcity_kg.errors import QueryRefused, UpdateRefused
from smartcity_kg.rdf import sparql_text
from smartcity_kg.rdf.sparql_text import QueryForm
from smartcity_kg.sparql.engine import QueryEngine

SUITE = Path(__file__).parent / "fixtures" / "w3c-sparql11-query"
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#"
UT = "http://www.w3.org/2009/sparql/tests/test-update#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
QUERY_TESTS = {MF + "PositiveSyntaxTest11", MF + "QueryEvaluationTest"}
UPDATE_TESTS = {MF + "PositiveUpdateSyntaxTest11", MF + "UpdateEvaluationTest"}
FEDERATED = {"service", "syntax-fed"}  # the folders of SERVICE tests: all must be refused


@dataclass(frozen=True)
class SuiteQuery:
    path: Path
    kind: str  # "query" or "update"

    @property
    def federated(self) -> bool:
        return self.path.parent.name in FEDERATED


def _suite_queries() -> list[SuiteQuery]:
    found = {}
    for manifest in sorted(SUITE.glob("*/manifest.ttl")):
        store = ox.Store()
        store.load(path=manifest, format=ox.RdfFormat.TURTLE, base_iri=manifest.as_uri())
        for test_type in QUERY_TESTS | UPDATE_TESTS:
            kind = "query" if test_type in QUERY_TESTS else "update"
            for quad in store.quads_for_pattern(None, RDF_TYPE, ox.NamedNode(test_type)):
                path = _query_file(store, quad.subject)
                if path is not None:
                    found[path] = SuiteQuery(path, kind)
    return sorted(found.values(), key=lambda q: str(q.path))


def _query_file(store: ox.Store, test) -> Path | None:
    """Return the file a test runs: its action, or the query or request its action names."""
    for action in store.quads_for_pattern(test, ox.NamedNode(MF + "action"), None):
        node = action.object
        for predicate in (QT + "query", UT + "request"):
            for named in store.quads_for_pattern(node, ox.NamedNode(predicate), None):
                node = named.object
        if isinstance(node, ox.NamedNode) and node.value.startswith("file:"):
            return Path(node.value.removeprefix("file://"))
    return None


QUERIES = _suite_queries()


def _form_evaluated(text: str, base: str) -> QueryForm | None:
    """Return the form pyoxigraph gives the query, None if it cannot evaluate it at all."""
    try:
        result = ox.Store().query(text, base_iri=base)
    except RuntimeError as error:  # syntax-select-expr-04 calls an unknown function
        assert "not supported" in str(error)
        return None
    if isinstance(result, ox.QueryBoolean):
        return QueryForm.ASK
    if isinstance(result, ox.QuerySolutions):
        return QueryForm.SELECT
    return QueryForm.CONSTRUCT  # or DESCRIBE: both give triples


def test_the_suite_is_there_with_its_licence():
    assert (SUITE / "LICENSE.md").is_file()
    kinds = [q.kind for q in QUERIES]
    # the suite's folders hold 415 .rq and 148 .ru files, 7 .rq of them in service/; a few
    # files serve no test (results-only or shared by several tests)
    assert kinds.count("query") > 350 and kinds.count("update") > 100
    assert sum(q.federated for q in QUERIES) == 10  # 7 in service/, 3 in syntax-fed/


@pytest.mark.parametrize(
    "query", [q for q in QUERIES if q.kind == "query" and not q.federated], ids=str
)
def test_every_valid_query_passes_the_checks_with_the_form_pyoxigraph_reads(query):
    text = query.path.read_text(encoding="utf-8")
    info = sparql_text.inspect(text)
    sparql_text.check_allowed(info)
    assert not info.update and not info.service
    form = _form_evaluated(text, query.path.as_uri())
    if form is None:
        assert info.form is not None
    elif info.form is QueryForm.DESCRIBE:
        assert form is QueryForm.CONSTRUCT
    else:
        assert info.form is form


@pytest.mark.parametrize("query", [q for q in QUERIES if q.federated], ids=str)
def test_every_federated_query_is_refused(query):
    info = sparql_text.inspect(query.path.read_text(encoding="utf-8"))
    assert info.service
    with pytest.raises(QueryRefused, match="SERVICE"):
        sparql_text.check_allowed(info)


@pytest.mark.parametrize("query", [q for q in QUERIES if q.kind == "update"], ids=str)
def test_every_update_is_refused_as_an_update_or_by_the_query_parser(query):
    text = query.path.read_text(encoding="utf-8")
    info = sparql_text.inspect(text)
    if info.update:
        with pytest.raises(UpdateRefused):
            sparql_text.check_allowed(info)
    else:  # an update of only a prologue (syntax-update-38 to 40) does nothing, and is no query
        assert info.form is None
        with pytest.raises(SyntaxError):
            ox.Store().query(text)


# --- evaluation: answers through the engine (checks, worker, serialisation) equal pyoxigraph's --

NONDETERMINISTIC = ("RAND(", "NOW(", "UUID(", "STRUUID(", "BNODE(")


@dataclass(frozen=True)
class Evaluation:
    query: Path
    data: tuple[Path, ...]


def _evaluations() -> list[Evaluation]:
    found = {}
    for manifest in sorted(SUITE.glob("*/manifest.ttl")):
        if manifest.parent.name in FEDERATED:
            continue
        store = ox.Store()
        store.load(path=manifest, format=ox.RdfFormat.TURTLE, base_iri=manifest.as_uri())
        tests = store.quads_for_pattern(None, RDF_TYPE, ox.NamedNode(MF + "QueryEvaluationTest"))
        for test in tests:
            [action] = store.quads_for_pattern(test.subject, ox.NamedNode(MF + "action"), None)
            found.update(_evaluation(store, action.object))
    return sorted(found.values(), key=lambda e: str(e.query))


def _evaluation(store: ox.Store, action) -> dict:
    """Return the test as {query: Evaluation} if it can run on the endpoint's default dataset."""

    def objects(predicate):
        return [
            q.object for q in store.quads_for_pattern(action, ox.NamedNode(QT + predicate), None)
        ]

    [query] = objects("query")
    path = Path(query.value.removeprefix("file://"))
    text = path.read_text(encoding="utf-8").upper()
    if objects("graphData") or "FROM" in text or any(f in text for f in NONDETERMINISTIC):
        return {}  # named graphs or a dataset of its own, or an answer that differs each run
    data = tuple(Path(d.value.removeprefix("file://")) for d in objects("data"))
    return {path: Evaluation(path, data)}


EVALUATIONS = _evaluations()


def _comparable(result) -> list | bool:
    """Return a result as sorted rows of strings, blank nodes blanked (their labels differ)."""
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        rows = [tuple(_show(s[name]) for name in names) for s in result]
    else:
        rows = [tuple(_show(term) for term in (t.subject, t.predicate, t.object)) for t in result]
    return sorted(rows)


def _show(term) -> str:
    return "" if term is None else "_:b" if isinstance(term, ox.BlankNode) else str(term)


def _data_store(paths, graph=None) -> ox.Store:
    store = ox.Store()
    to = {"to_graph": ox.NamedNode(graph)} if graph else {}
    for path in paths:
        fmt = ox.RdfFormat.from_extension(path.suffix[1:])
        store.load(path=path, format=fmt, base_iri=path.as_uri(), **to)
    return store


def test_the_evaluation_tests_are_there():
    assert len(EVALUATIONS) > 200


@pytest.fixture(scope="module")
def engines():
    """One engine per data set, the data in a named graph as the endpoint serves it."""
    made = {}

    def engine_for(data):
        if data not in made:
            store = _data_store(data, graph="urn:x-test:data")
            made[data] = QueryEngine(Config(workers=1, fast_lane=0, timeout=20), store=store)
        return made[data]

    yield engine_for
    for engine in made.values():
        engine.close()


@pytest.mark.parametrize("test", EVALUATIONS, ids=lambda e: f"{e.query.parent.name}/{e.query.name}")
def test_every_evaluation_answers_through_the_engine_as_pyoxigraph_does(engines, test):
    text = test.query.read_text(encoding="utf-8")
    base = test.query.as_uri()
    expected = _comparable(_data_store(test.data).query(text, base_iri=base))
    result = engines(test.data).run(f"BASE <{base}>\n{text}")
    assert not result.truncated
    assert _comparable(_parsed(result)) == expected


def _parsed(result):
    """Parse an engine's serialised result back into pyoxigraph's objects."""
    fmt = result.format.oxigraph
    if isinstance(fmt, ox.QueryResultsFormat):
        return ox.parse_query_results(result.body, format=fmt)
    return [quad.triple for quad in ox.parse(result.body, format=fmt)]
