"""One query worker process: forked with the store, answers jobs over a pipe until told to stop.

The parent side is a WorkerHandle; the child side runs `answer` for each Job it receives.
A child closes every file descriptor it inherited except its pipe (so it never holds a client's
socket or the listening socket open), ignores Ctrl-C (the parent decides when it stops), exits
when its pipe closes, and arms SIGALRM for each job so that it dies on its own a few seconds
past the limit even if its parent is gone.

Before it answers anything a child confines itself (`Limits`): over a local store the kernel
refuses it any network socket (sandbox.py), and what a query may newly allocate is capped with
RLIMIT_DATA. Its stderr is a pipe the parent reads when it dies, to tell a query that ran out of
memory or made pyoxigraph abort (and would again) from a worker killed from outside.
"""

import contextlib
import hashlib
import io
import itertools
import logging
import os
import re
import resource
import signal
import threading
import warnings
from dataclasses import dataclass
from multiprocessing import Pipe
from multiprocessing.connection import Connection

import pyoxigraph as ox

from smartcity_kg.config import ENV_PREFIX, Config
from smartcity_kg.errors import (
    NotAcceptable,
    QueryAborted,
    QueryFailed,
    QueryOutOfMemory,
    QuerySyntaxError,
    QueryTimeout,
    SandboxUnavailable,
    SmartcityKgError,
    StoreUnavailable,
    StoreUnreadable,
    WorkerCrashed,
    one_line,
)
from smartcity_kg.rdf import formats
from smartcity_kg.rdf.formats import ResultFormat, ResultKind
from smartcity_kg.sparql import sandbox
from smartcity_kg.store.remote import RemoteStore

log = logging.getLogger(__name__)

# Workers run at a lower CPU priority than the process answering HTTP, so that queries running
# to their time limit on every core do not slow pages, downloads and cached answers.
NICENESS = 10


ERROR_CLASSES = {"syntax": QuerySyntaxError, "format": NotAcceptable, "failed": QueryFailed,
                 "timeout": QueryTimeout, "unavailable": StoreUnavailable,
                 "memory": QueryOutOfMemory, "unreadable": StoreUnreadable}  # fmt: skip

QUERY_STACK_BYTES = 1 << 30  # virtual; a query of max_query_length characters fits
START_TIMEOUT = 30.0  # seconds a new worker may take to confine itself and say so
# Deaths that are not the query's doing (an operator, the kernel's OOM killer, our own alarm):
# only after these may the same query be retried.
EXTERNAL_SIGNALS = {signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGALRM}
OUT_OF_MEMORY = ("memory allocation of", "MemoryError")  # Rust's abort message, Python's error


@dataclass(frozen=True)
class Limits:
    """What a worker may do besides answering: reach the network, and how much memory to use."""

    network: bool = False  # True only over a remote store, whose requests the worker makes
    memory: int | None = None  # bytes a query may newly allocate; None: no cap

    @classmethod
    def for_store(cls, config: Config, store) -> "Limits":
        """Return the limits of workers over `store`; raise SandboxUnavailable now if need be.

        Over a local store the network is taken away unless `config.network_sandbox` is off; a
        machine that cannot do it stops the server at start rather than serve unconfined.
        """
        network = isinstance(store, RemoteStore) or not config.network_sandbox
        if not network:
            try:
                sandbox.check_supported()
            except SandboxUnavailable as error:
                raise SandboxUnavailable(_unconfined(error.message)) from None
        return cls(network=network, memory=config.worker_memory)


def memory_message(limit: int) -> str:
    """Say which limit stopped a query and which setting raises it."""
    return (
        f"the query needed more than the {_size(limit)} of memory a query may use "
        f"({ENV_PREFIX}WORKER_MEMORY) and was stopped; narrow it (more specific patterns, "
        "shorter strings, LIMIT) and try again"
    )


def _size(size: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift} {unit}"
    return f"{size} bytes"


def _unconfined(reason: str) -> str:
    return (
        f"query workers cannot be cut off from the network: {reason}; set "
        f"{ENV_PREFIX}NETWORK_SANDBOX=false to run them without it (SERVICE is then refused by "
        "the query text check alone)"
    )


