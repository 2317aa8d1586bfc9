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
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from . import store_files
from .errors import InputError, StoreUnreadable, one_line
from .graph import (
    GraphSource,
    base_of,
    load_store,
    packaged_sources,
    rdf_format_for,
    rdf_input,
    reading_errors,
)
from .paths import turtle_files
from .remote import RemoteStore, is_url, upload
from .store_files import LOAD_RECORD

log = logging.getLogger(__name__)

MEMORY = "memory"
ANALYSIS_TIMEOUT = 300.0  # seconds: the coverage, VoID and dump queries, unbounded in memory
Progress = Callable[[int], None]  # called with the number of bytes just read or sent


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
    """Return `store` as the query workers use it: a remote store's requests get `timeout`.

    A directory store gives them pyoxigraph's own query results, which they serialise.
    """
    if isinstance(store, RemoteStore):
        return store.with_timeout(timeout)
    return _WorkerView(store) if isinstance(store, ReadOnlyStore) else store


class ReadOnlyStore:
    """An on-disk store opened read-only, once in each process that uses it.

    RocksDB handles are not fork-safe, so a process forked from the opener (an HTTP worker,
    a query worker) opens its own handle on first use instead of using the inherited one. The
    inherited handle is kept, never closed: closing it would wait for the parent's background
    threads, which do not exist in the child.

    The opener checks every file against the checksums `load --into` recorded, and so does a
    query run in any process (the VoID and coverage analyses) if a file was written since:
    pyoxigraph 0.5 evaluates an aggregate over a damaged block forever, so none may start over
    one. A read that fails (the disk changed under a server) raises StoreUnreadable (503), as
    does every later use in that process.
    """

    def __init__(self, path: Path):
        self.path = path
        self._pid: int | None = None
        self._store: ox.Store | None = None
        self._inherited: list[ox.Store] = []
        self._damage: str | None = None  # what the first failed read said, in this process
        self._sound: list | None = None  # the files' states when last found to match
        store_files.recover_for_reading(path)  # a load killed in its swap may have left no DIR
        self._verify()  # fail now, in the command that names the directory
        self._opened()

    def __repr__(self) -> str:
        return f"ReadOnlyStore({str(self.path)!r})"

    def _opened(self) -> ox.Store:
        if self._pid != os.getpid():
            if self._store is not None:
                self._inherited.append(self._store)
            self._store = self._open()
            self._pid = os.getpid()
        return self._store

    def _open(self) -> ox.Store:
        try:
            return ox.Store.read_only(str(self.path))
        except (OSError, RuntimeError) as error:  # RocksDB's "Corruption: ..." is a RuntimeError
            raise StoreUnreadable(
                f"{self.path}: cannot open the store: {one_line(str(error))}; load it again "
                f"with 'smartcity-kg load --into {self.path} --replace FILE...'"
            ) from None

    def _verify(self) -> None:
        """Check the files against their checksums, unless none was written since they matched."""
        if not (self.path / "CURRENT").is_file():
            raise InputError(f"{self.path} is not an Oxigraph store; "
                             f"run 'smartcity-kg load --into {self.path}' first")  # fmt: skip
        recorded = (self.load_record() or {}).get("checksums")
        if recorded is None:  # an older load
            return
        states = store_files.file_states(self.path, recorded)
        if states != self._sound:
            store_files.check_files(self.path, recorded)
            self._sound = states

    def damaged(self, error: Exception | None = None) -> StoreUnreadable:
        """Return the error for a failed read, logging the first; every later read gets it too.

        The client is told what happened, not where the files are; the log says both.
        """
        if error is not None and self._damage is None:
            self._damage = one_line(str(error))
            log.error("%s: the store cannot be read: %s", self.path, self._damage)
        return StoreUnreadable.damaged()

    def _call(self, method: str, *args, verify: bool = False, **options):
        if self._damage is not None:
            raise self.damaged()
        try:
            if verify:
                self._verify()
            return getattr(self._opened(), method)(*args, **options)
        except (OSError, RuntimeError, InputError, StoreUnreadable) as error:  # storage errors
            raise self.damaged(error) from None

    def _read(self, method: str, *args, **options):
        found = self._call(method, *args, **options)
        return _Checked(self, found) if isinstance(found, Iterator) else found

    def results(self, query: str, **options):
        """Run a query and return pyoxigraph's own result (for the query workers)."""
        return self._call("query", query, **options)

    def query(self, query: str, **options):
        """Run a query in this process, once the files are known to be sound."""
        return self._read("query", query, verify=True, **options)

    def named_graphs(self):
        return self._read("named_graphs")

    def quads_for_pattern(self, *pattern):
        return self._read("quads_for_pattern", *pattern)

    def dump(self, **options) -> bytes:
        return self._read("dump", **options)

    def __iter__(self):
        return self._read("__iter__")

    def __len__(self) -> int:
        return self._read("__len__")

    def load_record(self) -> dict | None:
        """Return what `load --into` recorded about this store, or None if it left no record."""
        try:
            return json.loads((self.path / LOAD_RECORD).read_text())
        except (OSError, ValueError):
            return None


class _Checked:
    """A lazy result of a ReadOnlyStore (solutions, triples, quads): a failed read while
    iterating raises StoreUnreadable too. Other attributes (`variables`) are the result's own."""

    def __init__(self, store: ReadOnlyStore, result):
        self._store = store
        self._result = result

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self._result)
        except (OSError, RuntimeError) as error:
            raise self._store.damaged(error) from None

    def __getattr__(self, name: str):
        return getattr(self._result, name)


class _WorkerView:
    """A ReadOnlyStore as the query workers use it: `query` gives pyoxigraph's own result."""

    def __init__(self, store: ReadOnlyStore):
        self.store = store

    def query(self, query: str, **options):
        return self.store.results(query, **options)


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
        from .preflight import check_served_data  # pySHACL is only needed when validating

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
