"""Check the data before it is served: a server never answers from data that breaks the shapes.

`serve` loads its store first (a syntax error names the file and line there), then calls
`check_served_data` on the in-memory store it loaded. An on-disk store was validated when
`load --into` filled it, which it recorded in the directory: that record is checked instead.
The packaged graph is validated as shipped; `--data` files are validated together, every
triple of every graph they fill treated as data, with the packaged ontology mixed in, so that
a quad file cannot slip its triples past the shapes in a graph of its own.
A violation raises ValidationFailed naming the file (where it can be told), the focus node and
the failing shape, on one line. No Flask here.
"""

import pyoxigraph as ox

from smartcity_kg.errors import ValidationFailed
from smartcity_kg.quality.shacl import Result, as_data_store, validate_store
from smartcity_kg.rdf.files import GraphSource
from smartcity_kg.store.local import ReadOnlyStore, shapes_digest


def check_served_data(store, sources: list[GraphSource] | None) -> bool | None:
    """Return True if what `store` serves conforms to the shapes; else raise ValidationFailed.

    `sources` None means the packaged graph; otherwise the `--data` files that filled `store`.
    A remote store is not checked here (None): it is whatever its endpoint serves.
    """
    if isinstance(store, ReadOnlyStore):
        return _check_load_record(store)
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
    return True


def _check_load_record(store: ReadOnlyStore) -> bool:
    """Accept an on-disk store only if `load --into` validated it against today's shapes."""
    record = store.load_record() or {}
    again = f"load it again with 'smartcity-kg load --into {store.path} --replace FILE...'"
    if not record.get("validated"):
        how = "with --no-validate" if record else "without a record of validation"
        raise ValidationFailed(
            f"{store.path}: was loaded {how}, refusing to serve it unchecked; {again}, "
            "or serve it with --no-validate"
        )
    if record.get("shapes") != shapes_digest():
        raise ValidationFailed(
            f"{store.path}: was validated against other shapes (loaded {record.get('loaded')}); "
            f"{again}, or serve it with --no-validate"
        )
    return True


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
