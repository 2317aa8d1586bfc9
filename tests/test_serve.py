"""The `serve` command's wiring: data sources, granian settings, error reporting, and what the
HTTP front refuses before the app runs (slow request heads, oversized request lines)."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import quote, urlencode

import pytest
import requests

from conftest import SparqlServer, free_port
from smartcity_kg.cli import commands as cli
from smartcity_kg.config import Config
from smartcity_kg.rdf.files import file_sources
from smartcity_kg.sparql.engine import query_slots
from smartcity_kg.web.serve import HEAD_BUFFER_BYTES, server_options
from support.processes import serve_command

MAX_TARGET_BYTES = 65_534  # hyper (granian's HTTP parser) refuses a longer request target: 414


def test_data_files_become_graphs_named_by_their_uri(stores, tmp_path, w3c_graphs_nq):
    triples = tmp_path / "x.ttl"
    triples.write_text("<http://ex/a> <http://ex/p> 1 .\n")
    sources = file_sources([triples, w3c_graphs_nq])
    assert sources[0].iri == triples.resolve().as_uri()
    with stores.of_files([triples, w3c_graphs_nq]).engine() as engine:  # as --data or load --into
        graphs = {g.value for g in engine.store.named_graphs()}
    assert triples.resolve().as_uri() in graphs  # triples: the file's graph
    assert "http://kasei.us/2009/09/sparql/data/data1.rdf" in graphs  # quads keep theirs


def test_a_missing_data_file_is_one_line_and_exit_code_2(capsys, tmp_path):
    missing = tmp_path / "absent.ttl"
    assert cli.main(["serve", "--data", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("smartcity-kg: error: ") and str(missing) in err
    assert err.count("\n") == 1


def test_a_header_timeout_not_above_zero_stops_serve_before_loading(capsys, tmp_path):
    missing = tmp_path / "absent.ttl"  # never read: the option is checked first
    assert cli.main(["serve", "--header-timeout", "0", "--data", str(missing)]) == 2
    assert (
        capsys.readouterr().err
        == "smartcity-kg: error: the header timeout must be positive, got 0\n"
    )


def test_granian_speaks_http1_with_a_head_timeout_and_a_thread_per_query_slot():
    config = Config(workers=3)
    options = server_options(config, host="127.0.0.1", port=1, http_workers=2, header_timeout=2.5)
    assert options["interface"] == "wsgi" and options["http"] == "1" and options["workers"] == 2
    assert options["http1_settings"].header_read_timeout == 2500  # milliseconds
    assert options["http1_settings"].max_buffer_size == HEAD_BUFFER_BYTES > MAX_TARGET_BYTES
    assert options["blocking_threads"] == query_slots(config) + 8
    assert options["backpressure"] >= 1024  # connections, not requests: slow ones must fit
    assert not options["log_access"]  # the app logs each request itself


# --- the real front: a `serve` process on a loopback port -----------------------------------

SLOW_CLIENTS = 80
HEADER_TIMEOUT = 2.0


def trickle(connections: list[socket.socket], stop: threading.Event) -> None:
    """Send each connection a header line every 0.3 s, never the blank line that ends the head."""
    for n in range(int(3 * HEADER_TIMEOUT / 0.3) + 10):  # bounded: past the timeout, then stop
        if stop.wait(0.3):
            return
        for conn in connections:
            with contextlib.suppress(OSError):  # closed by the server: what the test waits for
                conn.send(b"X-Slow-%d: still coming\r\n" % n)


def closed_by_server(conn: socket.socket, within: float) -> bool:
    """Return True once the server closed `conn` (end of stream or reset) within `within` s."""
    conn.settimeout(within)
    try:
        while conn.recv(4096):
            pass  # a 408 answer, if any, before the end of the stream
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


@pytest.mark.server
def test_slow_request_heads_neither_starve_healthz_nor_outlive_the_header_timeout(
    sparql_server_factory,
):
    server = sparql_server_factory("--header-timeout", str(HEADER_TIMEOUT))
    host, port = server.base.removeprefix("http://").split(":")
    connections = [
        socket.create_connection((host, int(port)), timeout=5) for _ in range(SLOW_CLIENTS)
    ]
    for conn in connections:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    started = time.monotonic()
    stop = threading.Event()
    sender = threading.Thread(target=trickle, args=(connections, stop))
    sender.start()
    try:
        latencies = []
        while time.monotonic() - started < HEADER_TIMEOUT * 0.75:
            probe = time.monotonic()
            assert requests.get(server.base + "/healthz", timeout=5).status_code == 200
            latencies.append(time.monotonic() - probe)
            time.sleep(0.1)
        assert len(latencies) >= 3 and max(latencies) < 1.5, latencies
        assert all(closed_by_server(conn, HEADER_TIMEOUT + 3) for conn in connections)
        assert time.monotonic() - started < HEADER_TIMEOUT + 4
    finally:
        stop.set()
        sender.join()
        for conn in connections:
            conn.close()
    assert requests.get(server.base + "/healthz", timeout=5).status_code == 200


def start_in_a_group_of_its_own(tmp_path, *args: str) -> SparqlServer:
    """Start `serve` as a terminal starts it, leader of its own process group (for Ctrl-C)."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    command = serve_command(port, *args)
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
    server = SparqlServer(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(requests.ConnectionError):
            if requests.get(server.base + "/healthz", timeout=1).status_code == 200:
                return server
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    pytest.fail(f"server did not start:\n{log.read_text()}")


@contextlib.contextmanager
def busy_cpus():
    """Keep every CPU busy: a signal then often reaches a thread other than the main one."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
               for _ in range(os.cpu_count() or 2)]  # fmt: skip
    try:
        time.sleep(0.3)
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


@pytest.mark.server
def test_ctrl_c_stops_the_server_and_every_process_below_it_at_once(tmp_path, packaged_store):
    """Ctrl-C signals the whole group; on a busy machine granian's worker alone missed it."""
    for _ in range(3):
        server = start_in_a_group_of_its_own(tmp_path, *packaged_store.serve_args)
        processes = server.descendants()
        try:
            with busy_cpus():
                started = time.monotonic()
                os.killpg(server.process.pid, signal.SIGINT)
                server.process.wait(timeout=30)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.process.pid, signal.SIGKILL)
        assert time.monotonic() - started < 5  # not the 15 s after which a stuck worker is killed
        assert len(processes) == 4 and not [p for p in processes if os.path.exists(f"/proc/{p}")]


