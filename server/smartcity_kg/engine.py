"""Run SPARQL queries where they can really be stopped: in worker processes that are killed.

pyoxigraph's `Store.query` cannot be timed out or cancelled, so each query runs in a forked
worker process that inherits the store (config.store: in memory, on disk, or a remote endpoint,
see stores.py). The caller waits on the worker's pipe until
the deadline; past it, the worker is killed with SIGKILL and replaced, and the caller gets
QueryTimeout. A worker that dies mid-query gives WorkerCrashed and is replaced likewise.
Results are cut at `Config.max_rows` and say so; identical queries are answered from a cache
(the data never changes while the engine runs).

Usage, from the web app or the CLI::

    engine = QueryEngine(config)              # or QueryEngine(config, sources=[GraphSource(...)])
    result = engine.run("SELECT * { ?s ?p ?o }", format=formats.by_name("csv"))
    result.body, result.format.content_type, result.rows, result.truncated, result.etag
    engine.close()                             # or use the engine as a context manager

`run` raises the errors of smartcity_kg.errors: PayloadTooLarge, QueryRefused (SERVICE;
UpdateRefused for updates), QuerySyntaxError (with the parser's position), NotAcceptable,
QueryTimeout, WorkerCrashed. Worker processes start on first use or on `start()`; start them
in the process that will serve (after gunicorn forks), never before a fork.
"""

import hashlib
import logging
import os
import queue
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from gzip import compress
from time import monotonic

import pyoxigraph as ox

from . import formats, sparql
from .config import Config
from .errors import InputError, PayloadTooLarge, QueryTimeout, ServerBusy, WorkerCrashed
from .formats import ResultFormat
from .graph import GraphSource
from .stores import for_queries, open_store
from .worker import Job, QueryFailed, Reply, spawn_worker

__all__ = ["Dataset", "QueryEngine", "QueryFailed", "QueryResult", "query_id"]

log = logging.getLogger(__name__)

CACHE_MAX_BODY = 4_000_000  # bytes; larger results are not kept, so the cache stays bounded
# Requests that may wait for a busy pool, per worker; more get ServerBusy (503) at once, so that
# slow queries from many clients cannot hold every HTTP thread (serve sizes its threads by this).
WAITING_PER_WORKER = 16


@dataclass(frozen=True)
class Dataset:
    """The RDF dataset a request names with default-graph-uri and named-graph-uri."""

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()

    def __post_init__(self):
        for param, iris in (("default-graph-uri", self.default_graphs),
                            ("named-graph-uri", self.named_graphs)):  # fmt: skip
            for iri in iris:
                try:
                    ox.NamedNode(iri)
                except ValueError:
                    raise InputError(f"{param} {iri!r} is not a valid IRI") from None

    def __bool__(self) -> bool:
        return bool(self.default_graphs or self.named_graphs)


@dataclass(frozen=True)
class QueryResult:
    """A serialised query result and what a client must know about it."""

    body: bytes
    format: ResultFormat
    rows: int  # solutions or triples in the body (1 for ASK)
    truncated: bool  # True when the result was cut at `limit` rows
    limit: int
    etag: str  # hash of the body: equal bodies, equal tags
    cached: bool = False
    elapsed: float = field(default=0.0, compare=False)  # seconds spent answering
    _memo: dict = field(default_factory=dict, compare=False, repr=False)  # shared by copies

    @property
    def gzipped(self) -> bytes:
        """Return the body compressed with gzip, computed once for a cached result's copies."""
        if "gzip" not in self._memo:
            self._memo["gzip"] = compress(self.body, compresslevel=6, mtime=0)
        return self._memo["gzip"]


def query_id(query: str) -> str:
    """Return a short stable hash of a query text, for log lines."""
    return hashlib.sha256(query.encode()).hexdigest()[:12]


class QueryEngine:
    """A pool of query worker processes over one immutable store, with a result cache."""

    def __init__(
        self,
        config: Config | None = None,
        sources: Iterable[GraphSource] | None = None,
        *,
        store=None,
    ):
        self.config = config or Config()
        if store is None:
            store = open_store(self.config.store, sources)
        self.store = store  # a pyoxigraph Store, or one of stores.py for a directory or URL
        self._cache = _ResultCache(self.config.cache_entries)
        self._pool = _Pool(for_queries(self.store, self.config.timeout), self.config.workers)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def start(self) -> None:
        """Start the worker processes now (else the first query starts them)."""
        self._pool.start()

    def close(self) -> None:
        """Kill and reap every worker process; the engine can be started again."""
        self._pool.close()

    @property
    def worker_pids(self) -> list[int]:
        """Return the process ids of the running workers (for health checks and tests)."""
        return self._pool.pids()

    def run(
        self, query: str, *, format: ResultFormat | None = None, dataset: Dataset = Dataset()
    ) -> QueryResult:
        """Run a read-only query with the time and row limits; return its serialised result.

        `format` None means the default for the query's kind. An empty `dataset` means the
        query's own FROM clauses, or else the union of all graphs as the default graph.
        """
        started = monotonic()
        info = self._check(query, format)
        key = (query, format.name if format else None, dataset)
        if hit := self._cache.get(key):
            return replace(hit, cached=True, elapsed=monotonic() - started)
        job = Job(
            query=query,
            format_name=format.name if format else None,
            default_graphs=dataset.default_graphs,
            named_graphs=dataset.named_graphs,
            union=not dataset and not info.dataset,
            max_rows=self.config.max_rows,
            alarm=int(self.config.timeout) + 3,
        )
        result = self._result(self._pool.execute(job, self.config.timeout))
        self._cache.put(key, result)
        return replace(result, elapsed=monotonic() - started)

    def _check(self, query: str, format: ResultFormat | None) -> sparql.QueryInfo:
        """Refuse what must never reach a worker: oversized text, updates, SERVICE."""
        if len(query) > self.config.max_query_length:
            raise PayloadTooLarge(
                f"query is {len(query)} characters; the limit is {self.config.max_query_length}"
            )
        info = sparql.inspect(query)
        sparql.check_read_only(info)
        if format is not None and info.kind is not None:
            formats.check_kind(format, info.kind)
        return info

    def _result(self, reply: Reply) -> QueryResult:
        """Turn a worker's reply into a QueryResult, or raise the error it reports."""
        if reply.error is not None:
            raise reply.error_class(reply.error)
        return QueryResult(
            body=reply.body,
            format=formats.by_name(reply.format_name),
            rows=reply.rows,
            truncated=reply.truncated,
            limit=self.config.max_rows,
            etag=reply.etag,
        )


