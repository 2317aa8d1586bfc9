"""The query engine: worker processes, time and row limits, datasets, cache."""

import os
import signal
import threading
import time

import pyoxigraph as ox
import pytest

from smartcity_kg.config import Config
from smartcity_kg.errors import (
    InputError,
    NotAcceptable,
    PayloadTooLarge,
    QueryRefused,
    QuerySyntaxError,
    QueryTimeout,
    UpdateRefused,
    WorkerCrashed,
)
from smartcity_kg.rdf import formats
from smartcity_kg.rdf.files import GraphSource
from smartcity_kg.sparql.engine import ProtocolDataset

G1, G2 = "http://example.org/graph/one", "http://example.org/graph/two"
SLOW = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # a cartesian product


@pytest.fixture
def sources(tmp_path):
    """Two small named graphs, and a few thousand triples to make slow queries with."""
    one = tmp_path / "one.ttl"
    one.write_text("<http://ex/a> <http://ex/p> 'one' .\n<http://ex/b> <http://ex/p> 'two' .\n")
    two = tmp_path / "two.nt"
    two.write_text("".join(f'<http://ex/n{i}> <http://ex/q> "{i}" .\n' for i in range(3000)))
    return [GraphSource(G1, (one,)), GraphSource(G2, (two,))]


@pytest.fixture
def graphs(stores, sources):
    """The two graphs in the store kind under test (conftest's SMARTCITY_KG_TEST_STORE)."""
    return stores.holding(sources)


@pytest.fixture
def engine(graphs):
    with graphs.engine(Config(timeout=1, max_rows=50, workers=2)) as engine:
        yield engine


def values(result, name="o"):
    parsed = ox.parse_query_results(result.body, format=result.format.oxigraph)
    return sorted(s[name].value for s in parsed)


def test_select_defaults_to_sparql_json(engine):
    result = engine.run("SELECT ?o { <http://ex/a> ?p ?o }")
    assert result.format.name == "json"
    assert values(result) == ["one"]
    assert result.rows == 1 and not result.truncated


def test_construct_defaults_to_turtle(engine):
    result = engine.run("CONSTRUCT WHERE { <http://ex/a> ?p ?o }")
    assert result.format.name == "ttl"
    assert len(list(ox.parse(result.body, format=ox.RdfFormat.TURTLE))) == 1


def test_ask_gives_one_boolean(engine):
    result = engine.run("ASK { <http://ex/a> ?p 'one' }", format=formats.by_name("xml"))
    assert bool(ox.parse_query_results(result.body, format=ox.QueryResultsFormat.XML))


@pytest.mark.parametrize("name", ["json", "xml", "csv", "tsv"])
def test_solutions_body_equals_pyoxigraph_serialisation(engine, name):
    query = "SELECT ?s ?o ?unbound { GRAPH ?g { ?s ?p ?o } } ORDER BY ?s LIMIT 20"
    fmt = formats.by_name(name)
    direct = engine.store.query(query).serialize(format=fmt.oxigraph)
    assert engine.run(query, format=fmt).body == direct


