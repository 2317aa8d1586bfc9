"""Measure what confining query workers costs: starting one, each system call, each query.

Three figures, each with the network filter (sandbox.py) and memory cap (worker.Limits) and
without them: the time to fork a worker and have it confine itself (spawn_worker returns once
the child says so); the time of a cheap system call (getppid) in a child before and after the
filter is installed; and queries a second through QueryEngine, one worker, every query a new
text so that none is answered from the cache. Rounds alternate between the two settings.

    python bench/sandbox_cost.py [--spawns 40] [--queries 1000] [--rounds 5]
"""

import argparse
import os
import statistics
import struct
import time

import pyoxigraph as ox

from smartcity_kg.config import Config
from smartcity_kg.sparql import sandbox
from smartcity_kg.sparql.engine import QueryEngine
from smartcity_kg.sparql.worker import Limits, spawn_worker

EX = "http://example.org/"
OPEN = Limits(network=True, memory=None)
CONFINED = Limits(network=False, memory=1 << 30)
QUERIES = {
    "100 rows": "SELECT ?s ?o WHERE {{ ?s <{ex}p> ?o }} LIMIT {n}",
    "join count": "SELECT (COUNT(*) AS ?c) WHERE {{ ?s <{ex}p> ?o . ?s <{ex}q> ?x "
    "FILTER(?x < {n}) }}",
}


def make_store(size: int = 10_000) -> ox.Store:
    store = ox.Store()
    p, q = ox.NamedNode(EX + "p"), ox.NamedNode(EX + "q")
    for i in range(size):
        s = ox.NamedNode(f"{EX}s{i}")
        store.add(ox.Quad(s, p, ox.Literal(f"value {i}")))
        store.add(ox.Quad(s, q, ox.Literal(i)))
    return store


def spawn_ms(store: ox.Store, limits: Limits, times: int) -> float:
    """Return the median milliseconds from fork to a confined, ready worker."""
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        worker = spawn_worker(store, limits=limits)
        samples.append(time.perf_counter() - started)
        worker.kill()
    return statistics.median(samples) * 1000


def syscall_ns(calls: int = 300_000) -> tuple[float, float]:
    """Return nanoseconds per getppid() in a forked child, before and after the filter."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        figures = [_per_call(calls)]
        sandbox.forbid_network()
        figures.append(_per_call(calls))
        os.write(write, struct.pack("dd", *figures))
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    before, after = struct.unpack("dd", os.read(read, 16))
    os.close(read)
    return before, after


def _per_call(calls: int) -> float:
    getppid = os.getppid
    started = time.perf_counter_ns()
    for _ in range(calls):
        getppid()
    return (time.perf_counter_ns() - started) / calls


def queries_per_second(store: ox.Store, sandboxed: bool, template: str, count: int, seed: int):
    config = Config(workers=1, fast_lane=0, network_sandbox=sandboxed)
    with QueryEngine(config, store=store) as engine:
        engine.start()
        engine.run("ASK {}")
        started = time.perf_counter()
        for i in range(count):
            engine.run(template.format(ex=EX, n=100 + seed * count + i))
        return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spawns", type=int, default=40)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    store = make_store()
    print("| measure | without | with | cost |\n| --- | --- | --- | --- |")
    spawn_open, spawn_confined = (
        spawn_ms(store, limits, args.spawns) for limits in (OPEN, CONFINED)
    )
    print(f"| fork to ready worker (median ms) | {spawn_open:.2f} | {spawn_confined:.2f} | "
          f"{spawn_confined - spawn_open:+.2f} ms |")  # fmt: skip
    before, after = syscall_ns()
    print(f"| getppid() (ns a call) | {before:.0f} | {after:.0f} | {after - before:+.0f} ns |")
    for name, template in QUERIES.items():
        rates: dict[bool, list[float]] = {False: [], True: []}
        for seed in range(args.rounds):
            for sandboxed in (False, True):
                rate = queries_per_second(store, sandboxed, template, args.queries, seed)
                rates[sandboxed].append(rate)
        without, with_ = (statistics.median(rates[s]) for s in (False, True))
        print(f"| {name} (queries/s, median of {args.rounds}) | {without:.0f} | {with_:.0f} | "
              f"{(with_ - without) / without:+.1%} |")  # fmt: skip


if __name__ == "__main__":
    main()
