"""`smartcity-kg validate` as a user runs it, in process through Click's CliRunner."""

from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner, Result

from smartcity_kg.cli.commands import cli
from smartcity_kg.paths import turtle_files
from smartcity_kg.rdf.files import GraphSource, load_store

INVALID = Path(__file__).parent / "fixtures" / "invalid"
VALID = Path(__file__).parent / "fixtures" / "valid"
DRAFTS = Path(__file__).parent / "fixtures" / "drafts"


def run_validate(*args) -> Result:
    """Run `smartcity-kg validate ARGS...` and capture its output as text."""
    return CliRunner().invoke(cli, ["validate", *map(str, args)])


def test_packaged_graph_conforms_with_exit_status_0():
    completed = run_validate()
    assert completed.exit_code == 0, completed.stdout + completed.stderr
    assert completed.stdout.startswith("Validation conforms:")
    assert completed.stderr == ""


def test_violations_exit_with_status_1_and_one_line_on_stderr():
    completed = run_validate("--with-packaged", INVALID / "task-with-two-institutions.ttl")
    assert completed.exit_code == 1
    assert "https://w3id.org/smartcity-kr/task/kisa/cyber-security" in completed.stdout
    assert "exactly one institution" in completed.stdout
    assert completed.stderr.splitlines() == [
        "smartcity-kg: error: does not conform: 1 SHACL violation(s)"
    ]


def test_warnings_alone_exit_with_status_0():
    completed = run_validate(*turtle_files("data"), VALID / "statement-without-source.ttl")
    assert completed.exit_code == 0, completed.stdout + completed.stderr
    assert "Warning: A statement annotation should cite at least one source" in completed.stdout


def test_syntax_error_exits_with_status_2_naming_file_and_line_in_one_line():
    path = INVALID / "syntax-error.ttl"
    completed = run_validate(path)
    assert completed.exit_code == 2
    assert completed.stdout == ""
    (line,) = completed.stderr.splitlines()
    assert line.startswith(f"smartcity-kg: error: {path}:7: ")


def test_missing_file_exits_with_status_2_naming_it(tmp_path):
    completed = run_validate(tmp_path / "absent.ttl")
    assert completed.exit_code == 2
    (line,) = completed.stderr.splitlines()
    assert line.startswith(f"smartcity-kg: error: {tmp_path / 'absent.ttl'}: cannot read")


def test_malformed_date_keeps_stderr_to_one_line():
    # rdflib logs a traceback for an ill-typed literal; the command must not pass it on.
    completed = run_validate(*turtle_files("data"), INVALID / "malformed-date.ttl")
    assert completed.exit_code == 1
    assert len(completed.stderr.splitlines()) == 1
    assert '"2023-13-45"^^xsd:date' in completed.stdout


def test_turtle_format_prints_the_shacl_report_graph():
    completed = run_validate("--format", "turtle", *turtle_files("data"))
    assert completed.exit_code == 0
    store = ox.Store()
    store.load(completed.stdout.encode(), format=ox.RdfFormat.TURTLE)
    query = (
        "PREFIX sh: <http://www.w3.org/ns/shacl#> "
        "ASK { ?report a sh:ValidationReport ; sh:conforms true }"
    )
    assert bool(store.query(query))


def test_control_characters_a_parser_echoes_are_escaped_on_stderr(tmp_path):
    garbage = tmp_path / "garbage.ttl"
    garbage.write_bytes(b"\x00\x01 not turtle\n")
    result = run_validate(garbage)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "\x00" not in result.stderr
    assert "\\x00" in result.stderr


RELATIVE = """<> <http://www.w3.org/2000/01/rdf-schema#label> "this file" .
<#part> <http://www.w3.org/2000/01/rdf-schema#seeAlso> <other.ttl> .
"""


def test_relative_iris_in_a_file_resolve_against_the_file(tmp_path):
    """`<>` once stopped validate and serve --data: "No scheme found in an absolute IRI"."""
    path = tmp_path / "relative.ttl"
    path.write_text(RELATIVE)
    done = run_validate(str(path))
    assert done.exit_code == 0, done.stderr
    store = load_store([GraphSource("urn:g", (path,))])
    subjects = {q.subject.value for q in store}
    assert subjects == {path.as_uri(), path.as_uri() + "#part"}
    assert tmp_path.joinpath("other.ttl").as_uri() in {q.object.value for q in store}


@pytest.mark.parametrize(
    ("draft", "alone"), [("standardization-notice.ttl", 6), ("new-designation.ttl", 11)]
)
def test_a_draft_conforms_with_the_packaged_graph_it_changes(draft, alone):
    """Alone, a draft's references to the packaged graph look like violations; they are not."""
    checked = run_validate("--with-packaged", DRAFTS / draft)
    assert checked.exit_code == 0, checked.stdout
    assert checked.stdout.startswith("Validation conforms: 0 violation(s)")
    on_its_own = run_validate(DRAFTS / draft)
    assert on_its_own.exit_code == 1
    assert on_its_own.stderr == (
        f"smartcity-kg: error: does not conform: {alone} SHACL violation(s) "
        "(--with-packaged checks a draft)\n"
    )


def test_with_packaged_finds_what_a_draft_breaks():
    result = run_validate("--with-packaged", DRAFTS / "invalid-task-without-mapping.ttl")
    assert result.exit_code == 1
    assert "https://w3id.org/smartcity-kr/task/kaia/unqualified-standardization" in result.stdout
    assert result.stderr == "smartcity-kg: error: does not conform: 3 SHACL violation(s)\n"


def test_with_packaged_and_no_files_is_the_packaged_graph():
    assert run_validate("--with-packaged").exit_code == 0


def test_an_unknown_format_is_a_usage_error_on_one_line():
    result = run_validate("--format", "json")
    assert result.exit_code == 2
    assert result.stderr.startswith("smartcity-kg: error: invalid value for '--format': 'json'")
    assert result.stderr.count("\n") == 1
