"""`smartcity-kg query` and `queries` as users run them, in process through Click's CliRunner.

The console script itself is run in a subprocess by tests/test_cli_commands.py.
"""

import csv
import io
import json
import unicodedata

import pyoxigraph as ox
import pytest
from click.testing import CliRunner, Result

from smartcity_kg.cli.commands import cli
from smartcity_kg.cli.query import Answer, render_table
from smartcity_kg.rdf import formats
from smartcity_kg.rdf.files import load_store
from smartcity_kg.sparql.catalog import load_catalog
from smartcity_kg.terminal import aligned, width

KAIA = "https://w3id.org/smartcity-kr/institution/kaia"


def query(*args: str, env: dict | None = None) -> Result:
    """Run `smartcity-kg query ARGS...`; a table is not fitted to a width unless env says so."""
    return CliRunner().invoke(cli, ["query", *args], env={"COLUMNS": None, **(env or {})})


@pytest.fixture(autouse=True)
def store_under_test(packaged_store, monkeypatch):
    """The command queries the packaged graph in the store kind under test (its --store)."""
    monkeypatch.setenv("SMARTCITY_KG_STORE", packaged_store.spec)


@pytest.fixture(scope="module")
def expected():
    """Run a named query the plain way (in memory), to compare the command's output with."""
    store = load_store()

    def rows(name: str, **params) -> list:
        bound = load_catalog()[name].bind(params)
        return list(
            store.query(
                bound.text, use_default_graph_as_union=True, substitutions=bound.substitutions
            )
        )

    return rows


def csv_rows(output: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(output)))


def test_named_query_prints_an_aligned_table(expected):
    result = query("list-institutions")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["institution", "nameKo", "nameEn", "acronym", "bodyType", "tasks"]
    assert lines[-1] == f"({len(expected('list-institutions'))} rows)"
    starts = [i for i, c in enumerate(lines[1]) if c == "-" and (i == 0 or lines[1][i - 1] == " ")]
    for line in lines[2:-1]:
        cells = display_cells(line)
        for start in starts[1:]:
            assert cells[start - 2 : start] == [" ", " "], line


def display_cells(line: str) -> list[str]:
    """Return a line as terminal cells: a wide (Korean) character fills two."""
    cells = []
    for char in line:
        cells += [char] * (2 if unicodedata.east_asian_width(char) in "WF" else 1)
    return cells


