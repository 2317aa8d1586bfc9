"""Check the data before it is served: a server never answers from data that breaks the shapes.

`serve` loads its store first (a syntax error names the file and line there), then calls
`check_served_data` on the in-memory store it loaded. The packaged graph is validated as
shipped; `--data` files are validated together, every triple of every graph they fill treated
as data, with the packaged ontology mixed in, so that a quad file cannot slip its triples past
the shapes in a graph of its own.
A violation raises ValidationFailed naming the file (where it can be told), the focus node and
the failing shape, on one line. No Flask here.
"""

import pyoxigraph as ox

from .errors import ValidationFailed
from .graph import GraphSource
from .validate import Report, Result, as_data_store, validate_store


def check_served_data(store, sources: list[GraphSource] | None) -> Report | None:
    """Return the validation report of what `store` serves; raise ValidationFailed if it fails.

    `sources` None means the packaged graph; otherwise the `--data` files that filled `store`.
    An on-disk or remote store (stores.py) is not checked here: None.
    """
    if not isinstance(store, ox.Store):
        return None
    report = validate_store(store if sources is None else as_data_store(store))
    if not report.conforms:
        first = report.violations[0]
        raise ValidationFailed(
            f"{_where(store, sources, first)}: does not conform to the shapes, "
            f"refusing to serve it: {len(report.violations)} violation(s); first: "
            f"{_describe(first)}"
        )
    return report


def _where(store: ox.Store, sources: list[GraphSource] | None, result: Result) -> str:
    """Name the file holding the focus node, if one file can be told; else all of them."""
    if sources is None:
        return "the packaged data"
    files = [str(path) for source in sources for path in source.files]
    by_graph = {source.iri: str(source.files[0]) for source in sources if source.files}
    try:
        focus = ox.NamedNode(result.focus)
    except ValueError:  # a blank node, described in words
        return ", ".join(files)
    holders = {by_graph.get(q.graph_name.value) for q in store.quads_for_pattern(focus, None, None)
               if isinstance(q.graph_name, ox.NamedNode)}  # fmt: skip
    holders.discard(None)
    return holders.pop() if len(holders) == 1 else ", ".join(files)


def _describe(result: Result) -> str:
    """Say which shape failed on which node, and why, in one line."""
    path = f" path {result.path}" if result.path else ""
    value = f" value {result.value}" if result.value else ""
    focus = result.focus if result.focus.startswith(("[", "_:")) else f"<{result.focus}>"
    return f"{focus} fails {result.shape}{path}{value}: {result.message}"
