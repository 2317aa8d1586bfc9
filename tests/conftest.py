"""Shared fixtures.

Browser fixtures drive Debian's Chromium through Playwright, never a downloaded browser.

The store under test is chosen by SMARTCITY_KG_TEST_STORE: `memory` (default: the files are
loaded by each engine), `dir` (an on-disk store filled once a session with `load_into(DIR)`,
as `smartcity-kg load --into DIR` fills it, and served with `--store DIR`) or `url` (a real
Oxigraph server on a loopback port, filled with `load_into(URL)` and served with
`--store URL`). Every engine, app and `serve` process over the packaged graph or over test
data files goes through `stores` (`packaged_store`, `packaged_graph`, `store_app`,
`packaged_client`, `packaged_sparql_server`, `w3c_sparql_server`, `sparql_server_factory`).
"""

import hashlib
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

from support.processes import serve_command

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
        """Return the pids of every process below the server (HTTP worker, query workers)."""
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
    command = serve_command(port, *args)
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
def sparql_server_factory(tmp_path, stores):
    """Start servers with given `serve` arguments; stop them all after the test.

    The server serves `files` (or, given neither `files` nor a `--data` or `--store` argument,
    the packaged graph) from the store kind under test; explicit `--data` or `--store`
    arguments are passed as they are.
    """
    servers = []

    def start(*args: str, files=None, env: dict | None = None) -> SparqlServer:
        if files is not None:
            args = (*stores.of_files(files).serve_args, *args)
        elif not {"--data", "--store"} & set(args):
            args = (*stores.holding().serve_args, *args)
        servers.append(start_sparql_server(tmp_path, *args, env=env))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def w3c_sparql_server(stores, tmp_path_factory):
    """A real server over the W3C protocol test graphs (one named graph per data file)."""
    data = stores.of_files([W3C_GRAPHS_NQ]).serve_args
    server = start_sparql_server(tmp_path_factory.mktemp("w3c"), *data, "--timeout", "5")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def packaged_sparql_server(packaged_store, tmp_path_factory):
    """A real server over the packaged graph and query catalogue, shared by a session."""
    server = start_sparql_server(tmp_path_factory.mktemp("packaged"), *packaged_store.serve_args)
    yield server
    server.stop()


@pytest.fixture
def w3c_graphs_nq() -> Path:
    """The W3C protocol test triples, each in its named graph, as N-Quads."""
    return W3C_GRAPHS_NQ


# --- stores: a real Oxigraph server on a loopback port as the remote store --------------------

OXIGRAPH = Path(sys.executable).parent / "oxigraph"  # the PyPI `oxigraph` package (test extra)
# Seconds Oxigraph server gives a query. The engine cannot stop a query it sent to a remote
# store: one it gave up on (a time limit, a killed worker) runs on in Oxigraph until this.
OXIGRAPH_TIMEOUT = 10


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
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


def start_oxigraph(tmp_dir: Path, sources=None) -> OxigraphServer:
    """Start Oxigraph server, then fill it with `load_into` (default: the packaged graph)."""
    import requests

    from smartcity_kg.loading import load_into

    if not OXIGRAPH.is_file():
        pytest.fail(f"{OXIGRAPH} is missing: pip install '.[test]' installs the oxigraph server")
    port = free_port()
    command = [str(OXIGRAPH), "serve", "--location", str(tmp_dir / "db"),
               "--bind", f"127.0.0.1:{port}", "--timeout-s", str(OXIGRAPH_TIMEOUT)]  # fmt: skip
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
    try:
        load_into(server.store_url, sources)  # what `smartcity-kg load --into URL` runs
    except BaseException:
        server.stop()
        raise
    return server


# --- the store under test: SMARTCITY_KG_TEST_STORE ---------------------------------------------

STORE_KINDS = ("memory", "dir", "url")
STORE = os.environ.get("SMARTCITY_KG_TEST_STORE", "memory")


def pytest_configure(config):
    if STORE not in STORE_KINDS:
        raise pytest.UsageError(
            f"SMARTCITY_KG_TEST_STORE={STORE!r}: expected one of {', '.join(STORE_KINDS)}"
        )


def pytest_collection_modifyitems(config, items):
    """Mark every test that reaches the store under test (the `stores` fixture, however deep).

    `.ci/run` runs the whole suite once over the embedded store and only these (`-m store`)
    over the others: a test that never touches a store cannot tell store kinds apart.
    """
    for item in items:
        if "stores" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.store)


def pytest_report_header(config):
    return f"store under test: {STORE} (SMARTCITY_KG_TEST_STORE={'|'.join(STORE_KINDS)})"


