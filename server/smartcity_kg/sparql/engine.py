"""Run SPARQL queries where they can really be stopped: in worker processes that are killed.

pyoxigraph's `Store.query` cannot be timed out or cancelled, so each query runs in a forked
worker process that inherits the store (config.store: in memory, on disk, or a remote endpoint,
see smartcity_kg.store). The caller waits on the worker's pipe until
the deadline; past it, the worker is killed with SIGKILL and replaced, and the caller gets
QueryTimeout. A worker that dies mid-query gives WorkerCrashed and is replaced likewise.

A fast lane keeps cheap queries quick while expensive ones hold every worker: when no worker
is idle, a query not known to be slow runs on one spare worker for at most
`Config.fast_lane` seconds; past that it is stopped there, its shape (the text without
comments, spacing and variable names) is remembered as slow, and it waits for the main pool
with what is left of its time limit. Queries of a remembered shape go to the main pool.
Results are cut at `Config.max_rows` and say so; identical queries are answered from a cache
(the data never changes while the engine runs).

Usage, from the web app or the CLI::

    engine = QueryEngine(config)              # or QueryEngine(config, sources=[GraphSource(...)])
    engine.inspect(text).kind                  # the checks alone: a web view negotiates by kind
    result = engine.run("SELECT * { ?s ?p ?o }", format=formats.by_name("csv"))
    result.body, result.format.content_type, result.rows, result.truncated, result.etag
    engine.run(named.text, substitutions=named.substitutions)  # a catalog.BoundQuery
    engine.close()                             # or use the engine as a context manager

`run` raises the errors of smartcity_kg.errors: PayloadTooLarge, QueryRefused (SERVICE;
UpdateRefused for updates), QuerySyntaxError (with the parser's position), NotAcceptable,
QueryTimeout, WorkerCrashed; `inspect` raises the first two. The engine is the one place a
query's text is checked and a format's kind is checked against the query's.

Worker processes start on first use or on `start()`; start them in the process that will
serve (after the HTTP server forks), never before a fork.
"""

import hashlib
import logging
import os
import queue
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from gzip import compress
from time import monotonic

import pyoxigraph as ox

from smartcity_kg.config import Config
from smartcity_kg.errors import (
    InputError,
    PayloadTooLarge,
    QueryAborted,
    QueryOutOfMemory,
    QueryTimeout,
    ServerBusy,
)
from smartcity_kg.lru import Lru
from smartcity_kg.rdf import formats, sparql_text
from smartcity_kg.rdf.files import GraphSource
from smartcity_kg.rdf.formats import ResultFormat
from smartcity_kg.sparql.worker import NICENESS, Job, Limits, Reply, spawn_worker
from smartcity_kg.store.local import for_queries, open_store

Term = ox.NamedNode | ox.BlankNode | ox.Literal

__all__ = ["ProtocolDataset", "QueryEngine", "QueryResult", "query_id", "query_slots"]

log = logging.getLogger(__name__)

CACHE_MAX_BODY = 4_000_000  # bytes; larger results are not kept, so the cache stays bounded
# Requests that may wait for a busy pool, per worker; more get ServerBusy (503) at once, so that
# slow queries from many clients cannot hold every HTTP thread (serve sizes its threads by this).
WAITING_PER_WORKER = 16
SLOW_SHAPES_REMEMBERED = 4096  # shapes of queries that outran the fast lane (digests, bounded)
FAULTS_REMEMBERED = 1024  # queries that killed their worker (out of memory, an abort), by shape
FAST_LANE_NICENESS = 5  # below the main workers' (worker.NICENESS) so that it gets a core


@dataclass(frozen=True)
class ProtocolDataset:
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


