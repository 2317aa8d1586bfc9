"""Turn coverage results into tables, in English or Korean, for the terminal, CSV and the web.

A `Table` is what every text format shares: a title, column names, rows of strings, the IRI
each row is about, and the named query that produced it. `tables(coverage, by, lang)` builds
them; `smartcity_kg.coverage.render` writes them as table, csv, json, markdown or html.
"""

from dataclasses import dataclass, field

from smartcity_kg.coverage.diff import CoverageDiff
from smartcity_kg.coverage.model import Coverage, Term
from smartcity_kg.coverage.words import text

VIEWS = ("duty", "institution", "city", "programme", "overlap")
LANGS = ("en", "ko")


@dataclass(frozen=True)
class Table:
    """One rendered analysis: rows of display strings, each about one IRI."""

    name: str  # the view or "changes"
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    keys: tuple[str, ...]  # the IRI each row is about
    query: str | None = None  # the named query behind it
    notes: tuple[str, ...] = field(default=())
    gap_rows: frozenset[int] = frozenset()  # rows that are (or hold) gaps


def _names(terms, lang: str) -> str:
    return ", ".join(t.name(lang) for t in terms)


def _headers(lang: str, *keys: str) -> tuple[str, ...]:
    """Return the column headings for `keys` in `lang`."""
    return tuple(text(lang, key) for key in keys)


def _city_note(city: Term | None, lang: str) -> str:
    return text(lang, "only", city=city.label(lang)) if city else ""


def tables(coverage: Coverage, by: str, lang: str = "en") -> list[Table]:
    """Return the tables of one view of `coverage`."""
    return [_BUILDERS[by](coverage, lang)]


def _duty_table(coverage: Coverage, lang: str) -> Table:
    rows = []
    for row in coverage.duties:
        marked = [
            i.name(lang)
            + ("*" if all(t.ambiguous for t in row.tasks if t.institution == i) else "")
            for i in row.institutions
        ]
        rows.append(
            (
                row.duty.short,
                row.duty.label(lang),
                text(lang, row.status),
                str(len(row.tasks)),
                str(len(row.institutions)),
                ", ".join(marked),
            )
        )
    t = text
    return Table(
        "duty",
        t(lang, "duty.title"),
        _headers(lang, "no", "duty", "status", "tasks", "institutions", "served_by"),
        tuple(rows),
        tuple(r.duty.iri for r in coverage.duties),
        coverage.queries["duty"],
        (t(lang, "ambiguous_mark"),),
        frozenset(n for n, r in enumerate(coverage.duties) if r.status == "gap"),
    )


def _institution_table(coverage: Coverage, lang: str) -> Table:
    rows = []
    for row in coverage.institutions:
        duties = ", ".join(d.short + ("*" if d in row.ambiguous_duties else "") for d in row.duties)
        cities = _city_note(row.limited_to, lang) or _names(row.cities, lang)
        rows.append(
            (
                row.institution.name(lang),
                str(len(row.tasks)),
                duties,
                _names(row.programmes, lang),
                _names(row.sectors, lang),
                cities,
            )
        )
    t = text
    return Table(
        "institution",
        t(lang, "institution.title"),
        _headers(lang, "institution", "tasks", "duties", "programmes", "sectors", "cities"),
        tuple(rows),
        tuple(r.institution.iri for r in coverage.institutions),
        coverage.queries["institution"],
        (t(lang, "ambiguous_mark"),),
    )


def _city_table(coverage: Coverage, lang: str) -> Table:
    matrix = coverage.matrix
    rows, gap_rows = [], set()
    for n, sector in enumerate(matrix.sectors):
        cells = [matrix.cell(sector.iri, city.iri) for city in matrix.cities]
        if any(not c.institutions for c in cells):
            gap_rows.add(n)
        same = text(lang, "no_" if sector in matrix.differences else "yes")
        rows.append(
            (
                sector.label(lang),
                *(_names(c.institutions, lang) or text(lang, "gap") for c in cells),
                same,
            )
        )
    differences = _names(matrix.differences, lang)
    note = (
        text(lang, "differences", sectors=differences)
        if differences
        else text(lang, "no_differences")
    )
    return Table(
        "city",
        text(lang, "city.title"),
        (text(lang, "sector"), *(c.label(lang) for c in matrix.cities), text(lang, "same")),
        tuple(rows),
        tuple(s.iri for s in matrix.sectors),
        coverage.queries["city"],
        (note,),
        frozenset(gap_rows),
    )


