"""The W3C SPARQL 1.1 test suite through the endpoint's text checks (smartcity_kg.sparql).

The checks must refuse nothing the grammar allows (but SERVICE) and miss no update or SERVICE;
the form they read must be the form pyoxigraph evaluates. The suite is in
tests/fixtures/w3c-sparql11-query, unchanged, with its licence.
"""

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest

from smartcity_kg import sparql
from smartcity_kg.errors import QueryRefused
from smartcity_kg.sparql import QueryForm, UpdateRefused

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
    info = sparql.inspect(text)
    sparql.check_allowed(info)
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
    info = sparql.inspect(query.path.read_text(encoding="utf-8"))
    assert info.service
    with pytest.raises(QueryRefused, match="SERVICE"):
        sparql.check_allowed(info)


@pytest.mark.parametrize("query", [q for q in QUERIES if q.kind == "update"], ids=str)
def test_every_update_is_refused_as_an_update_or_by_the_query_parser(query):
    text = query.path.read_text(encoding="utf-8")
    info = sparql.inspect(text)
    if info.update:
        with pytest.raises(UpdateRefused):
            sparql.check_allowed(info)
    else:  # an update of only a prologue (syntax-update-38 to 40) does nothing, and is no query
        assert info.form is None
        with pytest.raises(SyntaxError):
            ox.Store().query(text)