def query_slots(config: Config) -> int:
    """Return how many queries can be running or waiting at once (serve sizes threads by it)."""
    workers = config.workers + (1 if config.fast_lane else 0)
    return workers * (1 + WAITING_PER_WORKER)


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
        self.store = store  # a pyoxigraph Store, or a smartcity_kg.store view of a directory or URL
        self._cache = _ResultCache(self.config.cache_bytes)
        queries = for_queries(self.store, self.config.timeout)
        timeout = self.config.timeout
        limits = Limits.for_store(self.config, self.store)  # SandboxUnavailable stops it here
        self._pool = _Pool(queries, self.config.workers, timeout, limits=limits)
        self._fast = (
            _Pool(queries, 1, timeout, niceness=FAST_LANE_NICENESS, limits=limits)
            if self.config.fast_lane
            else None
        )
        self._slow = _ShapeMemory(SLOW_SHAPES_REMEMBERED)
        self._faults = Lru(FAULTS_REMEMBERED)  # _fault_key -> (error class, message)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def start(self) -> None:
        """Start the worker processes now (else the first query starts them)."""
        for pool in self._pools():
            pool.start()

    def close(self) -> None:
        """Kill and reap every worker process; the engine can be started again."""
        for pool in self._pools():
            pool.close()

    @property
    def worker_pids(self) -> list[int]:
        """Return the process ids of the main pool's workers (for health checks and tests)."""
        return self._pool.pids()

    @property
    def fast_lane_pids(self) -> list[int]:
        """Return the process id of the fast lane's worker, if it runs."""
        return self._fast.pids() if self._fast else []

    def _pools(self) -> list["_Pool"]:
        return [self._pool, self._fast] if self._fast else [self._pool]

    def run(
        self,
        query: str,
        *,
        format: ResultFormat | None = None,
        dataset: ProtocolDataset = ProtocolDataset(),
        substitutions: Mapping[ox.Variable, Term] | None = None,
    ) -> QueryResult:
        """Run a read-only query with the time and row limits; return its serialised result.

        `format` None means the default for the query's kind. An empty `dataset` means the
        query's own FROM clauses, or else the union of all graphs as the default graph.
        `substitutions` pre-binds variables before evaluation (Store.query's own binding; a
        SELECT must project them): a named query's parameters. They are part of the cache key.
        """
        started = monotonic()
        info = self.inspect(query)
        if info.kind is not None:  # else the worker's result decides (and checks `format`)
            format = (
                formats.check_kind(format, info.kind)
                if format
                else formats.default_format(info.kind)
            )
        bound = tuple((substitutions or {}).items())
        key = (query, format, dataset, _binding_key(bound))
        if hit := self._cache.get(key):
            return replace(hit, cached=True, elapsed=monotonic() - started)
        job = Job(
            query=query,
            format=format,
            default_graphs=dataset.default_graphs,
            named_graphs=dataset.named_graphs,
            union=not dataset and not info.dataset,
            max_rows=self.config.max_rows,
            alarm=int(self.config.timeout) + 3,
            substitutions=bound,
            base_iri=self.config.base_iri,
        )
        result = self._result(self._execute(job, monotonic() + self.config.timeout))
        self._cache.put(key, result)
        return replace(result, elapsed=monotonic() - started)

    def _execute(self, job: Job, deadline: float) -> Reply:
        """Run `job`, or refuse it at once if the same query killed its worker before.

        A query that ran out of memory or made pyoxigraph abort would again: repeats (a client
        retrying, a page reloaded) must not cost a worker each.
        """
        key = _fault_key(job)
        if known := self._faults.get(key):
            error_class, message = known
            raise error_class(f"{message} (refused without running: it failed so before)")
        try:
            reply = self._dispatch(job, deadline)
        except (QueryOutOfMemory, QueryAborted) as error:
            self._faults.put(key, (type(error), error.message))
            raise
        if reply.error is not None and reply.error_kind == "memory":
            self._faults.put(key, (reply.error_class, reply.error))
        return reply

    def _dispatch(self, job: Job, deadline: float) -> Reply:
        """Run `job` on an idle worker, or on the fast lane unless its shape is known slow."""
        if not self._pool.running:
            self.start()
        if self._fast is not None and not self._pool.has_idle():
            shape = (sparql_text.shape_digest(job.query), _binding_key(job.substitutions))
            if shape not in self._slow:
                lane = self.config.fast_lane
                try:  # a query that waited while one of its shape outran the lane skips it
                    return self._fast.execute(
                        job, deadline, budget=lane, skip=lambda: shape in self._slow
                    )
                except _OverBudget:
                    self._slow.add(shape)
                    log.info("query %s outran the fast lane", query_id(job.query))
                except (_NoWorker, ServerBusy):
                    pass  # the lane is busy too: wait for the main pool like any query
        return self._pool.execute(job, deadline)

    def inspect(self, query: str) -> sparql_text.QueryInfo:
        """Return what the text shows (its form, so its result kind), having refused what must
        never reach a worker: oversized text, updates, SERVICE, nesting past the parsers' limits.

        `run` calls it too; the reading is cached (sparql_text.inspect), so a view that inspects
        first to negotiate a format does not read the text twice.
        """
        if len(query) > self.config.max_query_length:
            raise PayloadTooLarge(
                f"query is {len(query)} characters; the limit is {self.config.max_query_length}"
            )
        info = sparql_text.inspect(query)
        sparql_text.check_allowed(info)
        return info

    def _result(self, reply: Reply) -> QueryResult:
        """Turn a worker's reply into a QueryResult, or raise the error it reports."""
        if reply.error is not None:
            raise reply.error_class(reply.error)
        return QueryResult(
            body=reply.body,
            format=reply.format,
            rows=reply.rows,
            truncated=reply.truncated,
            limit=self.config.max_rows,
            etag=reply.etag,
        )


def _fault_key(job: Job) -> tuple:
    """Return what decides whether a job fails as one did before: all of it but its limits."""
    query = sparql_text.shape_digest(job.query, keep_values=True)  # a shape alone may be cheap
    return (query, _binding_key(job.substitutions), job.format,
            job.default_graphs, job.named_graphs, job.union)  # fmt: skip


def _binding_key(bound: tuple) -> tuple[tuple[str, str], ...]:
    """Return substitutions as a cache key: each variable and term in SPARQL syntax, sorted."""
    return tuple(sorted((str(variable), str(term)) for variable, term in bound))


