"""The coverage page: a duty by institution heatmap and a sector by city matrix, with CSVs.

Every cell links to the tasks behind it (their own pages) and to the named query that produced
it, opened in the query page with the cell's keys as parameters. The results are computed once
per process from the engine's store (the data never changes while serving).
"""

from flask import Blueprint, Response, make_response, render_template, url_for

from smartcity_kg.coverage.model import Coverage, TaskRef
from smartcity_kg.coverage.render import render
from smartcity_kg.coverage.tables import VIEWS, tables
from smartcity_kg.coverage.words import PAGE_TEXT, TEXT
from smartcity_kg.errors import NotFound
from smartcity_kg.web.links import local_path, reader_language, remember_language
from smartcity_kg.web.state import state

bp = Blueprint("coverage", __name__)


@bp.get("/coverage")
def page():
    """Show the heatmap, the matrix and the other analyses in the reader's language."""
    lang = reader_language()
    found = state().coverage
    html = render_template(
        "coverage.html",
        lang=lang,
        other_lang="ko" if lang == "en" else "en",
        t={**TEXT[lang], **PAGE_TEXT[lang]},
        summary=_summary(found, lang),
        heatmap=_heatmap(found, lang),
        matrix=_matrix(found, lang),
        reasons=_reasons(found, lang),
        tables=[tables(found, view, lang)[0] for view in ("institution", "programme", "overlap")],
    )
    return remember_language(make_response(html), lang)


@bp.get("/coverage/<view>.csv")
def download(view: str):
    """Answer one analysis as CSV, labels in the reader's language."""
    if view not in VIEWS:
        raise NotFound(f"no coverage table {view!r}; the tables are: {', '.join(VIEWS)}")
    lang = reader_language()
    body = render(tables(state().coverage, view, lang), "csv", lang)
    response = Response(body, content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="coverage-{view}-{lang}.csv"'
    response.vary.add("Accept-Language")
    return response


def query_links(found: Coverage, view: str, **params: str) -> dict[str, str]:
    """Return the query-page and named-query URLs of one view, restricted by `params`."""
    name = found.queries[view]
    return {
        "page": url_for("pages.index", name=name, **params),
        "named": url_for("queries.run", name=name, **params),
    }


def _task(ref: TaskRef, lang: str, text: str) -> dict:
    reason = ref.reason_ko if lang == "ko" else ref.reason_en
    title = ref.task.label(lang) + (f" — {reason}" if ref.ambiguous and reason else "")
    return {
        "href": local_path(ref.task.iri),
        "text": text,
        "title": title,
        "label": ref.task.label(lang),
    }


def _summary(found: Coverage, lang: str) -> dict:
    def duties(rows):
        return [
            {"notation": d.duty.short, "label": d.duty.label(lang), "id": _duty_id(d)} for d in rows
        ]

    return {
        "gaps": duties(found.duty_gaps()),
        "ambiguous": duties(found.ambiguous_duties()),
        "city_gaps": [f"{c.sector.label(lang)} · {c.city.label(lang)}" for c in found.city_gaps()],
        "differences": [s.label(lang) for s in found.matrix.differences],
    }


def _reasons(found: Coverage, lang: str) -> list[dict]:
    """Return, per served duty, each task with its institution and the mapping's reason."""
    return [
        {
            "label": f"{d.duty.short}. {d.duty.label(lang)}",
            "status": TEXT[lang][d.status],
            "tasks": [
                {
                    **_task(ref, lang, ""),
                    "institution": ref.institution.name(lang),
                    "ambiguous": ref.ambiguous,
                    "reason": ref.reason_ko if lang == "ko" else ref.reason_en,
                }
                for ref in d.tasks
            ],
        }
        for d in found.duties
        if d.tasks
    ]


def _duty_id(row) -> str:
    return "duty-" + (row.duty.short or row.duty.iri.rsplit("/", 1)[-1])


def _heatmap(found: Coverage, lang: str) -> dict:
    columns = [row.institution for row in found.institutions]
    rows = []
    for duty in found.duties:
        cells = []
        for institution in columns:
            tasks = sorted((t for t in duty.tasks if t.institution == institution), key=_bullet)
            links = query_links(found, "duty", duty=duty.duty.iri, institution=institution.iri)
            cells.append(
                {
                    "count": len(tasks),
                    "css": _heat(len(tasks))
                    + (" ambiguous" if tasks and all(t.ambiguous for t in tasks) else ""),
                    "tasks": [_task(t, lang, f"#{t.bullet}" if t.bullet else "#") for t in tasks],
                    "links": links,
                    "label": f"{duty.duty.short}, {institution.name(lang)}",
                }
            )
        rows.append(
            {
                "id": _duty_id(duty),
                "notation": duty.duty.short,
                "label": duty.duty.label(lang),
                "status": duty.status,
                "status_text": TEXT[lang][duty.status],
                "total": len(duty.tasks),
                "cells": cells,
                "links": query_links(found, "duty", duty=duty.duty.iri),
            }
        )
    return {
        "columns": [
            {"name": c.name(lang), "title": c.label(lang), "href": local_path(c.iri)}
            for c in columns
        ],
        "rows": rows,
        "links": query_links(found, "duty"),
    }


def _bullet(ref: TaskRef) -> int:
    return int(ref.bullet) if ref.bullet.isdigit() else 0


def _heat(count: int) -> str:
    return f"n{min(count, 3)}"


def _matrix(found: Coverage, lang: str) -> dict:
    matrix = found.matrix
    rows = []
    for sector in matrix.sectors:
        cells = []
        for city in matrix.cities:
            cell = matrix.cell(sector.iri, city.iri)
            cells.append(
                {
                    "gap": not cell.tasks,
                    "id": f"cell-{sector.iri.rsplit('/', 1)[-1]}-{city.iri.rsplit('/', 1)[-1]}",
                    "tasks": [_task(t, lang, t.institution.name(lang)) for t in cell.tasks],
                    "links": query_links(found, "city", sector=sector.iri, city=city.iri),
                    "label": f"{sector.label(lang)} · {city.label(lang)}",
                }
            )
        rows.append(
            {"label": sector.label(lang), "cells": cells, "differs": sector in matrix.differences}
        )
    return {
        "cities": [c.label(lang) for c in matrix.cities],
        "rows": rows,
        "links": query_links(found, "city"),
    }
