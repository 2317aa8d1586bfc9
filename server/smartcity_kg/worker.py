"""One query worker process: forked with the store, answers jobs over a pipe until told to stop.

The parent side is a WorkerHandle; the child side runs `answer` for each Job it receives.
A child closes every file descriptor it inherited except its pipe (so it never holds a client's
socket or the listening socket open), ignores Ctrl-C (the parent decides when it stops), exits
when its pipe closes, and arms SIGALRM for each job so that it dies on its own a few seconds
past the limit even if its parent is gone.
"""

import contextlib
import hashlib
import itertools
import os
import re
import signal
import threading
import warnings
from dataclasses import dataclass
from multiprocessing import Pipe
from multiprocessing.connection import Connection

import pyoxigraph as ox

from . import formats
from .errors import (
    NotAcceptable,
    QuerySyntaxError,
    QueryTimeout,
    SmartcityKgError,
    StoreUnavailable,
)
from .formats import ResultFormat, ResultKind

# Workers run at a lower CPU priority than the process answering HTTP, so that queries running
# to their time limit on every core do not slow pages, downloads and cached answers.
NICENESS = 10


class QueryFailed(SmartcityKgError):
    """The query engine reported an error while evaluating a query."""


ERROR_CLASSES = {"syntax": QuerySyntaxError, "format": NotAcceptable, "failed": QueryFailed,
                 "timeout": QueryTimeout, "unavailable": StoreUnavailable}  # fmt: skip

QUERY_STACK_BYTES = 1 << 30  # virtual; a query of max_query_length characters fits


@dataclass(frozen=True)
class Job:
    """One query for a worker, with everything it needs to run and serialise it."""

    query: str
    format_name: str | None  # None: the default format for the result's kind
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    union: bool  # use the union of all graphs as the default graph
    max_rows: int
    alarm: int  # seconds after which the worker kills itself
    # (variable, term) pairs pre-bound by Store.query (a named query's parameters)
    substitutions: tuple[tuple[ox.Variable, ox.NamedNode | ox.Literal], ...] = ()

    def options(self) -> dict:
        """Return the keyword arguments of Store.query: this job's dataset and bound terms."""
        options = {"substitutions": dict(self.substitutions)} if self.substitutions else {}
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
    format_name: str = ""
    rows: int = 0
    truncated: bool = False
    etag: str = ""
    error: str | None = None
    error_kind: str = "failed"

    @property
    def error_class(self) -> type[SmartcityKgError]:
        return ERROR_CLASSES[self.error_kind]


def answer(store: ox.Store, job: Job) -> Reply:
    """Run and serialise one job; report failures as a Reply rather than raising."""
    try:
        return _serialise(store.query(job.query, **job.options()), job)
    except SyntaxError as error:
        return Reply(error=_syntax_message(str(error)), error_kind="syntax")
    except NotAcceptable as error:
        return Reply(error=error.message, error_kind="format")
    except QueryTimeout as error:  # a remote store's own time limit
        return Reply(error=error.message, error_kind="timeout")
    except StoreUnavailable as error:
        return Reply(error=error.message, error_kind="unavailable")
    except Exception as error:  # the process boundary: whatever the engine raised, say so
        return Reply(error=f"the query failed: {error}", error_kind="failed")


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
            body = ox.serialize(triples, format=fmt.oxigraph)
        return _reply(body, fmt, lines, truncated)
    items = list(itertools.islice(result, job.max_rows + 1))  # a remote store's triples
    truncated = len(items) > job.max_rows
    del items[job.max_rows :]
    return _reply(ox.serialize(items, format=fmt.oxigraph), fmt, len(items), truncated)


def _format(job: Job, kind: ResultKind) -> ResultFormat:
    if job.format_name is None:
        return formats.default_format(kind)
    return formats.check_kind(formats.by_name(job.format_name), kind)


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
    return Reply(body=body, format_name=fmt.name, rows=rows, truncated=truncated, etag=etag)


class WorkerHandle:
    """The parent's end of one worker process."""

    def __init__(self, pid: int, conn: Connection):
        self.pid = pid
        self.conn = conn

    def send(self, job: Job) -> None:
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
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            status = None
        self.conn.close()
        if status is None:
            return "already reaped"
        if os.WIFSIGNALED(status):
            return f"killed by signal {os.WTERMSIG(status)}"
        return f"exit status {os.waitstatus_to_exitcode(status)}"


def spawn_worker(store: ox.Store, *, niceness: int = NICENESS) -> WorkerHandle:
    """Fork a worker that inherits `store`; return the parent's handle to it."""
    parent, child = Pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork in a threaded process. The child only runs
        # _child_main, which takes no lock another thread could hold, then os._exit.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        _child_main(child, store, niceness)
    child.close()
    return WorkerHandle(pid, parent)


def _child_main(conn: Connection, store: ox.Store, niceness: int):
    """Answer jobs until the pipe closes; never return into the parent's code."""
    code = [1]
    try:
        _isolate(conn.fileno(), niceness)
        # pyoxigraph's parser and evaluator recurse once per level of nesting (`{{{…`, `((…`)
        # and per link of a long chain (`1+1+…`, `{} UNION {} …`): on the main thread's 8 MiB
        # a query well under max_query_length overflows the stack and the worker dies with
        # SIGSEGV. The jobs run on a thread whose stack is reserved (not used) up front.
        threading.stack_size(QUERY_STACK_BYTES)
        jobs = threading.Thread(target=_answer_jobs, args=(conn, store, code))
        jobs.start()
        jobs.join()
    finally:
        os._exit(code[0])


def _answer_jobs(conn: Connection, store: ox.Store, code: list[int]) -> None:
    while True:
        try:
            job = conn.recv()
        except EOFError:
            code[0] = 0
            return
        signal.alarm(job.alarm)
        reply = answer(store, job)
        signal.alarm(0)
        conn.send(reply)


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