@dataclass(frozen=True)
class Job:
    """One query for a worker, with everything it needs to run and serialise it."""

    query: str
    format: ResultFormat | None  # None: the default for the result's kind (pickled by name)
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    union: bool  # use the union of all graphs as the default graph
    max_rows: int
    alarm: int  # seconds after which the worker kills itself
    # (variable, term) pairs pre-bound by Store.query (a named query's parameters)
    substitutions: tuple[tuple[ox.Variable, ox.NamedNode | ox.Literal], ...] = ()
    base_iri: str | None = None  # what a relative IRI in the query (`<x>`) resolves against

    def options(self) -> dict:
        """Return the keyword arguments of Store.query: this job's dataset and bound terms."""
        options = {"substitutions": dict(self.substitutions)} if self.substitutions else {}
        if self.base_iri:
            options["base_iri"] = self.base_iri
        if self.union:
            return {**options, "use_default_graph_as_union": True}
        if self.default_graphs or self.named_graphs:
            return {
                **options,
                "default_graph": [ox.NamedNode(g) for g in self.default_graphs],
                "named_graphs": [ox.NamedNode(g) for g in self.named_graphs],
            }
        return options  # the query's own FROM / FROM NAMED clauses decide


@dataclass(frozen=True)
class Reply:
    """A worker's answer: a serialised result, or an error kind and message."""

    body: bytes = b""
    format: ResultFormat | None = None  # None with an error
    rows: int = 0
    truncated: bool = False
    etag: str = ""
    error: str | None = None
    error_kind: str = "failed"

    @property
    def error_class(self) -> type[SmartcityKgError]:
        return ERROR_CLASSES[self.error_kind]


def answer(store: ox.Store, job: Job, *, memory: int | None = None) -> Reply:
    """Run and serialise one job; report failures as a Reply rather than raising.

    `memory` is the worker's memory limit, named when Python runs out of it.
    """
    try:
        return _serialise(store.query(job.query, **job.options()), job)
    except MemoryError:
        return Reply(error=memory_message(memory) if memory else "out of memory",
                     error_kind="memory")  # fmt: skip
    except SyntaxError as error:
        return Reply(error=_syntax_message(str(error)), error_kind="syntax")
    except NotAcceptable as error:
        return Reply(error=error.message, error_kind="format")
    except QueryTimeout as error:  # a remote store's own time limit
        return Reply(error=error.message, error_kind="timeout")
    except StoreUnreadable as error:
        return Reply(error=error.message, error_kind="unreadable")
    except StoreUnavailable as error:
        return Reply(error=error.message, error_kind="unavailable")
    except Exception as error:  # the process boundary: whatever the engine raised, say so
        if _is_storage_error(error):  # the log has the details, the client a clear 503
            log.error("the store cannot be read: %s", one_line(str(error)))
            return Reply(error=StoreUnreadable.damaged().message, error_kind="unreadable")
        return Reply(error=f"the query failed: {error}", error_kind="failed")


def _is_storage_error(error: Exception) -> bool:
    """Return True for RocksDB's reports of a damaged store, whatever class pyoxigraph gives them.

    Not any OSError: a SERVICE call refused by the sandbox is one too ("Permission denied").
    """
    return str(error).startswith(("Corruption", "IO error"))


def _syntax_message(detail: str) -> str:
    """Spell pyoxigraph's 'error at L:C: ...' as a sentence with the line and column."""
    match = re.match(r"error at (\d+):(\d+): (.*)", detail, re.DOTALL)
    if match:
        line, column, rest = match.groups()
        return f"SPARQL syntax error at line {line}, column {column}: {rest}"
    return f"SPARQL syntax error: {detail}"


