"""Serve the web app with granian's WSGI server (never Flask's development server).

Granian reads HTTP in Rust with async I/O, so a connection that is idle or sends its request
slowly holds no Python thread; the whole request head (line and headers) must arrive within
`header_timeout` seconds, and so must the next request on a kept-alive connection. A request
target over 65,534 bytes is answered 414, and a head that hyper cannot parse within its buffer
(HEAD_BUFFER_BYTES, plus at most one more read of up to as much) 431, both before any Python
runs; longer queries are sent by POST (up to Config.max_query_length characters).

Granian worker processes (`http_workers`, default 1) run the app in threads; queries run in each
one's own query worker processes (`Config.workers` per HTTP worker). The store is opened (or
loaded) and validated in the parent before it forks, so a broken data file stops the command at
once with its message. The engine's query workers are started in each HTTP worker after its fork
and killed when it exits, so SIGTERM or Ctrl-C to the parent leaves no process behind.
"""

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable

from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.server import MPServer

from smartcity_kg.config import Config
from smartcity_kg.errors import InputError
from smartcity_kg.quality.preflight import check_served_data
from smartcity_kg.rdf.files import GraphSource
from smartcity_kg.sparql.engine import QueryEngine, query_slots
from smartcity_kg.web import create_app
from smartcity_kg.web.service import check_conformance

HEADER_TIMEOUT = 10.0  # seconds for a request head to arrive, or for an idle connection to last
HEAD_BUFFER_BYTES = 96 * 1024  # a request head this long is read; over twice it never is (431)
CONNECTIONS_PER_WORKER = 1024  # open connections one HTTP worker serves; more wait to be accepted
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
SPARE_THREADS = 8  # app threads beyond the query slots, for pages and downloads
LOG_FORMAT = "%(asctime)s [%(process)d] %(name)s: %(message)s"
LOGGING = {  # granian applies it in every process: all lines go to stderr, in one format
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": LOG_FORMAT}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stderr",
        }
    },
    "filters": {"threads": {"()": "smartcity_kg.web.serve.ThreadsWarningFilter"}},
    "root": {"handlers": ["stderr"], "level": "INFO"},
    "loggers": {"_granian": {"filters": ["threads"]}},
}


class ThreadsWarningFilter(logging.Filter):
    """Drop granian's warning about many threads: ours mostly wait for a query worker."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Configuration allows spawning up to")


def server_options(
    config: Config,
    *,
    host: str,
    port: int,
    http_workers: int,
    threads: int | None = None,
    header_timeout: float | None = None,
) -> dict:
    """Return granian's settings: HTTP/1 only, bounded heads, a thread per query slot."""
    header_timeout = HEADER_TIMEOUT if header_timeout is None else header_timeout
    if header_timeout <= 0:
        raise InputError(f"the header timeout must be positive, got {header_timeout:g}")
    return {
        "target": "smartcity_kg",  # a name for granian's messages: the app is handed over built
        "address": host,
        "port": port,
        "interface": Interfaces.WSGI,
        "workers": http_workers,
        # every query slot (running or waiting) a thread, and some more for pages and downloads
        "blocking_threads": threads or query_slots(config) + SPARE_THREADS,
        "backpressure": CONNECTIONS_PER_WORKER,  # granian counts connections here, not requests
        # HTTP/1 only: hyper's automatic HTTP/2 detection starts no header timer before a byte
        "http": HTTPModes.http1,
        "http1_settings": HTTP1Settings(
            header_read_timeout=int(header_timeout * 1000), max_buffer_size=HEAD_BUFFER_BYTES
        ),
        "websockets": False,
        "log_dictconfig": LOGGING,
        "log_access": False,  # the app logs one line per request itself
        "respawn_failed_workers": True,  # a worker that dies is replaced; the server goes on
        "workers_kill_timeout": int(config.timeout) + 5,  # running queries may finish
    }


def serve(
    config: Config,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    sources: list[GraphSource] | None = None,
    threads: int | None = None,
    validate: bool = True,
    http_workers: int = 1,
    header_timeout: float | None = None,
) -> None:
    """Load and validate the data, then run granian until it is stopped.

    Data that does not parse or does not conform stops the command here, before anything
    listens; `validate=False` serves foreign data that our shapes are not about.
    """
    options = server_options(config, host=host, port=port, http_workers=http_workers,
                             threads=threads, header_timeout=header_timeout)  # fmt: skip
    engine = QueryEngine(config, sources)  # a data error stops here, before any logging setup
    conforms = check_served_data(engine.store, sources) if validate else None
    app = create_app(config, engine=engine)
    check_conformance(app, conforms)  # before the fork, so that every worker inherits it
    # Fork, never spawn (granian's choice under Python 3.14's default): workers inherit the
    # loaded store and the app, as the query workers do.
    multiprocessing.set_start_method("fork", force=True)
    server = MPServer(**options)
    server.serve(spawn_target=_worker(engine), target_loader=_app_loader(engine, app),
                 wrap_loader=False)  # fmt: skip


def _app_loader(engine: QueryEngine, app) -> Callable:
    """Return what granian calls in each worker after the fork: start the query workers there."""

    def load():
        engine.start()
        return app

    return load


def _worker(engine: QueryEngine) -> Callable:
    """Return granian's WSGI worker, which kills its query workers when it stops or fails."""

    def run(*args, **kwargs):
        _take_stop_signals_in_one_thread()
        try:
            MPServer._spawn_wsgi_worker(*args, **kwargs)
        finally:
            engine.close()

    return run


def _take_stop_signals_in_one_thread() -> None:
    """Block SIGINT and SIGTERM in this worker's threads but one, which runs granian's handler.

    Python runs signal handlers in the main thread only, and granian's worker parks that thread
    on a lock without a timeout: a signal the kernel hands to another thread waits for a wake-up
    that never comes. On a busy machine Ctrl-C (SIGINT to every process, then SIGTERM from
    granian's parent) left the worker serving until it was killed 15 s later, most times. Only
    the first signal is passed on (granian's stop blocks when asked a third time); query workers
    forked later get the signals back.
    """
    inherited = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}  # the parent's handlers
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)  # threads started later inherit it
    os.register_at_fork(
        after_in_child=lambda: signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    )

    def forward():
        sig = signal.sigwait(STOP_SIGNALS)
        while signal.getsignal(sig) is inherited[sig]:  # granian sets its own as the worker starts
            time.sleep(0.05)
        signal.getsignal(sig)(sig, None)

    threading.Thread(target=forward, name="stop-signal", daemon=True).start()
