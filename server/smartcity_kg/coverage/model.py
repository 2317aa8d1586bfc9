"""The coverage results: plain, immutable values built from the rows of the named queries."""

from collections.abc import Iterable
from dataclasses import dataclass

DUTY_STATUSES = ("gap", "ambiguous", "covered")  # no task; only ambiguous mappings; a clear one


@dataclass(frozen=True)
class Term:
    """A resource of the graph with its labels; `short` is an acronym or notation, if any."""

    iri: str
    label_en: str
    label_ko: str
    short: str = ""

    def label(self, lang: str = "en") -> str:
        """Return the label in `lang` ("ko" or "en"), falling back to the other language."""
        return self.label_ko if lang == "ko" else self.label_en

    def name(self, lang: str = "en") -> str:
        """Return the short name if there is one, else the label."""
        return self.short or self.label(lang)


@dataclass(frozen=True)
class TaskRef:
    """A task as it appears in one analysis: its institution, and how it reaches the subject."""

    task: Term
    institution: Term
    ambiguous: bool = False  # the duty mapping behind it is marked ambiguous
    city: Term | None = None  # the pilot city the task is limited to; None: every pilot city
    reason_en: str = ""
    reason_ko: str = ""
    bullet: str = ""  # the task's position among its institution's bullets in the notice


def institutions_of(tasks: Iterable[TaskRef]) -> tuple[Term, ...]:
    """Return the distinct institutions of `tasks`, in order of first appearance."""
    return tuple(dict.fromkeys(t.institution for t in tasks))


@dataclass(frozen=True)
class DutyRow:
    """One statutory duty, the tasks that serve it, and whether it is a gap."""

    duty: Term
    tasks: tuple[TaskRef, ...]
    institutions: tuple[Term, ...]
    status: str  # one of DUTY_STATUSES


@dataclass(frozen=True)
class InstitutionRow:
    """One institution's profile: its tasks and what they work on."""

    institution: Term
    tasks: tuple[Term, ...]
    duties: tuple[Term, ...]
    ambiguous_duties: tuple[Term, ...]  # duties it serves only through ambiguous mappings
    programmes: tuple[Term, ...]
    sectors: tuple[Term, ...]
    cities: tuple[Term, ...]
    limited_to: Term | None  # the one city every task of the institution is limited to


@dataclass(frozen=True)
class CityCell:
    """One sector in one pilot city and the tasks that serve it there; no task is a gap."""

    sector: Term
    city: Term
    tasks: tuple[TaskRef, ...]
    institutions: tuple[Term, ...]


@dataclass(frozen=True)
class CityMatrix:
    """The sector by pilot city matrix, and the sectors whose owners differ between cities."""

    sectors: tuple[Term, ...]
    cities: tuple[Term, ...]
    cells: tuple[CityCell, ...]
    differences: tuple[Term, ...]  # sectors whose set of institutions is not the same everywhere

    def cell(self, sector_iri: str, city_iri: str) -> CityCell:
        """Return the cell of one sector in one city."""
        return next(c for c in self.cells if (c.sector.iri, c.city.iri) == (sector_iri, city_iri))


@dataclass(frozen=True)
class ProgrammeRow:
    """One programme, its parent programme, and the tasks and institutions in it."""

    programme: Term
    parent: str | None
    tasks: tuple[TaskRef, ...]
    institutions: tuple[Term, ...]


@dataclass(frozen=True)
class Overlap:
    """A duty, programme or sector-city cell that more than one institution serves."""

    kind: str  # "duty", "programme" or "sector-city"
    subject: Term
    city: Term | None
    institution_count: int  # as counted by the query
    tasks: tuple[TaskRef, ...]
    institutions: tuple[Term, ...]
    split_by_city: bool  # the institutions share no pilot city: they divide the work by city
    only_ambiguous: bool  # fewer than two institutions serve it through a clear duty mapping

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.kind, self.subject.iri, self.city.iri if self.city else None)


@dataclass(frozen=True)
class Coverage:
    """The five analyses over one store, and the named query behind each."""

    duties: tuple[DutyRow, ...]
    institutions: tuple[InstitutionRow, ...]
    matrix: CityMatrix
    programmes: tuple[ProgrammeRow, ...]
    overlaps: tuple[Overlap, ...]
    queries: dict[str, str]  # analysis name -> named query name

    def duty_gaps(self) -> tuple[DutyRow, ...]:
        return tuple(d for d in self.duties if d.status == "gap")

    def ambiguous_duties(self) -> tuple[DutyRow, ...]:
        return tuple(d for d in self.duties if d.status == "ambiguous")

    def city_gaps(self) -> tuple[CityCell, ...]:
        return tuple(c for c in self.matrix.cells if not c.tasks)