def _programme_table(coverage: Coverage, lang: str) -> Table:
    labels = {p.programme.iri: p.programme.label(lang) for p in coverage.programmes}
    rows = []
    for row in coverage.programmes:
        owners = []
        for institution in row.institutions:
            cities = {t.city for t in row.tasks if t.institution == institution}
            limited = ", ".join(c.label(lang) for c in cities if c) if None not in cities else ""
            owners.append(institution.name(lang) + (f" ({limited})" if limited else ""))
        rows.append(
            (
                row.programme.label(lang),
                labels.get(row.parent, row.parent or ""),
                str(len(row.institutions)),
                ", ".join(owners),
                str(len(row.tasks)),
            )
        )
    t = text
    return Table(
        "programme",
        t(lang, "programme.title"),
        _headers(lang, "programme", "part_of", "institutions", "served_by", "tasks"),
        tuple(rows),
        tuple(r.programme.iri for r in coverage.programmes),
        coverage.queries["programme"],
    )


def _overlap_table(coverage: Coverage, lang: str) -> Table:
    rows = [_overlap_cells(o, lang) for o in coverage.overlaps]
    t = text
    return Table(
        "overlap",
        t(lang, "overlap.title"),
        _headers(lang, "kind", "subject", "city", "institutions", "served_by", "note"),
        tuple(rows),
        tuple(o.subject.iri for o in coverage.overlaps),
        coverage.queries["overlap"],
    )


def _overlap_cells(overlap, lang: str) -> tuple[str, ...]:
    notes = [text(lang, "split")] if overlap.split_by_city else []
    if overlap.kind == "duty" and overlap.only_ambiguous:
        notes.append(text(lang, "only_ambiguous"))
    subject = overlap.subject.label(lang)
    if overlap.kind == "duty":
        subject = f"{overlap.subject.short}. {subject}"
    return (
        text(lang, "kind." + overlap.kind),
        subject,
        overlap.city.label(lang) if overlap.city else "",
        str(overlap.institution_count),
        _names(overlap.institutions, lang),
        "; ".join(notes),
    )


_BUILDERS = {
    "duty": _duty_table,
    "institution": _institution_table,
    "city": _city_table,
    "programme": _programme_table,
    "overlap": _overlap_table,
}


def changes_table(diff: CoverageDiff, lang: str = "en") -> Table:
    """Return the changes a draft makes as one table (no rows when it changes nothing)."""
    rows, keys = [], []

    def add(change: str, kind: str, subject: Term, city: Term | None, detail: str = ""):
        label = subject.label(lang)
        label = f"{subject.short}. {label}" if kind == "duty" and subject.short else label
        rows.append(
            (
                text(lang, change),
                text(lang, "kind." + kind),
                label,
                city.label(lang) if city else "",
                detail,
            )
        )
        keys.append(subject.iri)

    now = {c.duty.iri: c.after for c in diff.status_changes}
    for gap in diff.gaps_closed:
        status = now.get(gap.subject.iri) if gap.kind == "duty" else None
        add("gap_closed", gap.kind, gap.subject, gap.city, text(lang, status) if status else "")
    for gap in diff.gaps_opened:
        add("gap_opened", gap.kind, gap.subject, gap.city)
    for overlap in diff.overlaps_new:
        add(
            "overlap_new",
            overlap.kind,
            overlap.subject,
            overlap.city,
            _names(overlap.institutions, lang),
        )
    for overlap in diff.overlaps_gone:
        add("overlap_gone", overlap.kind, overlap.subject, overlap.city)
    for change in (c for c in diff.status_changes if "gap" not in (c.before, c.after)):
        add(
            "status_change",
            "duty",
            change.duty,
            None,
            f"{text(lang, change.before)} → {text(lang, change.after)}",
        )
    t = text
    return Table(
        "changes",
        t(lang, "changes.title"),
        _headers(lang, "change", "kind", "subject", "city", "detail"),
        tuple(rows),
        tuple(keys),
        None,
        () if rows else (t(lang, "no_changes"),),
        frozenset(n for n, r in enumerate(rows) if r[0] == t(lang, "gap_opened")),
    )
