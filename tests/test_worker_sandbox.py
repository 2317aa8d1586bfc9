"""Query workers confined: no network over a local store, a memory cap, repeat faults refused.

The SERVICE queries here go to workers directly (worker.spawn_worker and a Job), past the text
check in sparql.py, to show the kernel's filter holds on its own.
"""

import ctypes
import errno
import os
import platform
import socket
import time

import pyoxigraph as ox
import pytest

from smartcity_kg.config import Config, from_env
from smartcity_kg.errors import (
    InputError,
    NotAcceptable,
    QueryAborted,
    QueryOutOfMemory,
    SandboxUnavailable,
)
from smartcity_kg.rdf import formats
from smartcity_kg.sparql import sandbox
from smartcity_kg.sparql.engine import QueryEngine
from smartcity_kg.sparql.worker import Job, Limits, answer, spawn_worker
from smartcity_kg.store.remote import RemoteStore

EX = "http://example.org/"
# Asks about 8 GB: each REPLACE inserts ?x between every two characters of ?x.
HUNGRY = (
    'SELECT (STRLEN(REPLACE(REPLACE(?x, "", ?x), "", ?x)) AS ?n) WHERE { BIND("%s" AS ?x) }'
    % ("a" * 2000)
)
# pyoxigraph 0.5.13 orders dateTimes with and without a timezone inconsistently; Rust's sort
# notices (with 21 values or more) and panics, which aborts the process (SIGABRT).
TIMES = ["06:00:00", "15:00:00", "12:00:00-14:00", "19:00:00", "22:00:00-14:00", "08:00:00Z",
         "18:00:00", "10:00:00", "00:00:00", "20:00:00", "12:00:00Z", "13:00:00", "16:00:00Z",
         "14:00:00-14:00", "17:00:00Z", "11:00:00Z", "21:00:00Z", "14:00:00+14:00",
         "00:00:00-14:00", "17:00:00", "05:00:00+14:00"]  # fmt: skip
ABORTING = (
    "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> SELECT ?d WHERE { VALUES ?d { "
    + " ".join(f'"2020-01-01T{t}"^^xsd:dateTime' for t in TIMES)
    + " } } ORDER BY ?d"
)


@pytest.fixture
def store():
    store = ox.Store()
    for i in range(3):
        store.add(ox.Quad(ox.NamedNode(f"{EX}s{i}"), ox.NamedNode(f"{EX}p"), ox.Literal(str(i))))
    return store


def job(query: str, **options) -> Job:
    return Job(query=query, format=None, default_graphs=(), named_graphs=(), union=True,
               max_rows=100, alarm=10, **options)  # fmt: skip


def ask_worker(store, query: str, limits: Limits):
    """Run one job on a fresh worker with `limits`; return its reply."""
    worker = spawn_worker(store, limits=limits)
    try:
        worker.send(job(query))
        assert worker.wait(10)
        return worker.receive()
    finally:
        worker.kill()