def _serialise(result, job: Job) -> Reply:
    """Serialise at most max_rows solutions or triples; a cut result says it was cut."""
    if isinstance(result, ox.QueryBoolean):
        fmt = _format(job, ResultKind.SOLUTIONS)
        return _reply(result.serialize(format=fmt.oxigraph), fmt, 1, False)
    if isinstance(result, ox.QuerySolutions):
        fmt = _format(job, ResultKind.SOLUTIONS)
        body, lines, truncated = _line_stream(result, ox.QueryResultsFormat.TSV, job.max_rows + 1)
        if fmt.oxigraph != ox.QueryResultsFormat.TSV:
            parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.TSV)
            body = parsed.serialize(format=fmt.oxigraph)
        return _reply(body, fmt, lines - 1, truncated)  # less the header line
    fmt = _format(job, ResultKind.GRAPH)
    if isinstance(result, ox.QueryTriples):
        body, lines, truncated = _line_stream(result, ox.RdfFormat.N_TRIPLES, job.max_rows)
        if fmt.oxigraph != ox.RdfFormat.N_TRIPLES:
            triples = ox.parse(body, format=ox.RdfFormat.N_TRIPLES)
            body = _write_triples(triples, fmt)
        return _reply(body, fmt, lines, truncated)
    items = list(itertools.islice(result, job.max_rows + 1))  # a remote store's triples
    truncated = len(items) > job.max_rows
    del items[job.max_rows :]
    return _reply(_write_triples(items, fmt), fmt, len(items), truncated)


def _write_triples(triples, fmt: ResultFormat) -> bytes:
    """Serialise triples in `fmt`; a format that cannot hold them is the client's choice (406).

    pyoxigraph 0.5's JSON-LD writer refuses RDF 1.2 triple terms (`<<( s p o )>>`) with OSError.
    """
    try:
        return ox.serialize(triples, format=fmt.oxigraph)
    except (OSError, ValueError) as error:
        others = ", ".join(f.name for f in formats.formats_for(ResultKind.GRAPH) if f != fmt)
        raise NotAcceptable(
            f"this result cannot be written as {fmt.name!r} ({fmt.media_type}): {error}; "
            f"choose another format: {others}"
        ) from None


def _format(job: Job, kind: ResultKind) -> ResultFormat:
    """Return the job's format for a result of `kind`.

    The engine has checked it against the form the query's text shows; the result's own kind
    decides only when the text's form could not be read (`ASKWHERE{}` parses as ASK).
    """
    if job.format is None:
        return formats.default_format(kind)
    return formats.check_kind(job.format, kind)


class _Enough(Exception):
    """Raised from inside pyoxigraph's serialiser to stop it once the row limit is passed."""


class _LineCutter:
    """A file for pyoxigraph to serialise into that keeps only the first `limit` lines.

    In TSV results and N-Triples every solution or triple is one line (newlines in literals
    are escaped), so counting lines counts rows. Serialising in pyoxigraph and cutting the
    bytes keeps Python out of the per-row work; raising stops the query's evaluation too.
    """

    def __init__(self, limit: int):
        self.limit = limit
        self.lines = 0
        self.chunks: list[bytes] = []
        self.cut = False

    def write(self, chunk) -> int:
        chunk = bytes(chunk)
        lines = chunk.count(b"\n")
        if self.lines + lines > self.limit:
            end = -1
            for _ in range(self.limit - self.lines):
                end = chunk.index(b"\n", end + 1)
            self.chunks.append(chunk[: end + 1])
            self.lines = self.limit
            self.cut = True
            raise _Enough
        self.chunks.append(chunk)
        self.lines += lines
        return len(chunk)

    def flush(self) -> None:
        pass


def _line_stream(result, line_format, limit: int) -> tuple[bytes, int, bool]:
    """Serialise `result` in a line-per-row format cut after `limit` lines.

    Return the bytes, the lines kept and whether any were left out. pyoxigraph may report the
    exception raised from `write` in its own words, so the cutter's flag says what happened.
    """
    cutter = _LineCutter(limit)
    try:
        result.serialize(cutter, format=line_format)
    except Exception:
        if not cutter.cut:
            raise
    return b"".join(cutter.chunks), cutter.lines, cutter.cut


def _reply(body: bytes, fmt: ResultFormat, rows: int, truncated: bool) -> Reply:
    etag = hashlib.blake2b(body, digest_size=12).hexdigest()
    return Reply(body=body, format=fmt, rows=rows, truncated=truncated, etag=etag)


