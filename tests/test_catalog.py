"""The named-query catalogue (smartcity_kg.sparql.catalog): headers, checks at load time, binding,
paging."""

import textwrap

import pyoxigraph as ox
import pytest

from smartcity_kg.errors import InputError, NotFound
from smartcity_kg.paths import package_dir
from smartcity_kg.sparql.catalog import (
    BoundQuery,
    QueryFileError,
    dataset_prefixes,
    load_catalog,
    read_query_file,
)

XSD = "http://www.w3.org/2001/XMLSchema#"
SHIPPED = sorted(p.stem for p in package_dir("queries").glob("*.rq"))
GOOD = """\
#+ title: Tasks of an institution
#+ description: The tasks of one institution,
#+ description: in order.
#+ param: institution iri https://w3id.org/smartcity-kr/institution/kaia "The 'institution'"
#+ param: bullet integer - "Only this bullet"
PREFIX skg: <https://w3id.org/smartcity-kr/def#>
# an ordinary comment may follow the header
SELECT ?institution ?bullet ?task WHERE {
  ?task skg:assignedTo ?institution ; skg:bulletNumber ?bullet .
}
"""


@pytest.fixture(scope="module")
def store(packaged_graph):
    """The packaged graph in the store kind under test (conftest's SMARTCITY_KG_TEST_STORE)."""
    return packaged_graph


def write(tmp_path, text, name="sample-query"):
    path = tmp_path / f"{name}.rq"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def run(store, bound: BoundQuery):
    """Run a bound query as the engine's workers do: its text, with its substitutions."""
    result = store.query(
        bound.text, use_default_graph_as_union=True, substitutions=bound.substitutions
    )
    return bool(result) if isinstance(result, ox.QueryBoolean) else list(result)


def run_text(store, text: str):
    """Run a text alone, as an endpoint gets it (BoundQuery.as_text)."""
    result = store.query(text, use_default_graph_as_union=True)
    return bool(result) if isinstance(result, ox.QueryBoolean) else list(result)


# --- the shipped catalogue ------------------------------------------------------------------


def test_shipped_catalogue_has_the_researchers_queries():
    names = set(load_catalog())
    assert {"list-institutions", "list-tasks", "list-duties", "describe-resource",
            "tasks-by-duty", "tasks-by-city", "list-designations", "show-provision-text",
            "list-unverified-claims"} <= names  # fmt: skip


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_query_returns_rows_with_its_defaults(store, name):
    rows = run(store, load_catalog()[name].bind())
    assert rows, f"{name} returned nothing on the shipped data"


def test_optional_parameter_narrows_the_result(store):
    tasks = load_catalog()["list-tasks"]
    everything = run(store, tasks.bind())
    kaia = run(store, tasks.bind({"institution": "https://w3id.org/smartcity-kr/institution/kaia"}))
    assert 0 < len(kaia) < len(everything)
    assert {r["institution"].value for r in kaia} == {
        "https://w3id.org/smartcity-kr/institution/kaia"
    }


def test_lang_parameter_keeps_one_language(store):
    rows = run(store, load_catalog()["show-provision-text"].bind({"lang": "KO"}))
    assert rows and {r["text"].language for r in rows} == {"ko"}


def test_describe_resource_describes_the_given_iri(store):
    iri = "https://w3id.org/smartcity-kr/duty/19-4-2-4"
    triples = run(store, load_catalog()["describe-resource"].bind({"iri": iri}))
    assert triples and {t.subject.value for t in triples} == {iri}


# --- the header ------------------------------------------------------------------------------


def test_header_fields_are_read(tmp_path):
    query = read_query_file(write(tmp_path, GOOD))
    assert query.name == "sample-query"
    assert query.title == "Tasks of an institution"
    assert query.description == "The tasks of one institution, in order."
    assert [(p.name, p.type, p.default, p.description) for p in query.params] == [
        ("institution", "iri", "https://w3id.org/smartcity-kr/institution/kaia",
         "The 'institution'"),
        ("bullet", "integer", None, "Only this bullet"),
    ]  # fmt: skip
    assert query.form.value == "SELECT"
    assert query.to_json()["params"][1] == {
        "name": "bullet", "type": "integer", "default": None, "description": "Only this bullet"
    }  # fmt: skip