def test_param_is_bound(expected):
    result = query("list-tasks", "--param", f"institution={KAIA}", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    found = csv_rows(result.stdout)
    assert len(found) == len(expected("list-tasks", institution=KAIA)) > 0
    assert {r["institution"] for r in found} == {KAIA}


def test_formats_are_written_raw():
    result = query("list-duties", "--format", "tsv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("?notation\t?duty")
    result = query("list-duties", "--format", "json")
    assert result.stdout.startswith('{"head":{"vars":["notation"')


def test_describe_writes_turtle():
    iri = "https://w3id.org/smartcity-kr/duty/19-4-2-4"
    result = query("describe-resource", "--param", f"iri={iri}", "--format", "ttl")
    assert result.exit_code == 0, result.stderr
    triples = list(ox.parse(result.stdout.encode(), format=ox.RdfFormat.TURTLE))
    assert triples and {t.subject.value for t in triples} == {iri}


def test_sparql_text_runs():
    result = query('SELECT ?x WHERE { BIND ("가나" AS ?x) }')
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["x", "----", "가나", "(1 row)"]


def test_ask_prints_true_or_false():
    assert query("ASK { ?s a ?t }").stdout == "true\n"
    assert query("ASK { <urn:x:none> ?p ?o }").stdout == "false\n"


def test_query_files_run_with_or_without_a_header(tmp_path):
    plain = tmp_path / "plain.rq"
    plain.write_text("SELECT (1 AS ?one) {}\n")
    assert query(str(plain), "--format", "csv").stdout.splitlines() == ["one", "1"]
    named = tmp_path / "echo-it.rq"
    named.write_text('#+ title: Echo\n#+ description: D\n#+ param: s string x "S"\nSELECT ?s {}\n')
    assert query(str(named), "--param", "s=hi", "--format", "csv").stdout.splitlines() == [
        "s",
        "hi",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["list-tasks", "--param", "institution=kaia"], "parameter 'institution'"),
     (["list-tasks", "--param", "nope=1"], "no parameter 'nope'"),
     (["list-tasks", "--param", "institution"], "expected NAME=VALUE"),
     (["list-task"], "no named query 'list-task'"),
     (["nosuch"], "no named query 'nosuch'"),  # a bare word is a name, never SPARQL
     (["List_Tasks"], "no named query 'List_Tasks'"),
     (["nosuch.rq"], "nosuch.rq: no such query file"),
     (["SELECT ?x { ?x }"], "SPARQL syntax error at line 1"),
     (["SELECT * {"], "SPARQL syntax error at line 1"),
     (["SELECT (1 AS ?x) {}", "--param", "a=b"], "--param needs a named query"),
     (["INSERT DATA { <x:a> <x:b> <x:c> }"], "read-only"),
     (["SELECT * { SERVICE <http://example.org/> { ?s ?p ?o } }"], "SERVICE"),
     (["describe-resource", "--format", "csv"], "cannot hold graph results"),
     (["list-duties", "--format", "yaml"], "invalid value for '--format': 'yaml'"),
     (["list-duties", "--nope"], "no such option"),
     ([], "missing argument 'QUERY|FILE|NAME'")],
)  # fmt: skip
def test_user_errors_exit_2_with_one_line(args, message):
    result = query(*args)
    assert result.exit_code == 2, result.exception
    assert message in result.stderr
    assert result.stderr.startswith("smartcity-kg: error: ")
    assert result.stderr.count("\n") == 1
    assert isinstance(result.exception, SystemExit)  # an exit, nothing raised past the command


def test_truncated_result_warns(expected):
    result = query("list-duties", "--format", "csv", env={"SMARTCITY_KG_MAX_ROWS": "2"})
    assert result.exit_code == 0, result.stderr
    assert len(csv_rows(result.stdout)) == 2
    assert "result cut at 2 rows" in result.stderr


