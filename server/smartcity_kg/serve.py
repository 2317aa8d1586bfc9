"""Serve the web app with gunicorn (never Flask's development server).

Gunicorn worker processes (`http_workers`, default 1) with threads answer HTTP; queries run in
each one's own query worker processes (`Config.workers` per gunicorn worker). The store is
opened (or loaded) in the gunicorn master before it forks, so a broken data file
stops the command at once with its message. The engine's query workers are started in the
gunicorn worker after its fork (post_worker_init) and killed when it exits (worker_exit), so
SIGTERM or Ctrl-C to the master leaves no process behind.
"""

import logging
import sys
from collections.abc import Iterable
from pathlib import Path

from gunicorn.app.base import BaseApplication

from .config import Config
from .engine import QueryEngine, query_slots
from .graph import GraphSource
from .preflight import check_served_data
from .web import create_app
from .web.service import check_conformance

LOG_FORMAT = "%(asctime)s [%(process)d] %(name)s: %(message)s"


class GunicornServer(BaseApplication):
    """A gunicorn application serving one ready-made WSGI app with the given settings."""

    def __init__(self, app, options: dict):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            if key in self.cfg.settings:  # skip settings an older gunicorn does not know
                self.cfg.set(key, value)

    def load(self):
        return self.application


def file_sources(paths: Iterable[Path]) -> list[GraphSource]:
    """Return sources for `--data` files: triples go to a graph named by the file's URI.

    Quad files (N-Quads, TriG) keep the graphs they name.
    """
    return [GraphSource(Path(p).resolve().as_uri(), (Path(p),)) for p in paths]


def serve(
    config: Config,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    sources: list[GraphSource] | None = None,
    threads: int | None = None,
    validate: bool = True,
    http_workers: int = 1,
) -> None:
    """Load and validate the data, then run gunicorn until it is stopped.

    Data that does not parse or does not conform stops the command here, before anything
    listens; `validate=False` serves foreign data that our shapes are not about.
    """
    engine = QueryEngine(config, sources)  # a data error stops here, before any logging setup
    conforms = check_served_data(engine.store, sources) if validate else None
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)
    options = {
        "bind": f"{host}:{port}",
        "workers": http_workers,
        "worker_class": "gthread",
        # every query slot (running or waiting) a thread, and 8 more for pages and downloads
        "threads": threads or query_slots(config) + 8,
        "timeout": max(30, int(config.timeout) * 3),
        "graceful_timeout": int(config.timeout) + 5,
        "accesslog": None,  # the app logs one line per request itself
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "smartcity-kg",
        "control_socket_disable": True,  # gunicorn 24+: no control socket in $HOME
        "limit_request_line": 0,  # long GET queries: our own limit (413) applies instead
        "post_worker_init": lambda worker: engine.start(),
        "worker_exit": lambda server, worker: engine.close(),
    }
    app = create_app(config, engine=engine)
    check_conformance(app, conforms)  # before the fork, so that every worker inherits it
    GunicornServer(app, options).run()