MALFORMED = [
    ("no header", "PREFIX x: <http://x/>\nASK {}\n", 1, "starts with its header"),
    ("unknown key", "#+ title: T\n#+ description: D\n#+ summary: S\nASK {}\n", 3,
     "unknown header key 'summary'"),
    ("no title", "#+ description: D\nASK {}\n", 1, "exactly one '#+ title:'"),
    ("two titles", "#+ title: A\n#+ title: B\n#+ description: D\nASK {}\n", 2,
     "exactly one '#+ title:'"),
    ("no description", "#+ title: T\nASK {}\n", 1, "'#+ description:'"),
    ("empty value", "#+ title:\n#+ description: D\nASK {}\n", 1, "has no value"),
    ("not key: value", "#+ title T\n#+ description: D\nASK {}\n", 1, "malformed header line"),
    ("header after query", "#+ title: T\n#+ description: D\nASK {}\n#+ title: U\n", 4,
     "must all come first"),
    ("param fields", "#+ title: T\n#+ description: D\n#+ param: x iri\nASK { ?x ?p ?o }\n", 3,
     "NAME TYPE DEFAULT"),
    ("param quote", '#+ title: T\n#+ description: D\n#+ param: x iri - "open\nASK { ?x ?p ?o }\n',
     3, "malformed param"),
    ("param type", '#+ title: T\n#+ description: D\n#+ param: x url - "X"\nASK { ?x ?p ?o }\n',
     3, "unknown param type 'url'"),
    ("param name", '#+ title: T\n#+ description: D\n#+ param: x-y iri - "X"\nASK { ?x ?p ?o }\n',
     3, "cannot name a parameter"),
    ("reserved name", '#+ title: T\n#+ description: D\n#+ param: format string - "F"\n'
     "SELECT ?format {}\n", 3, "cannot name a parameter"),
    ("bad default", '#+ title: T\n#+ description: D\n#+ param: n integer ten "N"\n'
     "SELECT ?n {}\n", 3, "bad default"),
    ("twice", '#+ title: T\n#+ description: D\n#+ param: x iri - "X"\n#+ param: x iri - "X"\n'
     "ASK { ?x ?p ?o }\n", 4, "declared twice"),
    ("unused variable", '#+ title: T\n#+ description: D\n#+ param: x iri - "X"\n'
     "ASK { ?s ?p ?o } # ?x only in a comment\n", 3, "has no variable ?x"),
    ("not projected", '#+ title: T\n#+ description: D\n#+ param: x iri - "X"\n'
     "SELECT ?s { ?s ?p ?x }\n", 3, "must project ?x"),
    ("syntax", "#+ title: T\n#+ description: D\nSELEC ?s WHERE { ?s ?p ?o }\n", 3,
     "SPARQL syntax error"),
    ("update", "#+ title: T\n#+ description: D\nINSERT DATA { <x:a> <x:b> <x:c> }\n", None,
     "not an update"),
    ("service", "#+ title: T\n#+ description: D\nSELECT * { SERVICE <http://x/> { ?s ?p ?o } }\n",
     None, "must not use SERVICE"),
    ("reserved limit", '#+ title: T\n#+ description: D\n#+ param: limit integer - "L"\n'
     "SELECT ?limit {}\n", 3, "cannot name a parameter"),
    ("no group", '#+ title: T\n#+ description: D\n#+ param: x iri - "X"\nDESCRIBE ?x\n', 3,
     "needs a WHERE group"),
    ("page twice", "#+ title: T\n#+ description: D\n#+ page: 10\n#+ page: 20\n"
     "SELECT ?s { ?s ?p ?o } ORDER BY ?s\n", 4, "at most one '#+ page:'"),
    ("page size", "#+ title: T\n#+ description: D\n#+ page: ten\nSELECT ?s { ?s ?p ?o }\n", 3,
     "a page size is a whole number of rows"),
    ("page zero", "#+ title: T\n#+ description: D\n#+ page: 0\nSELECT ?s { ?s ?p ?o }\n", 3,
     "a page size is a whole number of rows"),
    ("paged ASK", "#+ title: T\n#+ description: D\n#+ page: 10\nASK { ?s ?p ?o }\n", 3,
     "only a SELECT query can be paged"),
    ("paged own LIMIT", "#+ title: T\n#+ description: D\n#+ page: 10\nSELECT ?s { ?s ?p ?o }\n"
     "ORDER BY ?s\nlimit 5\n", 6, "must not have its own LIMIT"),
    ("paged own OFFSET", "#+ title: T\n#+ description: D\n#+ page: 10\nSELECT ?s { ?s ?p ?o }\n"
     "ORDER BY ?s OFFSET 5\n", 5, "must not have its own OFFSET"),
    ("paged unordered", "#+ title: T\n#+ description: D\n#+ page: 10\n"
     "SELECT ?s { { SELECT ?s { ?s ?p ?o } ORDER BY ?s } }\n", 3, "needs an ORDER BY"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "line", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_file_is_an_error_naming_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(QueryFileError) as raised:
        read_query_file(path)
    assert str(path) in raised.value.message
    assert message in raised.value.message
    assert raised.value.line == line
    if line:
        assert f"{path}:{line}:" in raised.value.message


def test_file_name_must_be_kebab_case(tmp_path):
    path = write(tmp_path, GOOD, name="Sample_Query")
    with pytest.raises(QueryFileError, match="kebab-case") as raised:
        read_query_file(path)
    assert str(path) in raised.value.message


def test_load_catalog_names_the_broken_file_and_skips_checks(tmp_path):
    write(tmp_path, GOOD, name="good-one")
    (tmp_path / "checks").mkdir()
    write(tmp_path / "checks", "no header at all", name="some-violation")
    assert list(load_catalog(tmp_path)) == ["good-one"]
    broken = write(tmp_path, "#+ title: T\nASK {}\n", name="broken-one")
    with pytest.raises(QueryFileError, match=r"broken-one\.rq"):
        load_catalog(tmp_path)
    assert broken.exists()


def test_unknown_name_lists_the_catalogue(tmp_path):
    write(tmp_path, GOOD, name="good-one")
    with pytest.raises(NotFound, match="good-one"):
        load_catalog(tmp_path).get_query("missing")


# --- binding -----------------------------------------------------------------------------------

TYPED = """\
#+ title: Echo
#+ description: Returns its parameters.
#+ param: i iri http://example.org/a "I"
#+ param: s string - "S"
#+ param: n integer - "N"
#+ param: d date - "D"
#+ param: b boolean - "B"
#+ param: l lang - "L"
SELECT ?i ?s ?n ?d ?b ?l {}
"""


@pytest.fixture
def echo(tmp_path):
    return read_query_file(write(tmp_path, TYPED, name="echo"))


def test_values_become_typed_terms(echo):
    values = {"s": "plain", "n": "+007", "d": "2023-01-31", "b": "1", "l": "ko-KR"}
    [row] = run(ox.Store(), echo.bind(values))
    assert row["i"] == ox.NamedNode("http://example.org/a")
    assert row["s"] == ox.Literal("plain")
    assert row["n"] == ox.Literal("7", datatype=ox.NamedNode(XSD + "integer"))
    assert row["d"] == ox.Literal("2023-01-31", datatype=ox.NamedNode(XSD + "date"))
    assert row["b"] == ox.Literal("true", datatype=ox.NamedNode(XSD + "boolean"))
    assert row["l"] == ox.Literal("ko-kr")


def test_text_is_never_pasted_into_the_query(echo):
    hostile = '" } } ; DROP ALL ; SELECT * { ?x ?y ?z } #\n<x:y> \\u0022'
    [row] = run(ox.Store(), echo.bind({"s": hostile}))
    assert row["s"] == ox.Literal(hostile)


def test_unset_and_empty_values_leave_the_variable_unbound(echo):
    [row] = run(ox.Store(), echo.bind({"s": ""}))
    assert row["s"] is None and row["n"] is None
    assert row["i"] == ox.NamedNode("http://example.org/a")  # the default


@pytest.mark.parametrize(
    ("name", "value"),
    [("i", "not an iri"), ("i", "relative/path"), ("i", "http://x/a>b"), ("n", "1.5"),
     ("n", "ten"), ("d", "2023-02-30"), ("d", "31.01.2023"), ("b", "yes"), ("l", "k o")],
)  # fmt: skip
def test_invalid_value_is_an_input_error_naming_the_parameter(echo, name, value):
    with pytest.raises(InputError, match=f"parameter '{name}' of query 'echo'"):
        echo.bind({name: value})


def test_unknown_parameter_is_refused(echo):
    with pytest.raises(InputError, match="no parameter 'x'; its parameters: b, d, i, l, n, s"):
        echo.bind({"x": "1"})


def test_as_text_binds_in_a_values_block_opening_the_group():
    terms = (("a", ox.NamedNode("http://x/a")), ("b", ox.Literal('q"')))
    text = BoundQuery("q", "SELECT ?a ?b { ?a ?p ?b } LIMIT 5", terms).as_text()
    assert text == 'SELECT ?a ?b { VALUES (?a ?b) { (<http://x/a> "q\\"") }  ?a ?p ?b } LIMIT 5'
    assert BoundQuery("q", "ASK {}").as_text() == "ASK {}"


def test_as_text_answers_as_the_substitutions_do(store, echo):
    for query, values in [(echo, {"s": "x", "n": "3"}), (load_catalog()["list-tasks"], {}),
                          (load_catalog()["show-provision-text"], {"lang": "en"}),
                          (load_catalog()["tasks-by-city"], {})]:  # fmt: skip
        bound = query.bind(values)
        assert run_text(store, bound.as_text()) == run(store, bound)


@pytest.mark.parametrize("city", ["busan", "sejong"])
def test_as_text_reaches_subqueries_as_the_substitutions_do(store, city):
    # coverage-overlaps counts institutions in a subquery: a VALUES block in the outer group
    # alone left that count over every city (34 rows for Busan instead of 32).
    bound = load_catalog()["coverage-overlaps"].bind(
        {"city": f"https://w3id.org/smartcity-kr/city/{city}", "limit": "1000"}
    )
    assert bound.as_text().count("VALUES (?city)") == 2
    expected = run(store, bound)
    assert run_text(store, bound.as_text()) == expected
    overall = run(store, load_catalog()["coverage-overlaps"].bind({"limit": "1000"}))
    assert 0 < len(expected) < len(overall)


# --- substitutions -----------------------------------------------------------------------------

FILTERED = """\
#+ title: Tasks with a bullet number
#+ description: The tasks numbered n.
#+ param: n integer 1 "The bullet number"
PREFIX skg: <https://w3id.org/smartcity-kr/def#>
SELECT ?task ?n WHERE { ?task skg:bulletNumber ?bullet . FILTER (?bullet = ?n) }
"""

CONSTRUCTED = """\
#+ title: Labels of one type
#+ description: The labels of the resources of one type.
#+ param: type iri https://w3id.org/smartcity-kr/def#StatutoryDuty "The type"
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
CONSTRUCT { ?s skos:prefLabel ?label } WHERE { ?s a ?type ; skos:prefLabel ?label }
"""


def test_a_parameter_is_bound_before_evaluation(store, tmp_path):
    """A FILTER sees the parameter: the binding narrows the pattern (a VALUES clause joined
    after the pattern would leave ?n unbound in the FILTER, and no row)."""
    query = read_query_file(write(tmp_path, FILTERED, name="numbered"))
    rows = run(store, query.bind({"n": "2"}))
    numbered = run_text(store, "PREFIX skg: <https://w3id.org/smartcity-kr/def#> "
                        "SELECT ?task { ?task skg:bulletNumber 2 }")  # fmt: skip
    assert rows and {r["task"] for r in rows} == {r["task"] for r in numbered}
    assert {r["n"].value for r in rows} == {"2"}
    assert run_text(store, query.bind({"n": "2"}).as_text()) == rows


def test_a_parameter_need_not_be_in_a_construct_template(store, tmp_path):
    query = read_query_file(write(tmp_path, CONSTRUCTED, name="labels-of-type"))
    triples = run(store, query.bind())
    assert len({t.subject for t in triples}) == 9  # the nine duties, and nothing else
    assert sorted(run_text(store, query.bind().as_text()), key=str) == sorted(triples, key=str)


# --- paging ------------------------------------------------------------------------------------

PAGED = """\
#+ title: Tasks in order
#+ description: Every task.
#+ page: 5
PREFIX skg: <https://w3id.org/smartcity-kr/def#>
SELECT ?task WHERE {
  ?task a skg:AssignedTask .
  { SELECT ?any WHERE { ?any a skg:AssignedTask } LIMIT 1 }  # a subquery may have a LIMIT
}
ORDER BY ?task
"""


@pytest.fixture
def paged(tmp_path):
    return read_query_file(write(tmp_path, PAGED, name="tasks-in-order"))


def tasks(store, bound: BoundQuery) -> list[str]:
    return [r["task"].value for r in run(store, bound)]


def test_a_paged_query_gives_its_first_page_by_default(store, paged):
    everything = tasks(store, paged.bind({"limit": "1000"}))
    assert len(everything) > 10
    bound = paged.bind()
    assert (bound.limit, bound.offset) == (5, 0)
    assert bound.text.endswith("ORDER BY ?task\nLIMIT 5\n")
    assert tasks(store, bound) == everything[:5]
    assert paged.to_json()["page"] == 5


def test_limit_and_offset_pick_a_page(store, paged):
    everything = tasks(store, paged.bind({"limit": "1000"}))
    assert tasks(store, paged.bind({"limit": "3", "offset": "4"})) == everything[4:7]
    assert tasks(store, paged.bind({"offset": "5"})) == everything[5:10]
    assert tasks(store, paged.bind({"offset": str(len(everything))})) == []
    assert paged.bind({"limit": "", "offset": ""}).limit == 5  # empty: not given


def test_the_default_page_may_exceed_the_row_limit_a_given_one_not(paged):
    assert paged.bind(max_rows=3).limit == 5  # the engine cuts it at 3, and says so
    with pytest.raises(InputError, match="limit must be a whole number from 1 to 3, got '4'"):
        paged.bind({"limit": "4"}, max_rows=3)


@pytest.mark.parametrize(
    ("values", "message"),
    [({"limit": "0"}, "limit must be a whole number from 1 to 50, got '0'"),
     ({"limit": "51"}, "limit must be a whole number from 1 to 50, got '51'"),
     ({"limit": "ten"}, "limit must be a whole number from 1 to 50"),
     ({"limit": "-1"}, "limit must be a whole number"),
     ({"offset": "-1"}, "offset must be a whole number from 0 to"),
     ({"offset": "1.5"}, "offset must be a whole number from 0 to"),
     ({"offset": "9" * 30}, "offset must be a whole number from 0 to")],
)  # fmt: skip
def test_a_bad_page_is_an_input_error_saying_what_is_wrong(paged, values, message):
    with pytest.raises(InputError, match=message):
        paged.bind(values, max_rows=50)


def test_a_query_that_is_not_paged_takes_no_limit(echo):
    with pytest.raises(InputError, match="query 'echo' is not paged: it takes no limit or offset"):
        echo.bind({"limit": "5"})
    assert echo.bind().limit is None and "LIMIT" not in echo.bind().text


def test_every_shipped_paged_query_is_ordered_and_a_select():
    for query in load_catalog().values():
        if query.page:
            assert query.form.value == "SELECT" and "ORDER BY" in query.text, query.name


def test_dataset_prefixes_come_from_the_turtle_files():
    prefixes = dataset_prefixes()
    assert prefixes["skg"] == "https://w3id.org/smartcity-kr/def#"
    assert prefixes["eli"] == "http://data.europa.eu/eli/ontology#"
