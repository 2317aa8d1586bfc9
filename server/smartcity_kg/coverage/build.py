"""Build the coverage results from the rows of the `coverage-*` named queries.

Each builder takes the rows of one query (dicts of plain values, as `coverage.run_rows` gives
them) and groups them; it counts and classifies, but never adds a duty, city, sector or
institution that the rows do not name.
"""

from collections import defaultdict

from smartcity_kg.coverage.model import (
    CityCell,
    CityMatrix,
    DutyRow,
    InstitutionRow,
    Overlap,
    ProgrammeRow,
    TaskRef,
    Term,
    institutions_of,
)


def term(row: dict, var: str, short: str | None = None) -> Term | None:
    """Return the Term in `row[var]` with its labels (`<var>LabelEn`, `<var>LabelKo`), or None."""
    iri = row.get(var)
    if iri is None:
        return None
    fallback = iri.rstrip("/").rsplit("/", 1)[-1]
    label_en = row.get(var + "LabelEn") or fallback
    label_ko = row.get(var + "LabelKo") or label_en
    return Term(iri, label_en, label_ko, (row.get(short) if short else None) or "")


def task_ref(row: dict, city: str | None = None, **extra) -> TaskRef:
    """Return the task of a row with its institution (and the city it is limited to)."""
    return TaskRef(
        task=term(row, "task"),
        institution=term(row, "institution", "institutionAcronym"),
        city=term(row, city) if city else None,
        **extra,
    )


def _group(rows: list[dict], key) -> dict:
    """Group rows by key(row), keeping the query's order of first appearance."""
    groups: dict = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return groups


def _unique_tasks(refs) -> tuple[TaskRef, ...]:
    """Drop repeated tasks (a row per label variant), keeping the first of each."""
    return tuple({ref.task.iri: ref for ref in refs}.values())


def duties(rows: list[dict]) -> tuple[DutyRow, ...]:
    """One DutyRow per duty; a duty whose rows name no task is a gap."""
    result = []
    for group in _group(rows, lambda r: r["duty"]).values():
        duty = term(group[0], "duty", "notation")
        tasks = _unique_tasks(
            task_ref(
                r,
                ambiguous=bool(r["ambiguous"]),
                reason_en=r["mappingReasonEn"] or "",
                reason_ko=r["mappingReasonKo"] or "",
                bullet=r["bulletNumber"] or "",
            )
            for r in group
            if r["task"] is not None
        )
        if not tasks:
            status = "gap"
        elif all(t.ambiguous for t in tasks):
            status = "ambiguous"
        else:
            status = "covered"
        result.append(DutyRow(duty, tasks, institutions_of(tasks), status))
    return tuple(result)


def institutions(rows: list[dict]) -> tuple[InstitutionRow, ...]:
    """One profile per institution, from its facet rows (duty, programme, sector, city)."""
    result = []
    for group in _group(rows, lambda r: r["institution"]).values():
        facets: dict[str, dict[str, Term]] = defaultdict(dict)
        clear_duties: set[str] = set()
        limited: dict[str, bool] = {}  # task -> every city row of the task is a limitation
        for row in group:
            if row["facet"] is None:
                continue
            value = term(row, "value", "valueNotation")
            facets[row["facet"]].setdefault(value.iri, value)
            if row["facet"] == "duty" and not row["ambiguous"]:
                clear_duties.add(value.iri)
            if row["facet"] == "city":
                limited[row["task"]] = limited.get(row["task"], True) and bool(row["limited"])
        tasks = tuple({r["task"]: term(r, "task") for r in group if r["task"]}.values())
        cities = tuple(facets["city"].values())
        one_city = len(cities) == 1 and tasks and all(limited.get(t.iri) for t in tasks)
        duty_terms = tuple(sorted(facets["duty"].values(), key=_notation_order))
        result.append(
            InstitutionRow(
                institution=term(group[0], "institution", "institutionAcronym"),
                tasks=tasks,
                duties=duty_terms,
                ambiguous_duties=tuple(d for d in duty_terms if d.iri not in clear_duties),
                programmes=tuple(facets["programme"].values()),
                sectors=tuple(facets["sector"].values()),
                cities=cities,
                limited_to=cities[0] if one_city else None,
            )
        )
    return tuple(result)


def _notation_order(duty: Term) -> tuple:
    """Sort duties by their notation as a number where it is one ("2" before "10")."""
    return (0, int(duty.short), "") if duty.short.isdigit() else (1, 0, duty.short or duty.iri)


def matrix(rows: list[dict]) -> CityMatrix:
    """The sector by city matrix; differences are sectors whose owners vary between cities."""
    sectors = tuple({r["sector"]: term(r, "sector") for r in rows}.values())
    cities = tuple({r["city"]: term(r, "city") for r in rows}.values())
    cells = []
    for group in _group(rows, lambda r: (r["sector"], r["city"])).values():
        tasks = _unique_tasks(
            task_ref(r, "city" if r["limited"] else None) for r in group if r["task"] is not None
        )
        cells.append(
            CityCell(
                term(group[0], "sector"), term(group[0], "city"), tasks, institutions_of(tasks)
            )
        )
    by_sector = _group(cells, lambda c: c.sector.iri)
    differences = tuple(
        group[0].sector
        for group in by_sector.values()
        if len({frozenset(i.iri for i in c.institutions) for c in group}) > 1
    )
    return CityMatrix(sectors, cities, tuple(cells), differences)


def programmes(rows: list[dict]) -> tuple[ProgrammeRow, ...]:
    """One row per programme with its tasks (each with the city it is limited to, if any)."""
    result = []
    for group in _group(rows, lambda r: r["programme"]).values():
        tasks = _unique_tasks(task_ref(r, "city") for r in group if r["task"] is not None)
        result.append(
            ProgrammeRow(
                term(group[0], "programme"), group[0]["parent"], tasks, institutions_of(tasks)
            )
        )
    return tuple(result)


def overlaps(rows: list[dict]) -> tuple[Overlap, ...]:
    """One Overlap per (kind, subject, city) that the query reports."""
    result = []
    for group in _group(rows, lambda r: (r["kind"], r["subject"], r["city"])).values():
        first = group[0]
        tasks = _unique_tasks(
            task_ref(r, "taskCity", ambiguous=bool(r["ambiguous"])) for r in group
        )
        institutions = institutions_of(tasks)
        result.append(
            Overlap(
                kind=first["kind"],
                subject=term(first, "subject", "subjectNotation"),
                city=term(first, "city"),
                institution_count=int(first["institutionCount"]),
                tasks=tasks,
                institutions=institutions,
                split_by_city=_split_by_city(tasks, institutions),
                only_ambiguous=len(institutions_of(t for t in tasks if not t.ambiguous)) < 2,
            )
        )
    return tuple(result)


def _split_by_city(tasks: tuple[TaskRef, ...], institutions: tuple[Term, ...]) -> bool:
    """True when every task is limited to a city and no city has two of the institutions."""
    if any(t.city is None for t in tasks):
        return False
    per_city: dict[str, set[str]] = defaultdict(set)
    for t in tasks:
        per_city[t.city.iri].add(t.institution.iri)
    return all(len(owners) == 1 for owners in per_city.values()) and len(institutions) > 1
