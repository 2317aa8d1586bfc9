"""Write coverage tables as a terminal table, CSV, Markdown or a standalone HTML page, and
coverage results as JSON. The terminal table counts Korean characters as two columns wide.

These only format a Coverage (and a CoverageDiff) they are given: loading, validating and
analysing belong to the caller (`coverage.analyse.analyse_with_drafts`), so one analysis can
both be shown and be checked for gaps. The HTML page is a Jinja template in `templates/`.
"""

import csv
import io
import json
from dataclasses import asdict

import jinja2

from smartcity_kg.coverage.diff import CoverageDiff
from smartcity_kg.coverage.model import Coverage
from smartcity_kg.coverage.tables import LANGS, VIEWS, Table, changes_table
from smartcity_kg.coverage.tables import tables as view_tables
from smartcity_kg.coverage.words import text
from smartcity_kg.errors import InputError
from smartcity_kg.terminal import pad, width, wrap

FORMATS = ("table", "csv", "json", "markdown", "html")
WRAP = 44  # display columns a terminal cell wraps at


def check_options(by: str, fmt: str, lang: str) -> None:
    """Refuse an unknown view, format or language before anything is loaded or computed."""
    for value, known, what in (
        (by, VIEWS, "view (--by)"),
        (fmt, FORMATS, "format"),
        (lang, LANGS, "language"),
    ):
        if value not in known:
            raise InputError(f"unknown {what} {value!r}; choose one of: {', '.join(known)}")


def report(
    coverage: Coverage, by: str, fmt: str, lang: str = "en", diff: CoverageDiff | None = None
) -> str:
    """Return one view of `coverage` in `fmt`, led by what the drafts change if `diff` is given."""
    if fmt == "json":
        return to_json(coverage, by, lang, diff)
    found = view_tables(coverage, by, lang)
    return render([changes_table(diff, lang), *found] if diff is not None else found, fmt, lang)


def render(tables: list[Table], fmt: str, lang: str = "en") -> str:
    """Return `tables` written in `fmt` (any of FORMATS but json)."""
    return _WRITERS[fmt](tables, lang)


def to_json(coverage: Coverage, by: str, lang: str, diff: CoverageDiff | None = None) -> str:
    """Return one view of `coverage` (and the changes, if any) as a JSON document."""
    data = {
        "view": by,
        "query": coverage.queries[by],
        "lang": lang,
        "rows": _view_data(coverage, by),
    }
    if diff is not None:
        data["changes"] = asdict(diff)
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _view_data(coverage: Coverage, by: str):
    if by == "city":
        return asdict(coverage.matrix)
    rows = {
        "duty": coverage.duties,
        "institution": coverage.institutions,
        "programme": coverage.programmes,
        "overlap": coverage.overlaps,
    }[by]
    return [asdict(row) for row in rows]


def _terminal(tables: list[Table], lang: str) -> str:
    out = []
    for table in tables:
        wrapped = [[wrap(cell, WRAP) for cell in row] for row in table.rows]
        head = [wrap(c, WRAP) for c in table.columns]
        widths = [
            max(width(line) for cells in [head, *wrapped] for line in cells[n])
            for n in range(len(table.columns))
        ]
        rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        out += [table.title, rule, *_lines(head, widths), rule.replace("-", "=")]
        for cells in wrapped:
            out += _lines(cells, widths)
            out.append(rule)
        out += [*table.notes]
        if table.query:
            out.append(text(lang, "source", query=table.query))
        out.append("")
    return "\n".join(out)


def _lines(cells: list[list[str]], widths: list[int]) -> list[str]:
    height = max(len(c) for c in cells)
    return [
        "| "
        + " | ".join(pad(c[n] if n < len(c) else "", w) for c, w in zip(cells, widths, strict=True))
        + " |"
        for n in range(height)
    ]


def _csv(tables: list[Table], lang: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for n, table in enumerate(tables):
        if n:
            writer.writerow([])
        writer.writerow(["iri", *table.columns])
        for key, row in zip(table.keys, table.rows, strict=True):
            writer.writerow([key, *row])
    return buffer.getvalue()


def _markdown_cell(value: str) -> str:
    return value.replace("|", "\\|")


def _markdown(tables: list[Table], lang: str) -> str:
    out = []
    for table in tables:
        out += [f"## {table.title}", ""]
        out.append("| " + " | ".join(_markdown_cell(c) for c in table.columns) + " |")
        out.append("|" + "|".join(" --- " for _ in table.columns) + "|")
        for row in table.rows:
            out.append("| " + " | ".join(_markdown_cell(c) for c in row) + " |")
        out += ["", *table.notes]
        if table.query:
            out.append(text(lang, "source", query=f"`{table.query}`"))
        out.append("")
    return "\n".join(out)


_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("smartcity_kg.coverage", "templates"),
    autoescape=True,  # labels come from data and drafts: never markup
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,  # a misspelt name fails, not an empty cell
)


def _html(tables: list[Table], lang: str) -> str:
    """A standalone page: no scripts, no outside resources, its small style sheet inline."""
    template = _TEMPLATES.get_template("coverage_report.html")
    return template.render(tables=tables, lang=lang, text=text)


_WRITERS = {"table": _terminal, "csv": _csv, "markdown": _markdown, "html": _html}
