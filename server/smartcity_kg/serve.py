"""Serve the web app with gunicorn (never Flask's development server).

One gunicorn worker process with threads answers HTTP; queries run in the engine's own worker
processes. The store is loaded in the gunicorn master before it forks, so a broken data file
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
from .engine import QueryEngine
from .graph import GraphSource
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
) -> None:
    """Load the data, then run gunicorn until it is stopped."""
    engine = QueryEngine(config, sources)  # a data error stops here, before any logging setup
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)
    options = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": threads or max(8, 4 * config.workers),
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
    check_conformance(app)  # before the fork, so that every worker inherits the answer
    GunicornServer(app, options).run()
