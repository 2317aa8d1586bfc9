"""Write coverage tables as a terminal table, CSV, Markdown or a standalone HTML page, and
coverage results as JSON. The terminal table counts Korean characters as two columns wide.
"""

import csv
import io
import json
from dataclasses import asdict
from html import escape

from smartcity_kg.coverage.diff import CoverageDiff
from smartcity_kg.coverage.model import Coverage
from smartcity_kg.coverage.tables import Table
from smartcity_kg.coverage.words import text
from smartcity_kg.errors import InputError
from smartcity_kg.terminal import pad, width, wrap

FORMATS = ("table", "csv", "json", "markdown", "html")
WRAP = 44  # display columns a terminal cell wraps at


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


_HTML_STYLE = (
    "body{font-family:sans-serif;margin:2rem}table{border-collapse:collapse;margin:1rem 0}"
    "th,td{border:1px solid #999;padding:.3rem .5rem;vertical-align:top;text-align:left}"
    "tr.gap td{background:#fde2e2;font-weight:bold}"
)


def _html(tables: list[Table], lang: str) -> str:
    """A standalone page: no scripts, no outside resources, its small style sheet inline."""
    out = [
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{escape(tables[0].title)}</title><style>{_HTML_STYLE}</style></head><body>",
    ]
    for table in tables:
        out.append(f"<h2>{escape(table.title)}</h2><table><thead><tr>")
        out += [f"<th>{escape(c)}</th>" for c in table.columns]
        out.append("</tr></thead><tbody>")
        for n, row in enumerate(table.rows):
            out.append('<tr class="gap">' if n in table.gap_rows else "<tr>")
            out += [f"<td>{escape(c)}</td>" for c in row]
            out.append("</tr>")
        out.append("</tbody></table>")
        out += [f"<p>{escape(note)}</p>" for note in table.notes]
        if table.query:
            out.append(f"<p>{escape(text(lang, 'source', query=table.query))}</p>")
    out.append("</body></html>\n")
    return "\n".join(out)


_WRITERS = {"table": _terminal, "csv": _csv, "markdown": _markdown, "html": _html}


def write_report(by: str = "duty", fmt: str = "table", lang: str = "en", drafts=()) -> str:
    """Return one view of the packaged graph's coverage in `fmt`; with drafts, what they change.

    The drafts are loaded and validated before anything is computed (see coverage.load_drafts).
    """
    from smartcity_kg.coverage.analyse import analyse, load_drafts
    from smartcity_kg.coverage.diff import compare
    from smartcity_kg.coverage.tables import LANGS, VIEWS, changes_table, tables
    from smartcity_kg.rdf.files import load_store

    for value, known, what in (
        (by, VIEWS, "view (--by)"),
        (fmt, FORMATS, "format"),
        (lang, LANGS, "language"),
    ):
        if value not in known:
            raise InputError(f"unknown {what} {value!r}; choose one of: {', '.join(known)}")
    with_drafts = analyse(load_drafts(drafts)) if drafts else None
    baseline = analyse(load_store())
    current = with_drafts or baseline
    diff = compare(baseline, with_drafts) if with_drafts else None
    if fmt == "json":
        return to_json(current, by, lang, diff)
    found = tables(current, by, lang)
    return render([changes_table(diff, lang), *found] if diff is not None else found, fmt, lang)
