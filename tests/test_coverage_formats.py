"""Rendering the coverage tables: widths of Korean text, CSV, Markdown, HTML and JSON."""

import csv
import io
import json
from pathlib import Path

import pytest

from smartcity_kg.coverage.analyse import analyse, analyse_with_drafts
from smartcity_kg.coverage.render import render, report, to_json
from smartcity_kg.coverage.tables import VIEWS, Table, tables
from smartcity_kg.terminal import width, wrap

DRAFTS = Path(__file__).parent / "fixtures" / "drafts"


@pytest.fixture(scope="module")
def coverage(packaged_graph):
    return analyse(packaged_graph)


def test_korean_characters_take_two_columns():
    assert width("부산") == 4
    assert width("KISA") == 4
    assert all(width(line) <= 10 for line in wrap("스마트도시서비스 관련 정보의 유통", 10))


def test_wrap_cuts_a_word_longer_than_a_line():
    assert wrap("abcdefghij", 4) == ["abcd", "efgh", "ij"]


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_view_renders_in_every_format(coverage, view, lang):
    found = tables(coverage, view, lang)
    for fmt in ("table", "csv", "markdown", "html"):
        assert render(found, fmt, lang).strip()
    assert json.loads(to_json(coverage, view, lang))["view"] == view


def test_terminal_lines_of_a_table_are_equally_wide(coverage):
    text = render(tables(coverage, "city", "ko"), "table", "ko")
    body = [line for line in text.splitlines() if line.startswith(("|", "+"))]
    assert len({width(line) for line in body}) == 1


def test_csv_rows_carry_the_iri_and_the_counts(coverage):
    rows = list(csv.reader(io.StringIO(render(tables(coverage, "duty"), "csv"))))
    header, *body = rows
    assert header[0] == "iri" and len(body) == 9
    gaps = [r[1] for r in body if r[3] == "GAP"]
    assert gaps == ["4", "8"]


def test_html_marks_gap_rows_and_escapes(coverage):
    html = render(tables(coverage, "duty"), "html")
    assert html.count('<tr class="gap">') == 2
    assert "<script" not in html and "http" not in html.split("<body>")[0]


def test_html_escapes_labels_from_the_data():
    table = Table("duty", "<b>&", ("<i>",), (("<script>x</script>",),), ("urn:x",), "q<")
    html = render([table], "html")
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "<title>&lt;b&gt;&amp;</title>" in html
    assert "<td>&lt;script&gt;x&lt;/script&gt;</td>" in html
    assert html.endswith("</body></html>\n") and not html.endswith("\n\n")


def test_report_leads_with_the_changes_of_a_draft():
    found, diff = analyse_with_drafts([DRAFTS / "standardization-notice.ttl"])
    text = report(found, "duty", "markdown", "en", diff)
    assert text.startswith("## What the draft changes")
    assert json.loads(report(found, "duty", "json", "en", diff))["changes"]["gaps_closed"]
