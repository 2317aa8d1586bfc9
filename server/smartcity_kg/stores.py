"""Where the graph lives: in memory, in an on-disk Oxigraph store, or behind a SPARQL endpoint.

A store spec is `memory` (load the Turtle files at start), a directory (a pyoxigraph on-disk
store, filled once by `smartcity-kg load --into DIR` and opened read-only, so a restart does not
reload and every process shares the operating system's page cache), or an http(s) URL (any
SPARQL 1.1 endpoint, see remote.py). Every kind answers the same small API: `query`, iteration
over quads, `len`, `named_graphs` and `dump`.

Usage::

    store = open_store("memory")          # or "/srv/kg", or "http://127.0.0.1:7878/query"
    load_into("/srv/kg", packaged_sources(), progress=bar.advance)
"""

import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from .errors import InputError
from .graph import GraphSource, load_store, packaged_sources, rdf_format_for, reading_errors
from .paths import turtle_files
from .progress import CountingReader
from .remote import RemoteStore, is_url, upload

MEMORY = "memory"
ANALYSIS_TIMEOUT = 300.0  # seconds: the coverage, VoID and dump queries, unbounded in memory
Progress = Callable[[int], None]  # called with the number of bytes just read or sent
# Written beside the database's own files by `load --into DIR`: what was loaded, when, and
# whether it was validated against which shapes, so that `serve --store DIR` need not validate.
LOAD_RECORD = "smartcity-kg-load.json"


def open_store(spec: str, sources: Iterable[GraphSource] | None = None):
    """Open the store `spec` names; `sources` (files to load) only go with `memory`."""
    if spec == MEMORY:
        return load_store(sources)
    if sources is not None:
        raise InputError(
            f"data files go into a store with 'smartcity-kg load --into {spec}'; "
            "use --store memory to serve files directly"
        )
    if is_url(spec):
        return RemoteStore(spec, timeout=ANALYSIS_TIMEOUT)
    return ReadOnlyStore(Path(spec))


def for_queries(store, timeout: float):
    """Return `store` as the query workers use it: a remote store's requests get `timeout`."""
    return store.with_timeout(timeout) if isinstance(store, RemoteStore) else store


class ReadOnlyStore:
    """An on-disk store opened read-only, once in each process that uses it.

    RocksDB handles are not fork-safe, so a process forked from the opener (a gunicorn worker,
    a query worker) opens its own handle on first use instead of using the inherited one. The
    inherited handle is kept, never closed: closing it would wait for the parent's background
    threads, which do not exist in the child.
    """

    def __init__(self, path: Path):
        self.path = path
        self._pid: int | None = None
        self._store: ox.Store | None = None
        self._inherited: list[ox.Store] = []
        self._opened()  # fail now, in the command that names the directory

    def __repr__(self) -> str:
        return f"ReadOnlyStore({str(self.path)!r})"

    def _opened(self) -> ox.Store:
        if self._pid != os.getpid():
            if not (self.path / "CURRENT").is_file():
                raise InputError(f"{self.path} is not an Oxigraph store; "
                                 f"run 'smartcity-kg load --into {self.path}' first")  # fmt: skip
            if self._store is not None:
                self._inherited.append(self._store)
            try:
                self._store = ox.Store.read_only(str(self.path))
            except OSError as error:
                raise InputError(f"{self.path}: cannot open the store: {error}") from None
            self._pid = os.getpid()
        return self._store

    def query(self, query: str, **options):
        return self._opened().query(query, **options)

    def named_graphs(self):
        return self._opened().named_graphs()

    def quads_for_pattern(self, *pattern):
        return self._opened().quads_for_pattern(*pattern)

    def dump(self, **options) -> bytes:
        return self._opened().dump(**options)

    def __iter__(self):
        return iter(self._opened())

    def __len__(self) -> int:
        return len(self._opened())

    def load_record(self) -> dict | None:
        """Return what `load --into` recorded about this store, or None if it left no record."""
        try:
            return json.loads((self.path / LOAD_RECORD).read_text())
        except (OSError, ValueError):
            return None


def shapes_digest() -> str:
    """Return a hash of the packaged shapes: a validation holds only for the shapes it used."""
    digest = hashlib.sha256()
    for path in turtle_files("shapes"):
        digest.update(path.read_bytes())
    return digest.hexdigest()


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
    # Read once in memory when it is needed (to validate, or to upload graph by graph).
    loaded = load_store(sources) if validate or is_url(target) else None
    if validate:
        from .preflight import check_served_data  # pySHACL is only needed when validating

        check_served_data(loaded, sources)
    if is_url(target):
        upload(target, _graphs_as_ntriples(loaded), progress=progress)
    else:
        record = {"validated": validate, "shapes": shapes_digest() if validate else None,
                  "loaded": datetime.now(UTC).isoformat(timespec="seconds"),
                  "files": [str(f) for source in sources for f in source.files]}  # fmt: skip
        _load_directory(Path(target), sources, replace=replace, progress=progress, record=record)


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
    """Bulk-load into a fresh directory beside `path`, then move it into place.

    A failed load leaves `path` as it was; a server reading the old store keeps its handle.
    """
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        if not (path / "CURRENT").is_file():
            raise InputError(f"{path} exists and is not an Oxigraph store; "
                             "choose a new or empty directory")  # fmt: skip
        if not replace:
            raise InputError(f"{path} already holds a store; pass --replace to load it afresh")
    fresh = path.with_name(path.name + ".loading")
    shutil.rmtree(fresh, ignore_errors=True)
    try:
        store = ox.Store(str(fresh))
        for source in sources:
            for file in source.files:
                _bulk_load(store, file, source.iri, progress)
        store.flush()
        del store  # closes the database before it is moved
        (fresh / LOAD_RECORD).write_text(json.dumps(record, indent=2) + "\n")
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    old = path.with_name(path.name + ".old")
    if path.exists():
        path.rename(old)
    fresh.rename(path)
    shutil.rmtree(old, ignore_errors=True)


def _bulk_load(store: ox.Store, path: Path, graph: str, progress: Progress | None) -> None:
    fmt = rdf_format_for(path)
    with reading_errors(path), path.open("rb") as raw:
        reader = io.BufferedReader(CountingReader(raw, progress), 1 << 20)
        store.bulk_load(input=reader, format=fmt, to_graph=ox.NamedNode(graph))