class WorkerHandle:
    """The parent's end of one worker process: its pipe, and the read end of its stderr."""

    def __init__(self, pid: int, conn: Connection, stderr: io.FileIO):
        self.pid = pid
        self.conn = conn
        self.stderr = stderr  # non-blocking; drained before each job, read after a death
        self.status: int | None = None  # os.waitpid's status once reaped
        self.last_words = ""  # what it wrote to stderr since its last job, read when reaped

    def send(self, job: Job) -> None:
        if words := self._read_stderr():  # a warning between jobs: pass it on, keep the pipe free
            log.warning("query worker %d wrote: %s", self.pid, words[:2000])
        self.conn.send(job)

    def wait(self, timeout: float) -> bool:
        """Return True once a reply (or the worker's death) can be read, False on timeout."""
        return self.conn.poll(max(0.0, timeout))

    def receive(self) -> Reply:
        return self.conn.recv()

    def alive(self) -> bool:
        """Return False if an idle worker's pipe shows it has died."""
        return not self.conn.closed and not self.conn.poll(0)

    def stop(self) -> None:
        """Send SIGKILL without waiting; `kill` reaps the process later."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def kill(self) -> str:
        """Kill and reap the process; return how it ended, for messages."""
        self.stop()
        try:
            _, self.status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            self.status = None
        self.conn.close()
        if not self.stderr.closed:  # kill may come twice (close() racing a request's _replace)
            self.last_words = self._read_stderr()
            self.stderr.close()
        if self.status is None:
            return "already reaped"
        if os.WIFSIGNALED(self.status):
            return f"killed by signal {os.WTERMSIG(self.status)}"
        return f"exit status {os.waitstatus_to_exitcode(self.status)}"

    def death(self, how: str, limits: "Limits") -> SmartcityKgError:
        """Return the error for a query whose worker died (reaped by `kill`, which said `how`).

        QueryOutOfMemory and QueryAborted mean the query itself killed it and would again;
        WorkerCrashed means something else did (SIGKILL from outside), so a retry may work.
        """
        if limits.memory is not None and any(m in self.last_words for m in OUT_OF_MEMORY):
            log.warning("query worker %d ran out of memory (%s)", self.pid, how)
            return QueryOutOfMemory(memory_message(limits.memory))
        if self.status is None or (
            os.WIFSIGNALED(self.status) and os.WTERMSIG(self.status) in EXTERNAL_SIGNALS
        ):
            return WorkerCrashed(
                f"the query worker process died while running the query ({how}); "
                "it has been replaced, and the query may be retried"
            )
        log.warning("query worker %d died (%s): %s", self.pid, how, self.last_words[:4000])
        panic = re.search(r"panicked at [^\n]*\n([^\n]+)", self.last_words)
        said = f": {one_line(panic.group(1))[:200]}" if panic else ""
        return QueryAborted(
            f"the query made the query engine fail ({how}{said}); its worker was replaced, and "
            "this query will not be run again: change it, or report it if it looks valid"
        )

    def wait_started(self) -> None:
        """Wait for the child to confine itself; raise if it cannot or does not in time."""
        if not self.conn.poll(START_TIMEOUT):
            how = self.kill()
            raise WorkerCrashed(f"a query worker did not start in {START_TIMEOUT:g} s ({how})")
        try:
            refusal = self.conn.recv()
        except EOFError:
            how = self.kill()
            raise WorkerCrashed(f"a query worker died as it started ({how}): "
                                f"{one_line(self.last_words)[:500]}") from None  # fmt: skip
        if refusal is not None:
            self.kill()
            raise SandboxUnavailable(refusal)

    def _read_stderr(self) -> str:
        """Return what the idle or dead worker wrote since the last read: at most a pipe's worth."""
        chunks = []
        with contextlib.suppress(OSError, ValueError):  # ValueError: closed
            while chunk := self.stderr.read(1 << 16):  # None: nothing more for now; b"": EOF
                chunks.append(chunk)
        return b"".join(chunks).decode("utf-8", "replace")