class _ResultCache:
    """A small LRU of results; the lock is held only for dictionary updates."""

    def __init__(self, entries: int):
        self._entries = entries
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key) -> QueryResult | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key, result: QueryResult) -> None:
        if self._entries <= 0 or len(result.body) > CACHE_MAX_BODY:
            return
        with self._lock:
            self._items[key] = result
            while len(self._items) > self._entries:
                self._items.popitem(last=False)


class _Pool:
    """Worker processes handed out through a queue; a request never waits holding a lock."""

    def __init__(self, store: ox.Store, size: int):
        self._store = store
        self._size = size
        # queue.Queue, not SimpleQueue: with 16 threads waiting, SimpleQueue.get(timeout=2) was
        # measured returning after 4 s (a waiter that loses a race waits again in full).
        self._idle: queue.Queue = queue.Queue()
        self._workers: dict[int, object] = {}
        self._lock = threading.Lock()  # guards starting, replacing and closing; never waited in
        self._owner = None  # the pid that started the workers
        self._waiting = 0  # requests inside _acquire
        self._gate = threading.Lock()  # guards _waiting only

    def start(self) -> None:
        with self._lock:
            if self._owner == os.getpid():
                return
            self._forget_inherited()
            self._owner = os.getpid()
            for _ in range(self._size):
                self._add()

    def close(self) -> None:
        with self._lock:
            if self._owner == os.getpid():
                for worker in list(self._workers.values()):
                    worker.kill()
            self._forget_inherited()

    def pids(self) -> list[int]:
        return sorted(self._workers) if self._owner == os.getpid() else []

    def execute(self, job: Job, timeout: float) -> Reply:
        """Run one job on an idle worker within `timeout` seconds, counting the wait for one."""
        if self._owner != os.getpid():
            self.start()
        deadline = monotonic() + timeout
        worker = self._acquire(deadline, timeout)
        try:
            worker.send(job)
            if not worker.wait(deadline - monotonic()):
                self._replace(worker, reap_later=True)
                log.warning("query worker %d killed after the %g s limit", worker.pid, timeout)
                raise QueryTimeout(
                    f"the query ran past the {timeout:g} s time limit and was stopped; "
                    "narrow it (more specific patterns, LIMIT) and try again"
                )
            reply = worker.receive()
        except (EOFError, OSError):
            status = self._replace(worker)
            raise WorkerCrashed(
                f"the query worker process died while running the query ({status}); "
                "it has been replaced, and the query may be retried"
            ) from None
        self._idle.put(worker)
        return reply

    def _acquire(self, deadline: float, timeout: float):
        """Take an idle worker, or refuse at once when too many requests already wait for one."""
        with self._gate:
            if self._waiting >= WAITING_PER_WORKER * self._size:
                raise ServerBusy(
                    f"all {self._size} query workers are busy and {self._waiting} queries are "
                    "waiting for one; try again shortly"
                )
            self._waiting += 1
        try:
            return self._take(deadline, timeout)
        finally:
            with self._gate:
                self._waiting -= 1

    def _take(self, deadline: float, timeout: float):
        """Take an idle worker, replacing any that died while idle."""
        while True:
            try:
                worker = self._idle.get(timeout=max(0.0, deadline - monotonic()))
            except queue.Empty:
                raise QueryTimeout(
                    f"every query worker stayed busy for the {timeout:g} s time limit; "
                    "try again shortly"
                ) from None
            if worker.pid in self._workers and worker.alive():
                return worker
            self._replace(worker)

    def _replace(self, worker, *, reap_later: bool = False) -> str:
        """Kill and reap `worker`, start another in its place; return how it ended.

        With `reap_later` a background thread does all of it: a worker stopped at the time limit
        can take seconds to give back a large heap, forking its successor takes a while on a busy
        machine, and its client is owed the 503 now.
        """
        if reap_later:
            replace = threading.Thread(target=self._replace, args=(worker,), daemon=True)
            replace.start()
            return "killed"
        with self._lock:
            status = worker.kill()
            if self._workers.pop(worker.pid, None) is not None and self._owner == os.getpid():
                self._add()
        return status

    def _add(self) -> None:
        worker = spawn_worker(self._store)
        self._workers[worker.pid] = worker
        self._idle.put(worker)

    def _forget_inherited(self) -> None:
        """Drop worker handles (after close, or ones a forked child inherited from its parent)."""
        self._workers = {}
        self._idle = queue.Queue()
        self._owner = None
