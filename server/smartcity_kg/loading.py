"""Load RDF files into a store: read, validate against the shapes, write.

Above the stores and the quality checks, so that neither needs the other: a directory is
bulk-loaded beside its target under a lock and swapped into place, with a record of what was
loaded and whether it was validated (so that `serve --store DIR` need not validate again); a
URL gets each graph through the SPARQL Graph Store Protocol.

Usage::

    load_into("/srv/kg", packaged_sources(), progress=bar.advance)
"""

import json
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from smartcity_kg.errors import InputError
from smartcity_kg.quality.preflight import check_served_data
from smartcity_kg.rdf.files import (
    GraphSource,
    base_of,
    load_store,
    packaged_sources,
    rdf_format_for,
    rdf_input,
    reading_errors,
)
from smartcity_kg.store import files as store_files
from smartcity_kg.store.files import LOAD_RECORD
from smartcity_kg.store.local import Progress, shapes_digest
from smartcity_kg.store.remote import is_url, upload


def load_into(
    target: str,
    sources: Iterable[GraphSource] | None = None,
    *,
    replace: bool = False,
    progress: Progress | None = None,
    validate: bool = True,
) -> None:
    """Load `sources` (default: the packaged graph) into a directory store or a remote store.

    With `validate` the data is checked against the shapes first, as `serve` checks files it
    loads (ValidationFailed, nothing written); a directory records that it was.
    """
    sources = list(packaged_sources() if sources is None else sources)
    if is_url(target):
        upload(target, _graphs_as_ntriples(_in_memory(sources, validate)), progress=progress)
        return
    path = Path(target)
    with store_files.exclusive(path):  # a second load into DIR stops here (StoreBusy)
        store_files.recover(path)  # finish or undo the swap of a load that was killed in it
        if validate:  # else the files are read once, by the bulk loader
            _in_memory(sources, validate)
        record = {"validated": validate, "shapes": shapes_digest() if validate else None,
                  "loaded": datetime.now(UTC).isoformat(timespec="seconds"),
                  "files": [str(f) for source in sources for f in source.files]}  # fmt: skip
        _load_directory(path, sources, replace=replace, progress=progress, record=record)


def _in_memory(sources: list[GraphSource], validate: bool) -> ox.Store:
    """Read `sources` into memory and, with `validate`, check them against the shapes."""
    loaded = load_store(sources)
    if validate:
        check_served_data(loaded, sources)
    return loaded


def total_bytes(sources: Iterable[GraphSource]) -> int:
    """Return the size of every file of `sources`, for a progress bar."""
    return sum(path.stat().st_size for source in sources for path in source.files)


def _graphs_as_ntriples(store: ox.Store) -> dict[str | None, bytes]:
    """Serialise each graph of `store` (the default graph too, if it holds any) as N-Triples."""
    graphs: dict[str | None, bytes] = {}
    if any(True for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph())):
        graphs[None] = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
    for graph in sorted(store.named_graphs(), key=str):
        graphs[graph.value] = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
    return graphs


def _load_directory(
    path: Path,
    sources: list[GraphSource],
    *,
    replace: bool,
    progress: Progress | None,
    record: dict,
) -> None:
    """Bulk-load into DIR.loading beside `path`, then swap it into place (lock held).

    A failed load leaves `path` as it was; a server reading the old store keeps its handle.
    """
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        if not (path / "CURRENT").is_file():
            raise InputError(f"{path} exists and is not an Oxigraph store; "
                             "choose a new or empty directory")  # fmt: skip
        if not replace:
            raise InputError(f"{path} already holds a store; pass --replace to load it afresh")
    fresh = store_files.sibling(path, store_files.STAGING)
    shutil.rmtree(fresh, ignore_errors=True)
    try:
        store = ox.Store(str(fresh))
        for source in sources:
            for file in source.files:
                _bulk_load(store, file, source.iri, progress)
        store.flush()
        del store  # closes the database before it is moved
        record["checksums"] = store_files.checksums(fresh)  # checked whenever the store is opened
        (fresh / LOAD_RECORD).write_text(json.dumps(record, indent=2) + "\n")  # complete now
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    store_files.swap_in(path, fresh)


def _bulk_load(store: ox.Store, path: Path, graph: str, progress: Progress | None) -> None:
    fmt = rdf_format_for(path)
    with reading_errors(path), rdf_input(path, fmt, progress) as reader:
        store.bulk_load(
            input=reader, format=fmt, to_graph=ox.NamedNode(graph), base_iri=base_of(path)
        )
