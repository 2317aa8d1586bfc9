"""Shared fixtures.

Browser fixtures drive Debian's Chromium through Playwright, never a downloaded browser.
"""

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    """Return Debian's Chromium, or None where it is not installed."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium; skipped only outside CI when Chromium is missing (CI installs it)."""
    executable = chromium_path()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs it with apt-get")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    """A fresh browser page with its own context, closed after the test."""
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


# --- SPARQL endpoint fixtures (real server, loopback listener) ------------------------------

W3C_PROTOCOL_DATA = Path(__file__).parent / "fixtures" / "w3c-sparql11-protocol"
W3C_GRAPHS_NQ = W3C_PROTOCOL_DATA / "w3c-protocol-graphs.nq"


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LoopbackListener:
    """A plain TCP listener recording every connection it receives (there should be none)."""

    port: int
    connections: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sparql"


@pytest.fixture
def loopback_listener():
    """Listen on a free loopback port in a thread; record what connects."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    listener = LoopbackListener(server.getsockname()[1])
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            listener.connections.append(conn.recv(4096))
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener
    stop.set()
    thread.join()
    server.close()


@dataclass
class SparqlServer:
    """A `smartcity-kg serve` process on a loopback port."""

    process: subprocess.Popen
    base: str
    log: Path

    @property
    def endpoint(self) -> str:
        return self.base + "/sparql"

    def descendants(self) -> list[int]:
        """Return the pids of every process below the server (gunicorn worker, query workers)."""
        children = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        found, todo = [], [self.process.pid]
        while todo:
            kids = children.get(todo.pop(), [])
            found += kids
            todo += kids
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_sparql_server(
    tmp_dir: Path, *args: str, env: dict | None = None, ready_timeout: float = 30
) -> SparqlServer:
    """Start `smartcity-kg serve` with `args` (and extra environment) until /healthz answers."""
    import requests

    port = free_port()
    log = tmp_dir / f"serve-{port}.log"
    command = [sys.executable, "-m", "smartcity_kg.cli", "serve", "--port", str(port), *args]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    server = SparqlServer(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(server.base + "/healthz", timeout=1).status_code == 200:
                return server
        except requests.ConnectionError:
            time.sleep(0.1)
    server.stop()
    pytest.fail(f"server did not start within {ready_timeout} s:\n{log.read_text()}")


@pytest.fixture
def sparql_server_factory(tmp_path):
    """Start servers with given `serve` arguments; stop them all after the test."""
    servers = []

    def start(*args: str, env: dict | None = None) -> SparqlServer:
        servers.append(start_sparql_server(tmp_path, *args, env=env))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session", params=["memory", "url"])
def w3c_sparql_server(request, tmp_path_factory):
    """A real server over the W3C protocol test graphs (one named graph per data file).

    Twice: over the embedded store, and with `--store URL` over a real Oxigraph server.
    """
    if request.param == "memory":
        data = ("--data", str(W3C_GRAPHS_NQ))
    else:
        data = ("--store", request.getfixturevalue("oxigraph_w3c").query_url)
    server = start_sparql_server(tmp_path_factory.mktemp("w3c"), *data, "--timeout", "5")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def packaged_sparql_server(tmp_path_factory):
    """A real server over the packaged graph and query catalogue, shared by a session."""
    server = start_sparql_server(tmp_path_factory.mktemp("packaged"))
    yield server
    server.stop()


@pytest.fixture
def w3c_graphs_nq() -> Path:
    """The W3C protocol test triples, each in its named graph, as N-Quads."""
    return W3C_GRAPHS_NQ


# --- stores: a real Oxigraph server on a loopback port as the remote store --------------------

OXIGRAPH = Path(sys.executable).parent / "oxigraph"  # the PyPI `oxigraph` package (test extra)


@dataclass
class OxigraphServer:
    """An `oxigraph serve` process on a loopback port, with its SPARQL and Graph Store URLs."""

    process: subprocess.Popen
    base: str

    @property
    def query_url(self) -> str:
        return self.base + "/query"

    @property
    def store_url(self) -> str:
        return self.base + "/store"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


def start_oxigraph(tmp_dir: Path, *files: str) -> OxigraphServer:
    """Start Oxigraph server, then fill it with `smartcity-kg load --into` (default: packaged)."""
    import requests

    if not OXIGRAPH.is_file():
        pytest.fail(f"{OXIGRAPH} is missing: pip install '.[test]' installs the oxigraph server")
    port = free_port()
    command = [str(OXIGRAPH), "serve", "--location", str(tmp_dir / "db"),
               "--bind", f"127.0.0.1:{port}", "--timeout-s", "30"]  # fmt: skip
    with (tmp_dir / "oxigraph.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    server = OxigraphServer(process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(server.base + "/", timeout=1)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline or server.process.poll() is not None:
                server.stop()
                pytest.fail(
                    f"oxigraph server did not start: {(tmp_dir / 'oxigraph.log').read_text()}"
                )
            time.sleep(0.1)
    load = [sys.executable, "-m", "smartcity_kg.cli", "load", "--into", server.store_url, *files]
    done = subprocess.run(load, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        server.stop()
        pytest.fail(f"load --into {server.store_url} failed: {done.stderr}")
    return server


@pytest.fixture(scope="session")
def oxigraph_packaged(tmp_path_factory):
    """A real Oxigraph server holding the packaged graph, loaded by `load --into URL`."""
    server = start_oxigraph(tmp_path_factory.mktemp("oxigraph-packaged"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oxigraph_w3c(tmp_path_factory):
    """A real Oxigraph server holding the W3C protocol test graphs."""
    server = start_oxigraph(tmp_path_factory.mktemp("oxigraph-w3c"), str(W3C_GRAPHS_NQ))
    yield server
    server.stop()


@pytest.fixture(scope="session", params=["memory", "url"])
def packaged_store(request) -> str:
    """The store spec of the packaged graph: embedded, or the URL of a real Oxigraph server."""
    if request.param == "memory":
        return "memory"
    return request.getfixturevalue("oxigraph_packaged").query_url


@pytest.fixture(scope="module")
def store_app(packaged_store):
    """The app over the packaged graph in each store kind (embedded, remote), one per module."""
    from smartcity_kg.config import Config
    from smartcity_kg.web import create_app

    app = create_app(Config(workers=1, store=packaged_store))
    yield app
    app.extensions["smartcity_kg.engine"].close()


@pytest.fixture(scope="module")
def packaged_client():
    """A test client of the app over the embedded packaged graph, with one query worker."""
    from smartcity_kg.config import Config
    from smartcity_kg.engine import QueryEngine
    from smartcity_kg.web import create_app

    config = Config(workers=1, timeout=5)
    with QueryEngine(config) as engine:
        yield create_app(config, engine=engine).test_client()