@dataclass(frozen=True)
class StoreUnderTest:
    """A graph in the store kind under test, and how an engine, an app or `serve` reaches it.

    `spec` is what `--store` and `Config.store` take: `memory`, a directory or a URL. In
    memory, `sources` are the files each engine loads (None: the packaged graph) and `files`
    what `serve --data` takes; a directory or a URL was filled once, so both are None.
    """

    kind: str
    spec: str
    sources: tuple | None = None
    files: tuple[Path, ...] | None = None

    def config(self, config=None, **settings):
        """Return `config` (default: the defaults) with `settings`, over this store."""
        from dataclasses import replace

        from smartcity_kg.config import Config

        return replace(config or Config(), store=self.spec, **settings)

    def engine(self, config=None, **settings):
        """Return a QueryEngine over this store (a context manager; close it)."""
        from smartcity_kg.sparql.engine import QueryEngine

        return QueryEngine(self.config(config, **settings), self.sources)

    def open(self):
        """Return the store as an engine holds it: an ox.Store, ReadOnlyStore or RemoteStore."""
        from smartcity_kg.store.local import open_store

        return open_store(self.spec, self.sources)

    @property
    def serve_args(self) -> tuple[str, ...]:
        """Return the `smartcity-kg serve` arguments that serve this store."""
        if self.kind != "memory":
            return ("--store", self.spec)
        if self.sources is None:
            return ()
        if self.files is None:
            raise TypeError("serve --data takes files: use Stores.of_files for a served store")
        return tuple(arg for path in self.files for arg in ("--data", str(path)))


class Stores:
    """Graphs in one store kind; a directory or an Oxigraph server is filled once per content.

    `holding(sources)` gives a graph (GraphSource list; None: the packaged graph) in the kind
    under test, `of_files(paths)` the graphs `serve --data` or `load --into` make of files.
    `oxigraph(sources)` gives a real Oxigraph server holding them, whatever the kind.
    """

    def __init__(self, kind: str, tmp_dir: Path):
        self.kind = kind
        self.tmp_dir = tmp_dir
        self._directories: dict[str, Path] = {}
        self._servers: dict[str, OxigraphServer] = {}

    def holding(self, sources=None, files=None) -> StoreUnderTest:
        if self.kind == "memory":
            return StoreUnderTest("memory", "memory", None if sources is None else tuple(sources),
                                  None if files is None else tuple(files))  # fmt: skip
        if self.kind == "dir":
            return StoreUnderTest("dir", str(self.directory(sources)))
        return StoreUnderTest("url", self.oxigraph(sources).query_url)

    def of_files(self, paths) -> StoreUnderTest:
        from smartcity_kg.rdf.files import file_sources

        paths = [Path(path) for path in paths]
        return self.holding(file_sources(paths), paths)

    def directory(self, sources=None) -> Path:
        """Return an on-disk store holding `sources`, filled by `load_into(DIR)`."""
        from smartcity_kg.loading import load_into

        key = content_key(sources)
        if key not in self._directories:
            path = self.tmp_dir / f"dir-{len(self._directories)}"
            load_into(str(path), sources)  # what `smartcity-kg load --into DIR` runs
            self._directories[key] = path
        return self._directories[key]

    def oxigraph(self, sources=None) -> OxigraphServer:
        """Return a real Oxigraph server holding `sources`, filled by `load_into(URL)`."""
        key = content_key(sources)
        if key not in self._servers:
            where = self.tmp_dir / f"oxigraph-{len(self._servers)}"
            where.mkdir()
            self._servers[key] = start_oxigraph(where, sources)
        return self._servers[key]

    def close(self) -> None:
        for server in self._servers.values():
            server.stop()


def content_key(sources) -> str:
    """Name what `sources` hold (graph IRIs, file types and bytes): equal keys, equal stores."""
    if sources is None:
        return "packaged"
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.iri.encode() + b"\0")
        for path in source.files:
            digest.update(path.suffix.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@pytest.fixture(scope="session")
def stores(tmp_path_factory):
    """Graphs in the store kind under test (SMARTCITY_KG_TEST_STORE), shared by a session."""
    made = Stores(STORE, tmp_path_factory.mktemp("stores"))
    yield made
    made.close()


@pytest.fixture(scope="session")
def packaged_store(stores) -> StoreUnderTest:
    """The packaged graph in the store kind under test."""
    return stores.holding()


@pytest.fixture
def disposable_store(stores, packaged_store, tmp_path):
    """The packaged graph in a store no other test shares, for queries that may bring it down.

    Under `url`, an Oxigraph server of its own, stopped after the test (a crash of the shared
    one would fail every later test); otherwise the shared store, which no query can harm.
    """
    if stores.kind != "url":
        yield packaged_store
        return
    (tmp_path / "oxigraph").mkdir()
    server = start_oxigraph(tmp_path / "oxigraph")
    yield StoreUnderTest("url", server.query_url)
    server.stop()


@pytest.fixture(scope="session")
def packaged_graph(packaged_store):
    """The packaged graph as the app's engine holds it, in the store kind under test."""
    return packaged_store.open()


@pytest.fixture(scope="session")
def oxigraph_packaged(stores):
    """A real Oxigraph server holding the packaged graph (whatever the store under test)."""
    return stores.oxigraph()


@pytest.fixture(scope="session")
def oxigraph_w3c(stores):
    """A real Oxigraph server holding the W3C protocol test graphs."""
    from smartcity_kg.rdf.files import file_sources

    return stores.oxigraph(file_sources([W3C_GRAPHS_NQ]))


@pytest.fixture(scope="module")
def store_app(packaged_store):
    """The app over the packaged graph in the store kind under test, one per module."""
    from smartcity_kg.web import create_app
    from smartcity_kg.web.state import state

    app = create_app(packaged_store.config(workers=1))
    yield app
    state(app).engine.close()


@pytest.fixture(scope="module")
def packaged_client(packaged_store):
    """A test client of the app over the packaged graph, with one query worker."""
    from smartcity_kg.web import create_app

    with packaged_store.engine(workers=1, timeout=5) as engine:
        yield create_app(engine.config, engine=engine).test_client()
