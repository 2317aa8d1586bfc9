"""The named-query catalogue (smartcity_kg.catalog): headers, checks at load time, binding."""

import textwrap

import pyoxigraph as ox
import pytest

from smartcity_kg.catalog import (
    QueryFileError,
    dataset_prefixes,
    load_catalog,
    read_query_file,
    values_clause,
)
from smartcity_kg.errors import InputError, NotFound
from smartcity_kg.graph import load_store
from smartcity_kg.paths import package_dir

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
def store():
    return load_store()


def write(tmp_path, text, name="sample-query"):
    path = tmp_path / f"{name}.rq"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def run(store, text):
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
    ("own VALUES", '#+ title: T\n#+ description: D\n#+ param: s iri - "S"\n'
     "SELECT ?s { ?s ?p ?o } VALUES ?s { <x:a> }\n", None, "as a VALUES clause"),
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


def test_values_clause_lists_every_bound_variable():
    text = values_clause("ASK {}", {"a": ox.NamedNode("http://x/a"), "b": ox.Literal('q"')})
    assert text == 'ASK {}\nVALUES (?a ?b) { (<http://x/a> "q\\"") }\n'
    assert values_clause("ASK {}", {}) == "ASK {}"


def test_dataset_prefixes_come_from_the_turtle_files():
    prefixes = dataset_prefixes()
    assert prefixes["skg"] == "https://w3id.org/smartcity-kr/def#"
    assert prefixes["eli"] == "http://data.europa.eu/eli/ontology#"
