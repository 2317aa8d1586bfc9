"""`smartcity-kg coverage` as a user runs it: the installed console script in a subprocess."""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "smartcity-kg"
DRAFTS = Path(__file__).parent / "fixtures" / "drafts"
BASE = "https://w3id.org/smartcity-kr/"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPT), "coverage", *args], capture_output=True, text=True, timeout=300
    )


def test_default_is_a_terminal_table_of_the_duties_with_the_gaps_marked():
    result = run()
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Coverage of the duties of Article 19-4(2)"
    gap_rows = [line for line in lines if "| GAP " in line]
    assert [row.split("|")[1].strip() for row in gap_rows] == ["4", "8"]
    assert "Source: named query coverage-by-duty" in result.stdout
    assert result.stderr == ""


def test_city_view_as_csv_in_korean():
    result = run("--by", "city", "--format", "csv", "--lang", "ko")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    energy = next(r for r in rows if r["iri"] == BASE + "sector/energy")
    assert (energy["세종특별자치시"], energy["부산광역시"]) == ("LH", "K-water")
    assert len(rows) == 8


def test_json_view_of_overlaps_names_its_query():
    result = run("--by", "overlap", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["query"] == "coverage-overlaps"
    kinds = {row["kind"] for row in data["rows"]}
    assert kinds == {"duty", "programme"}


@pytest.mark.parametrize("fmt, marker", [("markdown", "| --- |"), ("html", '<tr class="gap">')])
def test_markdown_and_html(fmt, marker):
    result = run("--format", fmt)
    assert result.returncode == 0, result.stderr
    assert marker in result.stdout


def test_with_a_draft_shows_the_gap_it_closes():
    result = run("--with", str(DRAFTS / "standardization-notice.ttl"))
    assert result.returncode == 0, result.stderr
    changes = result.stdout.split("\n\n")[0]
    assert changes.startswith("What the draft changes")
    assert "gap closed" in changes and "4. Support for the standardization" in changes
    assert "gap opened" not in changes


def test_with_a_draft_as_json_lists_gaps_opened():
    result = run("--by", "city", "--format", "json", "--with", str(DRAFTS / "koti-busan-only.ttl"))
    assert result.returncode == 0, result.stderr
    opened = json.loads(result.stdout)["changes"]["gaps_opened"]
    assert [(g["subject"]["iri"], g["city"]["iri"]) for g in opened] == [
        (BASE + "sector/transportation", BASE + "city/sejong")
    ]


def test_with_an_invalid_draft_exits_1_with_the_report_and_computes_nothing():
    result = run("--with", str(DRAFTS / "invalid-task-without-mapping.ttl"))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "does not conform" in result.stderr
    assert "Violation:" in result.stderr
    assert BASE + "task/kaia/unqualified-standardization" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--by", "sector"], "unknown view (--by) 'sector'"),
        (["--format", "xml"], "unknown format 'xml'"),
        (["--lang", "fr"], "unknown language 'fr'"),
        (["--with", "/nonexistent/draft.ttl"], "/nonexistent/draft.ttl"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, needle):
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert needle in result.stderr


def test_a_draft_with_a_syntax_error_names_file_and_line(tmp_path):
    draft = tmp_path / "draft.ttl"
    draft.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b .\n", encoding="utf-8")
    result = run("--with", str(draft))
    assert result.returncode == 2
    assert f"{draft}:2" in result.stderr
    assert len(result.stderr.splitlines()) == 1
