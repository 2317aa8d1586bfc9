"""Where the graph lives: in memory, in an on-disk Oxigraph store, or behind a SPARQL endpoint.

A store spec is `memory` (load the Turtle files at start), a directory (a pyoxigraph on-disk
store, filled once by `smartcity-kg load --into DIR` and opened read-only, so a restart does not
reload and every process shares the operating system's page cache), or an http(s) URL (any
SPARQL 1.1 endpoint, see remote.py). Every kind answers the same small API: `query`, iteration
over quads, `len`, `named_graphs` and `dump`.

Usage::

    store = open_store("memory")          # or "/srv/kg", or "http://127.0.0.1:7878/query"
"""

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox

from smartcity_kg.errors import InputError, StoreUnreadable, one_line
from smartcity_kg.paths import turtle_files
from smartcity_kg.rdf.files import (
    GraphSource,
    load_store,
)
from smartcity_kg.store import files as store_files
from smartcity_kg.store.files import LOAD_RECORD
from smartcity_kg.store.remote import RemoteStore, is_url

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