def wait_for(condition, seconds: float = 2.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_a_sandboxed_worker_cannot_connect_whatever_the_query_says(store, loopback_listener):
    query = f"SELECT * WHERE {{ SERVICE <{loopback_listener.url}> {{ ?s ?p ?o }} }}"
    reply = ask_worker(store, query, Limits(network=False))
    assert reply.error is not None and "Permission denied" in reply.error
    time.sleep(0.3)  # the listener would have recorded a connection by now
    assert loopback_listener.connections == []


def test_without_the_sandbox_the_same_query_reaches_the_listener(store, loopback_listener):
    # The control: the query above really makes the worker connect when nothing stops it.
    query = f"SELECT * WHERE {{ SERVICE <{loopback_listener.url}> {{ ?s ?p ?o }} }}"
    reply = ask_worker(store, query, Limits(network=True))
    assert reply.error is not None
    assert wait_for(lambda: loopback_listener.connections)


def test_a_sandboxed_worker_still_answers_plain_queries(store):
    reply = ask_worker(store, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", Limits(network=False))
    assert reply.error is None and reply.rows == 1 and b'"3"' in reply.body


def test_the_filter_refuses_network_sockets_and_x32_calls_but_not_unix_ones():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        outcome = []
        try:
            sandbox.forbid_network()
            for family in (socket.AF_INET, socket.AF_INET6, socket.AF_NETLINK, socket.AF_UNIX):
                try:
                    socket.socket(family, socket.SOCK_DGRAM).close()
                    outcome.append("ok")
                except OSError as error:
                    outcome.append(errno.errorcode[error.errno])
            if platform.machine() == "x86_64":  # socket(AF_INET) through the x32 table
                libc = ctypes.CDLL(None, use_errno=True)
                libc.syscall(ctypes.c_long(0x40000000 | 41), 2, 1, 0)
                outcome.append(errno.errorcode[ctypes.get_errno()])
        finally:
            os.write(write, " ".join(outcome).encode())
            os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    outcome = os.read(read, 1000).decode().split()
    os.close(read)
    assert os.waitstatus_to_exitcode(status) == 0
    assert outcome[:4] == ["EACCES", "EACCES", "EACCES", "ok"]
    assert outcome[4:] in ([], ["EACCES"])


def test_a_machine_without_seccomp_stops_the_engine_unless_told(store, monkeypatch):
    monkeypatch.setattr(sandbox.platform, "machine", lambda: "riscv64")
    with pytest.raises(SandboxUnavailable, match="SMARTCITY_KG_NETWORK_SANDBOX=false"):
        QueryEngine(Config(workers=1), store=store)
    with QueryEngine(Config(workers=1, network_sandbox=False), store=store) as engine:
        assert engine.run("ASK { ?s ?p '1' }").rows == 1


def test_a_kernel_refusing_the_filter_starts_no_worker_and_says_how_to_go_on(store, monkeypatch):
    def refuse():
        raise SandboxUnavailable("the kernel refused the seccomp filter (EINVAL)")

    monkeypatch.setattr(sandbox, "forbid_network", refuse)  # the forked children inherit it
    with QueryEngine(Config(workers=2), store=store) as engine:
        with pytest.raises(SandboxUnavailable, match=r"EINVAL.*NETWORK_SANDBOX=false"):
            engine.run("ASK {}")
        assert engine.worker_pids == [] and engine.fast_lane_pids == []
        monkeypatch.undo()
        assert engine.run("ASK {}").rows == 1  # the next query tries to start them again


def test_a_worker_can_be_killed_twice(store):
    worker = spawn_worker(store)
    assert worker.kill() == "killed by signal 9"
    assert worker.kill() == "already reaped"


def test_workers_over_a_remote_store_keep_the_network():
    remote = RemoteStore("http://127.0.0.1:1/query")
    assert Limits.for_store(Config(), remote).network
    assert not Limits.for_store(Config(), ox.Store()).network


def test_worker_memory_is_read_from_the_environment_and_must_be_positive():
    assert from_env({"SMARTCITY_KG_WORKER_MEMORY": "268435456"}).worker_memory == 256 << 20
    assert not from_env({"SMARTCITY_KG_NETWORK_SANDBOX": "false"}).network_sandbox
    with pytest.raises(InputError, match="worker_memory must be positive"):
        Config(worker_memory=0)


@pytest.fixture
def engine(store):
    config = Config(workers=1, fast_lane=0, timeout=20, worker_memory=256 << 20)
    with QueryEngine(config, store=store) as engine:
        engine.start()
        yield engine


def test_a_query_over_the_memory_limit_is_stopped_with_the_limit_named(engine):
    [first] = engine.worker_pids
    with pytest.raises(QueryOutOfMemory, match=r"256 MiB .*SMARTCITY_KG_WORKER_MEMORY") as caught:
        engine.run(HUNGRY)
    assert caught.value.http_status == 503
    assert engine.worker_pids != [first]  # replaced
    assert engine.run("SELECT ?o { ?s ?p ?o } ORDER BY ?o").rows == 3


def test_a_query_that_made_the_engine_abort_is_not_called_retryable(engine):
    with pytest.raises(QueryAborted) as caught:
        engine.run(ABORTING)
    assert "signal 6" in caught.value.message and "retried" not in caught.value.message
    assert "total order" in caught.value.message  # pyoxigraph's own words
    assert engine.run("ASK { ?s ?p '2' }").rows == 1


@pytest.mark.parametrize("query", [HUNGRY, ABORTING])
def test_a_repeat_of_a_query_that_killed_its_worker_is_refused_without_a_worker(engine, query):
    error = QueryOutOfMemory if query is HUNGRY else QueryAborted
    with pytest.raises(error):
        engine.run(query)
    pids = engine.worker_pids
    started = time.monotonic()
    respaced = query.replace(" WHERE", "\n  WHERE", 1).replace("?", "?x_")  # the same shape
    with pytest.raises(error, match="refused without running"):
        engine.run(respaced)
    assert time.monotonic() - started < 0.1 and engine.worker_pids == pids


def test_a_query_differing_only_in_a_literal_is_not_refused_for_anothers_fault(engine):
    with pytest.raises(QueryOutOfMemory):
        engine.run(HUNGRY)
    small = HUNGRY.replace("a" * 2000, "aa")  # the same shape, a cheap value
    assert engine.run(small).rows == 1


def test_python_running_out_of_memory_is_reported_as_the_memory_limit():
    class Greedy:
        def query(self, query, **options):
            raise MemoryError

    reply = answer(Greedy(), job("ASK {}"), memory=1 << 30)
    assert reply.error_kind == "memory" and reply.error_class is QueryOutOfMemory
    assert "1 GiB" in reply.error


def test_json_ld_refusing_a_triple_term_is_the_clients_format_choice(engine):
    query = "CONSTRUCT { ?s ?p <<( ?s ?p ?o )>> } WHERE { ?s ?p ?o }"
    with pytest.raises(NotAcceptable, match=r"'jsonld'.*RDF 1\.2.*choose another format") as caught:
        engine.run(query, format=formats.by_name("jsonld"))
    assert caught.value.http_status == 406
    assert engine.run(query, format=formats.by_name("ttl")).rows == 3
