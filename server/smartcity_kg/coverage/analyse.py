"""Coverage analyses: run the `coverage-*` named queries on a store and build plain results.

Nothing here restates the graph: duties, institutions, sectors, cities and programmes all come
from the rows of the named queries, so every count can be traced to the query that produced it
(`Coverage.queries`). A draft (a new notice, a new designation) is added with `load_drafts`,
which refuses a draft that does not conform to the shapes; `smartcity_kg.coverage.diff` says
what the draft changes, and `smartcity_kg.coverage.tables` renders the results.
`analyse_with_drafts` does all of it once, so a caller that needs both the report and the gaps
(`coverage --fail-on-gap`) reads one result.
"""

from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from smartcity_kg.coverage import build
from smartcity_kg.coverage.diff import CoverageDiff, compare
from smartcity_kg.coverage.model import Coverage
from smartcity_kg.errors import ValidationFailed
from smartcity_kg.rdf.files import graph_iri, load_file, load_store
from smartcity_kg.rdf.vocab import XSD
from smartcity_kg.sparql.catalog import Catalog, load_catalog

QUERIES = {
    "duty": "coverage-by-duty",
    "institution": "coverage-by-institution",
    "city": "coverage-by-city",
    "programme": "coverage-by-programme",
    "overlap": "coverage-overlaps",
}


def analyse(store: ox.Store, catalog: Catalog | None = None) -> Coverage:
    """Run the five coverage queries on `store` (default graph: the union) and build results."""
    catalog = catalog or load_catalog()

    def rows(analysis: str) -> list[dict]:
        return run_rows(store, catalog.get_query(QUERIES[analysis]).text)

    return Coverage(
        duties=build.duties(rows("duty")),
        institutions=build.institutions(rows("institution")),
        matrix=build.matrix(rows("city")),
        programmes=build.programmes(rows("programme")),
        overlaps=build.overlaps(rows("overlap")),
        queries=dict(QUERIES),
    )


def analyse_with_drafts(drafts: Iterable[Path] = ()) -> tuple[Coverage, CoverageDiff | None]:
    """Return the coverage of the packaged graph with `drafts` added, and what they change.

    Without drafts, the packaged graph's coverage and None. With them, the drafts are loaded and
    validated first (`load_drafts`: nothing is computed for a draft that breaks the shapes),
    then each graph is analysed once: the packaged graph with the drafts, and without them.
    """
    drafts = list(drafts)
    if not drafts:
        return analyse(load_store()), None
    with_drafts = analyse(load_drafts(drafts))
    return with_drafts, compare(analyse(load_store()), with_drafts)


def run_rows(store: ox.Store, query: str) -> list[dict]:
    """Run a SELECT query over the union of the graphs; return rows of plain Python values.

    IRIs and plain literals become strings, xsd:boolean literals booleans; unbound is None.
    """
    result = store.query(query, use_default_graph_as_union=True)
    names = [v.value for v in result.variables]
    return [{name: _plain(solution[name]) for name in names} for solution in result]


_BOOLEAN = XSD + "boolean"


def _plain(term):
    if term is None:
        return None
    if isinstance(term, ox.Literal) and term.datatype.value == _BOOLEAN:
        return term.value in ("true", "1")
    return term.value


def load_drafts(paths: Iterable[Path], store: ox.Store | None = None) -> ox.Store:
    """Return the packaged graph plus the draft files in its data graph, validated first.

    A draft that does not parse raises DataSyntaxError; one that makes the graph break the
    shapes raises ValidationFailed carrying the SHACL report, and nothing is computed.
    """
    from smartcity_kg.quality.shacl import validate_store

    store = store if store is not None else load_store()
    paths = list(paths)
    for path in paths:
        load_file(store, Path(path), graph_iri("data"))
    report = validate_store(store)
    if not report.conforms:
        names = ", ".join(str(p) for p in paths)
        raise ValidationFailed(
            f"the draft ({names}) does not conform to the shapes; nothing was computed",
            detail=report.to_text().rstrip(),
        )
    return store
