"""`smartcity-kg coverage` as a user runs it, in process through Click's CliRunner."""

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from smartcity_kg.cli.commands import cli
from smartcity_kg.coverage import analyse as analyse_module

DRAFTS = Path(__file__).parent / "fixtures" / "drafts"
STANDARDIZATION = DRAFTS / "standardization-notice.ttl"  # closes the gap of duty 4
NEW_DESIGNATION = DRAFTS / "new-designation.ttl"  # closes the gap of duty 8
BASE = "https://w3id.org/smartcity-kr/"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["coverage", *map(str, args)])


def test_default_is_a_terminal_table_of_the_duties_with_the_gaps_marked():
    result = run()
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Coverage of the duties of Article 19-4(2)"
    gap_rows = [line for line in lines if "| GAP " in line]
    assert [row.split("|")[1].strip() for row in gap_rows] == ["4", "8"]
    assert "Source: named query coverage-by-duty" in result.stdout
    assert result.stderr == ""


def test_city_view_as_csv_in_korean():
    result = run("--by", "city", "--format", "csv", "--lang", "ko")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    energy = next(r for r in rows if r["iri"] == BASE + "sector/energy")
    assert (energy["세종특별자치시"], energy["부산광역시"]) == ("LH", "K-water")
    assert len(rows) == 8


def test_json_view_of_overlaps_names_its_query():
    result = run("--by", "overlap", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["query"] == "coverage-overlaps"
    kinds = {row["kind"] for row in data["rows"]}
    assert kinds == {"duty", "programme"}


@pytest.mark.parametrize("fmt, marker", [("markdown", "| --- |"), ("html", '<tr class="gap">')])
def test_markdown_and_html(fmt, marker):
    result = run("--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert marker in result.stdout


def test_with_a_draft_shows_the_gap_it_closes():
    result = run("--with", STANDARDIZATION)
    assert result.exit_code == 0, result.stderr
    changes = result.stdout.split("\n\n")[0]
    assert changes.startswith("What the draft changes")
    assert "gap closed" in changes and "4. Support for the standardization" in changes
    assert "gap opened" not in changes


def test_with_a_draft_as_json_lists_gaps_opened():
    result = run("--by", "city", "--format", "json", "--with", str(DRAFTS / "koti-busan-only.ttl"))
    assert result.exit_code == 0, result.stderr
    opened = json.loads(result.stdout)["changes"]["gaps_opened"]
    assert [(g["subject"]["iri"], g["city"]["iri"]) for g in opened] == [
        (BASE + "sector/transportation", BASE + "city/sejong")
    ]


def test_with_an_invalid_draft_exits_1_with_the_report_and_computes_nothing():
    result = run("--with", str(DRAFTS / "invalid-task-without-mapping.ttl"))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "does not conform" in result.stderr
    assert "Violation:" in result.stderr
    assert BASE + "task/kaia/unqualified-standardization" in result.stderr
    assert isinstance(result.exception, SystemExit)  # an exit, nothing raised past the command


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--by", "sector"], "unknown view (--by) 'sector'"),
        (["--format", "xml"], "unknown format 'xml'"),
        (["--lang", "fr"], "unknown language 'fr'"),
        (["--with", "/nonexistent/draft.ttl"], "/nonexistent/draft.ttl"),
        (["--with"], "option '--with' requires an argument"),
        (["--fail-on-gap=yes"], "'--fail-on-gap' does not take a value"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, needle):
    result = run(*args)
    assert result.exit_code == 2, result.exception
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert needle in result.stderr


def test_a_draft_with_a_syntax_error_names_file_and_line(tmp_path):
    draft = tmp_path / "draft.ttl"
    draft.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b .\n", encoding="utf-8")
    result = run("--with", str(draft))
    assert result.exit_code == 2
    assert f"{draft}:2" in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [
        ["--with", STANDARDIZATION, NEW_DESIGNATION],  # what a new user typed
        ["--with", STANDARDIZATION, "--with", NEW_DESIGNATION],
        [STANDARDIZATION, NEW_DESIGNATION],
    ],
)
def test_with_takes_several_drafts_and_together_they_close_both_gaps(args):
    result = run(*args, "--format", "json", "--fail-on-gap")
    assert result.exit_code == 0, result.stderr
    closed = json.loads(result.stdout)["changes"]["gaps_closed"]
    assert sorted(gap["subject"]["iri"] for gap in closed) == [
        BASE + "duty/19-4-2-4",
        BASE + "duty/19-4-2-8",
    ]


def test_fail_on_gap_exits_1_naming_the_duties_after_the_report():
    result = run("--fail-on-gap")
    assert result.exit_code == 1
    assert result.stdout.startswith("Coverage of the duties of Article 19-4(2)")
    assert result.stderr == (
        "smartcity-kg: error: --fail-on-gap: no task serves 2 duties: "
        "4. Support for the standardization of smart cities; "
        "8. Survey and analysis of the use of smart city services\n"
    )


def test_fail_on_gap_counts_the_gaps_left_with_the_drafts():
    result = run("--fail-on-gap", "--with", STANDARDIZATION)
    assert result.exit_code == 1
    assert "no task serves 1 duty: 8. Survey" in result.stderr


def test_without_fail_on_gap_a_gap_is_no_failure():
    assert run("--format", "csv").exit_code == 0


@pytest.fixture
def counted(monkeypatch):
    """Count the analyses and the draft loads (each validates) a command makes."""
    calls = {"analyse": 0, "load_drafts": 0}

    def counting(name):
        real = getattr(analyse_module, name)

        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(analyse_module, name, wrapper)

    counting("analyse")
    counting("load_drafts")
    return calls


def test_fail_on_gap_with_a_draft_analyses_each_graph_once(counted):
    result = run("--with", STANDARDIZATION, "--fail-on-gap")
    assert result.exit_code == 1
    assert "no task serves 1 duty: 8. Survey" in result.stderr
    assert counted == {"analyse": 2, "load_drafts": 1}  # with the draft, without it


def test_fail_on_gap_without_drafts_analyses_once(counted):
    assert run("--fail-on-gap").exit_code == 1
    assert counted == {"analyse": 1, "load_drafts": 0}


def test_a_bad_option_is_refused_before_any_analysis(counted):
    assert run("--format", "xml", "--with", STANDARDIZATION).exit_code == 2
    assert counted == {"analyse": 0, "load_drafts": 0}