def exchange(server, request: bytes, timeout: float = 20) -> tuple[bytes, float]:
    """Send `request` while reading the answer; return it and the seconds until its first byte.

    The server may answer and close before it has read all of an oversized request, so sending
    runs in a thread and its broken pipe is expected.
    """
    host, port = server.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as conn:
        sender = threading.Thread(target=send_quietly, args=(conn, request))
        started = time.monotonic()
        sender.start()
        chunks, first = [], None
        try:
            while chunk := conn.recv(65536):
                first = first or time.monotonic() - started
                chunks.append(chunk)
        except ConnectionResetError:
            pass  # after the answer: the server closed with the request still unread
        sender.join()
    return b"".join(chunks), first if first is not None else float("inf")


def send_quietly(conn: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):  # the server may close before reading it all
        conn.sendall(data)


def get(target: str) -> bytes:
    head = [f"GET {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii")


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def korean_query(characters: int) -> str:
    """Return a query of `characters` characters, nearly all Hangul (9 bytes each in a URL)."""
    head, tail = 'ASK { ?s ?p "', '" }'
    return head + "가" * (characters - len(head) - len(tail)) + tail


@pytest.mark.server
def test_the_longest_get_query_the_front_takes_reaches_the_app(packaged_sparql_server):
    prefix = "/sparql?query="
    characters = (MAX_TARGET_BYTES - len(prefix)) // 9  # percent-encoded UTF-8: %EA%B0%80
    target = prefix + quote(korean_query(characters), safe="")
    assert len(target) <= MAX_TARGET_BYTES
    answer, _ = exchange(packaged_sparql_server, get(target))
    assert status_of(answer) == 200 and b"false" in answer, answer[:300]


@pytest.mark.server
def test_a_get_query_over_the_request_target_cap_is_refused_at_once_and_taken_by_post(
    packaged_sparql_server,
):
    query = korean_query(Config().max_query_length)  # 100,000 characters: 900 KB in a URL
    answer, seconds = exchange(
        packaged_sparql_server, get("/sparql?" + urlencode({"query": query}))
    )
    assert status_of(answer) in (414, 431) and seconds < 1  # 431: longer than the head buffer
    posted = requests.post(packaged_sparql_server.endpoint, data={"query": query}, timeout=30)
    assert posted.status_code == 200 and posted.json()["boolean"] is False


@pytest.mark.server
def test_a_head_within_the_buffer_is_read_and_one_over_twice_it_is_431(packaged_sparql_server):
    """hyper refuses a head once its buffer is full, and its last read is at most that long."""
    fits = HEAD_BUFFER_BYTES - 1000
    for size, status in ((fits, 200), (2 * HEAD_BUFFER_BYTES, 431)):
        head = get("/healthz").replace(b"\r\n\r\n", b"\r\nX-Big: %s\r\n\r\n" % (b"a" * size))
        for _ in range(5):  # how much the last read takes varies
            assert status_of(exchange(packaged_sparql_server, head)[0]) == status


@pytest.mark.server
@pytest.mark.parametrize("megabytes", [1, 4, 16])
def test_a_huge_request_line_is_refused_at_once_whatever_its_length(
    packaged_sparql_server, megabytes
):
    """Refused once HEAD_BUFFER_BYTES are read: the time does not grow with the line."""
    line = get("/sparql?query=" + "%20" * (megabytes * 1_000_000 // 3))
    answer, seconds = exchange(packaged_sparql_server, line)
    assert status_of(answer) in (414, 431) and seconds < 0.5, (answer[:100], seconds)
    assert requests.get(packaged_sparql_server.base + "/healthz", timeout=5).status_code == 200