def test_limit_and_offset_pick_a_page(expected):
    everything = [r["task"] for r in csv_rows(query("list-tasks", "--format", "csv").stdout)]
    assert len(everything) == len(expected("list-tasks")) > 6
    result = query("list-tasks", "--param", "limit=3", "--param", "offset=2", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert [r["task"] for r in csv_rows(result.stdout)] == everything[2:5]
    assert result.stderr == (
        "smartcity-kg: note: a page of 3 rows; more may follow with --param offset=5\n"
    )


def test_a_bad_limit_exits_2_with_one_line():
    result = query("list-tasks", "--param", "limit=0")
    assert result.exit_code == 2
    assert result.stderr == (
        "smartcity-kg: error: limit must be a whole number from 1 to 10000, got '0'\n"
    )


# --- tables that fit the terminal --------------------------------------------------------------


def test_a_table_fits_80_columns_by_wrapping_its_long_cells(expected):
    result = query("list-institutions", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(width(line) for line in lines) <= 80
    assert lines[0].split() == ["institution", "nameKo", "nameEn", "acronym", "bodyType", "tasks"]
    rows = result.stdout.split("\n\n")  # a wrapped table parts its rows with a blank line
    assert len(rows) == len(expected("list-institutions"))
    first_column = [line.split("  ")[0] for line in rows[1].splitlines()]
    assert "".join(first_column).startswith("https://w3id.org/smartcity-kr/institution/")
    assert lines[-1] == f"({len(rows)} rows)"


def test_without_a_terminal_or_columns_a_table_keeps_whole_lines(expected):
    result = query("list-institutions")  # output to a file: one line per row, however long
    assert len(result.stdout.splitlines()) == len(expected("list-institutions")) + 3


def test_aligned_wraps_only_what_does_not_fit():
    rows = [["name", "text"], ["a", "one two three four five six"], ["b", "short"]]
    assert aligned(rows).splitlines() == [
        "name  text",
        "----  " + "-" * len("one two three four five six"),
        "a     one two three four five six",
        "b     short",
    ]
    fitted = aligned(rows, 20).splitlines()
    assert max(width(line) for line in fitted) <= 20
    assert fitted[2:5] == ["a     one two three", "      four five six", ""]


def test_wide_characters_wrap_by_their_display_width():
    rows = [["k"], ["스마트도시서비스 지원기관 지정"]]
    assert all(width(line) <= 8 for line in aligned(rows, 8).splitlines())


def test_control_characters_in_a_literal_are_escaped_in_a_table():
    literal = {"type": "literal", "value": "a\x1b[2Jb"}  # ESC [2J clears a terminal
    body = json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": [{"x": literal}]}})
    table = render_table(Answer(body.encode(), formats.by_name("json")))
    assert "\x1b" not in table and "a\\x1b[2Jb" in table


# --- the catalogue ------------------------------------------------------------------------------


def test_queries_lists_every_named_query_with_its_summary():
    result = CliRunner().invoke(cli, ["queries"], env={"COLUMNS": None})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["name", "parameters", "summary"]
    catalogue = load_catalog()
    assert [line.split()[0] for line in lines[2:]] == list(catalogue)
    tasks = next(line for line in lines if line.startswith("list-tasks "))
    assert tasks.split("  ")[-1].strip() == catalogue["list-tasks"].title
    assert "institution" in tasks


def test_queries_fits_80_columns():
    result = CliRunner().invoke(cli, ["queries"], env={"COLUMNS": "80"})
    assert max(width(line) for line in result.stdout.splitlines()) <= 80


# --- against a real server ---------------------------------------------------------------------


def test_endpoint_gives_the_same_answer(packaged_sparql_server):
    args = ["list-tasks", "--param", f"institution={KAIA}", "--format", "csv"]
    local = query(*args)
    remote = query(*args, "--endpoint", packaged_sparql_server.endpoint)
    assert remote.exit_code == 0, remote.stderr
    assert remote.stdout == local.stdout != ""


def test_endpoint_table_and_turtle(packaged_sparql_server):
    endpoint = packaged_sparql_server.endpoint
    table = query("list-duties", "--endpoint", endpoint)
    assert table.exit_code == 0, table.stderr
    assert table.stdout.splitlines()[0].split()[:2] == ["notation", "duty"]
    turtle = query("describe-resource", "--format", "ttl", "--endpoint", endpoint)
    assert list(ox.parse(turtle.stdout.encode(), format=ox.RdfFormat.TURTLE))


def test_endpoint_errors_keep_the_server_message(packaged_sparql_server):
    result = query("SELECT ?x { ?x }", "--endpoint", packaged_sparql_server.endpoint)
    assert result.exit_code == 2
    assert "answered 400" in result.stderr and "syntax error" in result.stderr


def test_endpoint_truncation_warns(sparql_server_factory, monkeypatch):
    monkeypatch.setenv("SMARTCITY_KG_MAX_ROWS", "2")
    server = sparql_server_factory()
    result = query("list-duties", "--format", "csv", "--endpoint", server.endpoint)
    assert len(csv_rows(result.stdout)) == 2
    assert "result cut at 2 rows" in result.stderr


def test_endpoint_gets_the_page_and_the_parameters_in_the_text(packaged_sparql_server):
    args = ["tasks-by-duty", "--param", "limit=2", "--param", "offset=1", "--format", "csv"]
    local = query(*args)
    remote = query(*args, "--endpoint", packaged_sparql_server.endpoint)
    assert remote.exit_code == 0, remote.stderr
    assert remote.stdout == local.stdout
    assert len(csv_rows(remote.stdout)) == 2
    assert "--param offset=3" in remote.stderr


def test_unreachable_endpoint_exits_1(loopback_listener):
    port = loopback_listener.port  # accepts, then closes without answering
    result = query("list-duties", "--endpoint", f"http://127.0.0.1:{port}/sparql")
    assert result.exit_code == 1
    assert "cannot reach" in result.stderr or "answered" in result.stderr


def test_endpoint_must_be_http():
    result = query("list-duties", "--endpoint", "file:///etc/passwd")
    assert result.exit_code == 2
    assert "http or https URL" in result.stderr
