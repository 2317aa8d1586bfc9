"""What a draft changes: compare the coverage of the baseline with that of baseline + drafts.

Gaps are duties that no task serves and sector-city cells that no institution owns; overlaps
are keyed by kind, subject and city. A duty's status can also move between "ambiguous" (only
ambiguous mappings) and "covered" without any gap opening or closing; that is a status change.
"""

from dataclasses import dataclass

from smartcity_kg.coverage.model import Coverage, Overlap, Term


@dataclass(frozen=True)
class Gap:
    """A duty no task serves (city None), or a sector with no owner in a pilot city."""

    kind: str  # "duty" or "sector-city"
    subject: Term
    city: Term | None = None

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.kind, self.subject.iri, self.city.iri if self.city else None)


@dataclass(frozen=True)
class StatusChange:
    """A duty whose status (gap, ambiguous, covered) differs after the drafts."""

    duty: Term
    before: str
    after: str


@dataclass(frozen=True)
class CoverageDiff:
    """Everything the drafts change; empty tuples when they change nothing."""

    gaps_closed: tuple[Gap, ...]
    gaps_opened: tuple[Gap, ...]
    overlaps_new: tuple[Overlap, ...]
    overlaps_gone: tuple[Overlap, ...]
    status_changes: tuple[StatusChange, ...]

    def __bool__(self) -> bool:
        return any(
            (
                self.gaps_closed,
                self.gaps_opened,
                self.overlaps_new,
                self.overlaps_gone,
                self.status_changes,
            )
        )


def gaps(coverage: Coverage) -> dict[tuple, Gap]:
    """Return every gap of `coverage` by its key."""
    found = [Gap("duty", d.duty) for d in coverage.duty_gaps()]
    found += [Gap("sector-city", c.sector, c.city) for c in coverage.city_gaps()]
    return {gap.key: gap for gap in found}


def compare(before: Coverage, after: Coverage) -> CoverageDiff:
    """Return what changes from `before` to `after`."""
    gaps_before, gaps_after = gaps(before), gaps(after)
    overlaps_before = {o.key: o for o in before.overlaps}
    overlaps_after = {o.key: o for o in after.overlaps}
    status_before = {d.duty.iri: d.status for d in before.duties}
    return CoverageDiff(
        gaps_closed=tuple(g for k, g in gaps_before.items() if k not in gaps_after),
        gaps_opened=tuple(g for k, g in gaps_after.items() if k not in gaps_before),
        overlaps_new=tuple(o for k, o in overlaps_after.items() if k not in overlaps_before),
        overlaps_gone=tuple(o for k, o in overlaps_before.items() if k not in overlaps_after),
        status_changes=tuple(
            StatusChange(d.duty, status_before.get(d.duty.iri, "gap"), d.status)
            for d in after.duties
            if status_before.get(d.duty.iri, "gap") != d.status
        ),
    )