def _charge(result: QueryResult) -> int:
    """Return what a cached result may hold: its body and room for its gzip copy (never larger)."""
    return 2 * len(result.body) + 1024


class _ResultCache(Lru):
    """Results by request, bounded in bytes; a body over CACHE_MAX_BODY is never kept."""

    def __init__(self, budget: int):
        super().__init__(budget, weigh=_charge)

    def put(self, key, result: QueryResult) -> bool:
        return len(result.body) <= CACHE_MAX_BODY and super().put(key, result)


class _ShapeMemory(Lru):
    """A bounded set of query shapes (digest and bound terms), the least recently seen first out.

    A named query's text is the same for every binding, so its terms are part of its shape.
    """

    def add(self, shape) -> None:
        self.put(shape, True)


class _NoWorker(Exception):
    """A job gave up the worker it waited for (its `skip` said so)."""


class _OverBudget(Exception):
    """A job ran past the budget it was given (before the deadline); its worker was replaced."""


class _Pool:
    """Worker processes handed out through a queue; a request never waits holding a lock."""

    def __init__(
        self,
        store: ox.Store,
        size: int,
        timeout: float,
        *,
        niceness: int = NICENESS,
        limits: Limits,
    ):
        self._store = store
        self._size = size
        self._timeout = timeout  # the time limit, for messages
        self._niceness = niceness
        self._limits = limits
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
            try:
                for _ in range(self._size):
                    self._add()
            except BaseException:  # SandboxUnavailable: no worker may run; the next try starts anew
                for worker in list(self._workers.values()):
                    worker.kill()
                self._forget_inherited()
                raise

    def close(self) -> None:
        with self._lock:
            if self._owner == os.getpid():
                for worker in list(self._workers.values()):
                    worker.kill()
            self._forget_inherited()

    def pids(self) -> list[int]:
        return sorted(self._workers) if self._owner == os.getpid() else []

    @property
    def running(self) -> bool:
        """Return True once this process started the workers (a forked child must start its own)."""
        return self._owner == os.getpid()

    def has_idle(self) -> bool:
        return not self._idle.empty()

    def execute(
        self, job: Job, deadline: float, *, budget: float | None = None, skip=None
    ) -> Reply:
        """Run one job on an idle worker and return its reply by `deadline` (monotonic).

        `budget` limits the run once started (else _OverBudget); past the deadline itself the
        error is QueryTimeout. `skip()` true once a worker is free gives _NoWorker instead.
        """
        if not self.running:
            self.start()
        worker = self._acquire(deadline)
        if skip is not None and skip():
            self._idle.put(worker)
            raise _NoWorker
        stop = deadline if budget is None else min(deadline, monotonic() + budget)
        try:
            worker.send(job)
            if not worker.wait(stop - monotonic()):
                self._replace(worker, reap_later=True)
                if stop < deadline:
                    raise _OverBudget
                log.warning("query worker %d stopped at the time limit", worker.pid)
                raise QueryTimeout(
                    f"the query ran past the {self._timeout:g} s time limit and was stopped; "
                    "narrow it (more specific patterns, LIMIT) and try again"
                )
            reply = worker.receive()
        except (EOFError, OSError):
            how = self._replace(worker)
            raise worker.death(how, self._limits) from None  # its stderr tells why
        self._idle.put(worker)
        return reply

    def _acquire(self, deadline: float):
        """Take an idle worker, or refuse at once when too many requests already wait for one."""
        with self._gate:
            if self._waiting >= WAITING_PER_WORKER * self._size:
                raise ServerBusy(
                    f"all {self._size} query workers are busy and {self._waiting} queries are "
                    "waiting for one; try again shortly"
                )
            self._waiting += 1
        try:
            return self._take(deadline)
        finally:
            with self._gate:
                self._waiting -= 1

    def _take(self, deadline: float):
        """Take an idle worker, replacing any that died while idle."""
        while True:
            try:
                worker = self._idle.get(timeout=max(0.0, deadline - monotonic()))
            except queue.Empty:
                raise QueryTimeout(
                    f"every query worker stayed busy for the {self._timeout:g} s time limit; "
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
        worker.stop()  # at once: it must not use a core while its successor is forked
        if reap_later:
            replace = threading.Thread(target=self._replace, args=(worker,), daemon=True)
            replace.start()
            return "killed"
        with self._lock:
            if self._workers.pop(worker.pid, None) is not None and self._owner == os.getpid():
                self._add()
        return worker.kill()  # the successor is ready; reaping may wait for a large heap

    def _add(self) -> None:
        worker = spawn_worker(self._store, niceness=self._niceness, limits=self._limits)
        self._workers[worker.pid] = worker
        self._idle.put(worker)

    def _forget_inherited(self) -> None:
        """Drop worker handles (after close, or ones a forked child inherited from its parent)."""
        self._workers = {}
        self._idle = queue.Queue()
        self._owner = None