def test_default_graph_is_the_union_of_named_graphs(engine):
    result = engine.run("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
    assert values(result, "n") == ["3002"]


def test_from_clause_restricts_the_default_graph(engine):
    # pyoxigraph's use_default_graph_as_union would override FROM; the engine must not set it.
    result = engine.run(f"SELECT ?o FROM <{G1}> {{ ?s ?p ?o }}")
    assert values(result) == ["one", "two"]


def test_from_named_only_gives_an_empty_default_graph(engine):
    result = engine.run(f"SELECT ?o FROM NAMED <{G1}> {{ ?s ?p ?o }}")
    assert values(result) == []


def test_protocol_dataset_overrides_the_query_dataset(engine):
    query = f"SELECT ?o FROM <{G2}> {{ ?s ?p ?o }}"
    dataset = ProtocolDataset(default_graphs=(G1,))
    assert values(engine.run(query, dataset=dataset)) == ["one", "two"]


def test_named_graph_uri_alone_gives_an_empty_default_graph(engine):
    dataset = ProtocolDataset(named_graphs=(G1,))
    assert values(engine.run("SELECT ?o { ?s ?p ?o }", dataset=dataset)) == []
    graphs = engine.run("SELECT DISTINCT ?o { GRAPH ?o { ?s ?p ?x } }", dataset=dataset)
    assert values(graphs) == [G1]


def test_from_an_unknown_graph_yields_nothing_and_fetches_nothing(engine, loopback_listener):
    result = engine.run(f"SELECT * FROM <{loopback_listener.url}> {{ ?s ?p ?o }}")
    assert result.rows == 0
    time.sleep(0.3)
    assert loopback_listener.connections == []


def test_service_is_refused_before_execution(engine, loopback_listener):
    with pytest.raises(QueryRefused):
        engine.run(f"SELECT * {{ SERVICE <{loopback_listener.url}> {{ ?s ?p ?o }} }}")
    time.sleep(0.3)
    assert loopback_listener.connections == []


def test_an_escaped_service_keyword_is_refused_as_sparql_1_1_reads_it(engine, loopback_listener):
    # pyoxigraph 0.5 decodes \u only inside IRIs and strings; SPARQL 1.1 decodes it everywhere
    # first, so the checks read both ways, whichever a parser (or a remote store) follows.
    text = rf"SELECT * {{ \u0053ERVICE <{loopback_listener.url}> {{ ?s ?p ?o }} }}"
    with pytest.raises(SyntaxError):
        ox.Store().query(text)
    with pytest.raises(QueryRefused, match="SERVICE"):
        engine.run(text)
    assert loopback_listener.connections == []


@pytest.mark.parametrize("query", ["INSERT DATA { <a:a> <a:b> <a:c> }", "LOAD <http://x/>"])
def test_updates_are_refused(engine, query):
    with pytest.raises(UpdateRefused):
        engine.run(query)


def test_syntax_error_gives_line_and_column(engine):
    with pytest.raises(QuerySyntaxError, match="line 2, column 16"):
        engine.run("SELECT *\nWHERE { ?s ?p }")


def test_query_over_the_length_limit_is_refused(graphs):
    engine = graphs.engine(Config(max_query_length=20))
    with engine, pytest.raises(PayloadTooLarge, match="limit is 20"):
        engine.run("SELECT * { ?s ?p ?o } LIMIT 1")


def test_format_of_the_wrong_kind_is_not_acceptable(engine):
    with pytest.raises(NotAcceptable):
        engine.run("SELECT * {}", format=formats.by_name("ttl"))


def test_format_of_the_wrong_kind_is_refused_before_any_worker_starts(engine):
    with pytest.raises(NotAcceptable, match="cannot hold solutions results"):
        engine.run("SELECT * {}", format=formats.by_name("ttl"))
    assert engine.worker_pids == []


def test_format_of_a_form_the_text_does_not_show_is_checked_on_the_result(engine):
    assert engine.inspect("ASKWHERE{}").kind is None  # pyoxigraph reads ASK WHERE {}
    with pytest.raises(NotAcceptable, match="cannot hold solutions results"):
        engine.run("ASKWHERE{}", format=formats.by_name("ttl"))
    assert engine.run("ASKWHERE{}", format=formats.by_name("xml")).format.name == "xml"


def test_inspect_returns_the_kind_and_refuses_what_run_refuses(graphs):
    with graphs.engine(Config(max_query_length=40)) as engine:
        assert engine.inspect("CONSTRUCT WHERE { ?s ?p ?o }").kind is formats.ResultKind.GRAPH
        with pytest.raises(UpdateRefused):
            engine.inspect("DELETE WHERE { ?s ?p ?o }")
        with pytest.raises(QueryRefused, match="SERVICE"):
            engine.inspect("SELECT * { SERVICE <http://ex/> {} }")
        with pytest.raises(PayloadTooLarge, match="limit is 40"):
            engine.inspect("SELECT * { ?s ?p ?o } LIMIT 1" + " " * 40)
        assert engine.worker_pids == []


def test_the_default_format_and_the_same_format_named_share_a_cache_entry(engine):
    first = engine.run("SELECT ?o { <http://ex/a> ?p ?o }")
    named = engine.run("SELECT ?o { <http://ex/a> ?p ?o }", format=formats.by_name("json"))
    assert named.cached and named.format is first.format


def test_invalid_dataset_iri_is_an_input_error():
    with pytest.raises(InputError, match="default-graph-uri"):
        ProtocolDataset(default_graphs=("not an iri",))


def test_solutions_over_the_row_limit_are_cut_and_flagged(engine):
    result = engine.run("SELECT * { ?s <http://ex/q> ?o }", format=formats.by_name("csv"))
    assert result.truncated and result.rows == 50 and result.limit == 50
    assert result.body.count(b"\r\n") == 51  # header and 50 rows


def test_triples_over_the_row_limit_are_cut_and_flagged(engine):
    result = engine.run("CONSTRUCT WHERE { ?s <http://ex/q> ?o }", format=formats.by_name("nt"))
    assert result.truncated and result.rows == 50
    assert len(list(ox.parse(result.body, format=ox.RdfFormat.N_TRIPLES))) == 50


def test_a_result_of_exactly_the_limit_is_not_truncated(engine):
    result = engine.run("SELECT * { ?s <http://ex/q> ?o } LIMIT 50")
    assert result.rows == 50 and not result.truncated


def test_query_past_the_limit_is_stopped_while_another_is_answered(engine):
    outcome = {}

    def slow():
        started = time.monotonic()
        try:
            engine.run(SLOW)
        except QueryTimeout as error:
            outcome["error"] = error
        outcome["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    assert values(engine.run("SELECT ?o { <http://ex/b> ?p ?o }")) == ["two"]
    assert time.monotonic() - started < 0.5
    thread.join()
    assert isinstance(outcome.get("error"), QueryTimeout)
    assert outcome["error"].http_status == 503
    assert 1.0 <= outcome["elapsed"] < 2.0
    deadline = time.monotonic() + 2  # the stopped worker is replaced in the background
    while len(engine.worker_pids) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(engine.worker_pids) == 2


def test_killed_worker_gives_worker_crashed_and_is_replaced(graphs):
    with graphs.engine(Config(timeout=10, workers=1)) as engine:
        engine.start()
        [victim] = engine.worker_pids
        threading.Timer(0.3, os.kill, (victim, signal.SIGKILL)).start()
        started = time.monotonic()
        with pytest.raises(WorkerCrashed, match="signal 9"):
            engine.run(SLOW)
        assert time.monotonic() - started < 2
        assert engine.worker_pids and engine.worker_pids != [victim]
        assert engine.run("ASK { ?s ?p 'one' }").rows == 1


def test_a_worker_that_died_while_idle_is_replaced_before_use(graphs):
    with graphs.engine(Config(workers=1)) as engine:
        engine.start()
        [victim] = engine.worker_pids
        os.kill(victim, signal.SIGKILL)
        time.sleep(0.2)
        assert engine.run("ASK { ?s ?p 'one' }").rows == 1
        assert engine.worker_pids != [victim]


def test_close_leaves_no_worker_process(graphs):
    engine = graphs.engine(Config(workers=2))
    engine.run("ASK {}")
    pids = engine.worker_pids + engine.fast_lane_pids
    assert len(pids) == 3
    engine.close()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert engine.worker_pids == [] and engine.fast_lane_pids == []


def test_identical_queries_are_served_from_the_cache(engine):
    first = engine.run("SELECT * { ?s ?p 'one' }")
    second = engine.run("SELECT * { ?s ?p 'one' }")
    assert not first.cached and second.cached
    assert second.body == first.body and second.etag == first.etag
    other = engine.run("SELECT * { ?s ?p 'one' }", format=formats.by_name("csv"))
    assert not other.cached and other.etag != first.etag


def test_cache_can_be_disabled(graphs):
    with graphs.engine(Config(cache_bytes=0)) as engine:
        engine.run("ASK {}")
        assert not engine.run("ASK {}").cached


def test_the_cache_is_bounded_in_bytes_not_entries(graphs):
    """Many large distinct results once grew a process by 700 MiB: the budget holds them all."""
    budget = 1_200_000
    query = "SELECT ?s ?o {{ ?s <http://ex/q> ?o FILTER(?o != '{}') }}"  # ~3,000 rows, ~250 KB
    with graphs.engine(Config(cache_bytes=budget, max_rows=5000)) as engine:
        sizes = [len(engine.run(query.format(i)).body) for i in range(6)]
        assert all(budget / 4 < 2 * size < budget / 2 for size in sizes)  # two fit, three do not
        assert engine._cache.used <= budget and len(engine._cache) == 2
        assert engine.run(query.format(5)).cached  # the latest is kept
        assert not engine.run(query.format(0)).cached  # the first was dropped for it


def test_a_result_larger_than_the_whole_cache_is_not_kept(graphs):
    with graphs.engine(Config(cache_bytes=10_000, max_rows=5000)) as engine:
        query = "SELECT ?s ?o { ?s <http://ex/q> ?o }"
        assert not engine.run(query).cached and not engine.run(query).cached
        assert engine._cache.used == 0


def test_gzip_of_a_cached_result_is_computed_once(engine):
    first = engine.run("SELECT * { ?s ?p ?o } LIMIT 40")
    assert engine.run("SELECT * { ?s ?p ?o } LIMIT 40").gzipped is first.gzipped


@pytest.mark.parametrize("name", ["json", "tsv", "nt", "ttl"])
def test_a_cut_spanning_many_serialiser_chunks_keeps_exactly_the_first_rows(stores, tmp_path, name):
    # Literals with newlines and tabs, in results of many 8 KiB chunks: the row limit is
    # counted on lines of TSV / N-Triples, which must escape them to stay one row per line.
    lines = "".join(
        f'<http://ex/s{i:05}> <http://ex/p> "line one\\nline\\ttwo {i} {"x" * 60}" .\n'
        for i in range(6000)
    )
    path = tmp_path / "many.nt"
    path.write_text(lines)
    fmt = formats.by_name(name)
    form = "SELECT ?s ?o" if fmt.kind.value == "solutions" else "CONSTRUCT { ?s <http://ex/p> ?o }"
    query = f"{form} WHERE {{ ?s ?p ?o }} ORDER BY ?s"
    config = Config(timeout=5, max_rows=4321, workers=1)
    with stores.holding([GraphSource(G1, (path,))]).engine(config) as engine:
        result = engine.run(query, format=fmt)
        whole = engine.store.query(query, use_default_graph_as_union=True)
        if fmt.kind.value == "solutions":
            expected = [tuple(s) for s in list(whole)[:4321]]
            got = [tuple(s) for s in ox.parse_query_results(result.body, format=fmt.oxigraph)]
        else:
            expected = sorted(list(whole)[:4321], key=str)
            got = sorted((q.triple for q in ox.parse(result.body, format=fmt.oxigraph)), key=str)
    assert result.truncated and result.rows == 4321
    assert got == expected
    assert ox.Literal(f"line one\nline\ttwo 4320 {'x' * 60}") in tuple(got[-1])


# --- substitutions (a named query's parameters) ------------------------------------------------

BY_SUBJECT = "SELECT ?s ?o { ?s <http://ex/p> ?o }"


def test_substitutions_bind_a_variable_before_evaluation(engine):
    a = engine.run(BY_SUBJECT, substitutions={ox.Variable("s"): ox.NamedNode("http://ex/a")})
    assert values(a) == ["one"]
    assert values(a, "s") == ["http://ex/a"]
    inside = "SELECT ?n ?o { ?s ?p ?o FILTER (STR(?o) = ?n) }"  # the FILTER sees the binding
    assert values(engine.run(inside, substitutions={ox.Variable("n"): ox.Literal("2999")})) == [
        "2999"
    ]


def test_the_cache_tells_bindings_apart(engine):
    a = {ox.Variable("s"): ox.NamedNode("http://ex/a")}
    b = {ox.Variable("s"): ox.NamedNode("http://ex/b")}
    first = engine.run(BY_SUBJECT, substitutions=a)
    other = engine.run(BY_SUBJECT, substitutions=b)
    assert not other.cached and values(other) == ["two"] != values(first)
    again = engine.run(BY_SUBJECT, substitutions=dict(a))
    assert again.cached and values(again) == ["one"]
    unbound = engine.run(BY_SUBJECT)
    assert not unbound.cached and values(unbound) == ["one", "two"]


def test_relative_iris_in_a_query_resolve_against_the_base_iri(engine):
    result = engine.run("SELECT ?x { BIND(<institution/kaia> AS ?x) }")
    assert values(result, "x") == [engine.config.base_iri + "institution/kaia"]
    own = engine.run("BASE <http://ex/> SELECT ?o { <a> ?p ?o }")
    assert values(own) == ["one"]