def spawn_worker(
    store: ox.Store, *, niceness: int = NICENESS, limits: Limits = Limits()
) -> WorkerHandle:
    """Fork a worker that inherits `store`; return the parent's handle once it is confined.

    Raise SandboxUnavailable if the child cannot take the network away from itself.
    """
    parent, child = Pipe()
    stderr, child_stderr = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork in a threaded process. The child only runs
        # _child_main, which takes no lock another thread could hold, then os._exit.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        _child_main(child, store, niceness, limits, child_stderr)
    child.close()
    os.close(child_stderr)
    os.set_blocking(stderr, False)
    handle = WorkerHandle(pid, parent, io.FileIO(stderr, "r"))
    handle.wait_started()
    return handle


def _child_main(conn: Connection, store: ox.Store, niceness: int, limits: Limits, stderr: int):
    """Answer jobs until the pipe closes; never return into the parent's code."""
    code = [1]
    try:
        os.dup2(stderr, 2)
        os.set_blocking(2, False)  # a full pipe loses words rather than hang the worker
        _isolate(conn.fileno(), niceness)
        try:
            _confine(limits)
        except SandboxUnavailable as error:
            conn.send(error.message)  # the parent raises it; this child serves nothing
            return
        conn.send(None)
        # pyoxigraph's parser and evaluator recurse once per level of nesting (`{{{…`, `((…`)
        # and per link of a long chain (`1+1+…`, `{} UNION {} …`): on the main thread's 8 MiB
        # a query well under max_query_length overflows the stack and the worker dies with
        # SIGSEGV. The jobs run on a thread whose stack is reserved (not used) up front.
        threading.stack_size(QUERY_STACK_BYTES)
        jobs = threading.Thread(target=_answer_jobs, args=(conn, store, code, limits.memory))
        jobs.start()
        jobs.join()
    finally:
        os._exit(code[0])


def _answer_jobs(conn: Connection, store: ox.Store, code: list[int], memory: int | None) -> None:
    while True:
        try:
            job = conn.recv()
        except EOFError:
            code[0] = 0
            return
        signal.alarm(job.alarm)
        reply = answer(store, job, memory=memory)
        signal.alarm(0)
        conn.send(reply)


def _confine(limits: Limits) -> None:
    """Apply `limits` to this process before any thread starts, or raise SandboxUnavailable.

    RLIMIT_DATA, not RLIMIT_AS: it counts what the process writes to (heap, anonymous maps,
    thread stacks), not file mappings of an on-disk store nor address space merely reserved,
    so the budget is memory a query can really take. It starts from what the worker already
    holds when forked (its share of the store) plus the jobs thread's reserved stack.
    """
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort must not dump a copy of the store
    if limits.memory is not None:
        try:
            _cap_memory(limits.memory)
        except (OSError, ValueError) as error:
            raise SandboxUnavailable(
                f"query workers cannot be held to {ENV_PREFIX}WORKER_MEMORY: {error}"
            ) from None
    if not limits.network:
        try:
            sandbox.forbid_network()
        except SandboxUnavailable as error:
            raise SandboxUnavailable(_unconfined(error.message)) from None


def _cap_memory(memory: int) -> None:
    budget = _data_bytes() + QUERY_STACK_BYTES + memory
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    budget = budget if hard == resource.RLIM_INFINITY else min(budget, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (budget, budget))


def _data_bytes() -> int:
    """Return this process's data size (VmData: what RLIMIT_DATA counts)."""
    with open("/proc/self/status", "rb") as status:
        for line in status:
            if line.startswith(b"VmData:"):
                return int(line.split()[1]) * 1024
    raise OSError("/proc/self/status has no VmData line")


def _isolate(keep_fd: int, niceness: int) -> None:
    """Close inherited descriptors, undo the parent's signal handling, lower the priority."""
    os.closerange(3, keep_fd)
    os.closerange(keep_fd + 1, os.sysconf("SC_OPEN_MAX"))
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2,
                signal.SIGWINCH, signal.SIGCHLD, signal.SIGALRM, signal.SIGABRT):  # fmt: skip
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(niceness)
