"""Benchmark /sparql against the Oxigraph server on the same data, loopback only.

Measures requests per second and p50/p99 latency at concurrency 1 and 8 for the catalogue
queries (queries/*.rq, run as written, parameters unbound), uncached (each request differs by a
trailing comment, which defeats our cache and costs Oxigraph nothing), then repeated identical
queries (our cache) and If-None-Match revalidations (304). Writes bench/out/endpoint.md.

    python bench/bench_endpoint.py [--requests 200]
"""

import argparse
import http.client
import itertools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from smartcity_kg.rdf.files import packaged_sources
from smartcity_kg.rdf.sparql_text import inspect

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "endpoint.md"
OXIGRAPH = Path(sys.executable).with_name("oxigraph")
ACCEPT = {"solutions": "application/sparql-results+json", "graph": "text/turtle"}
START_TIMEOUT = 30  # seconds a server may take to answer; bench/run.py raises it for big data


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(port: int, path: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not start")


def serve_command(port: int, *args: str) -> list[str]:
    """Return the command line of `smartcity-kg serve` on `port`, as a user would run it."""
    return [sys.executable, "-m", "smartcity_kg.cli", "serve", "--port", str(port), *args]


def start_ours(port: int, args: tuple[str, ...] = ()) -> subprocess.Popen:
    command = serve_command(port, *args)
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    wait_until_up(port, "/healthz")
    return process


def start_oxigraph(port: int, location: Path, sources=None) -> subprocess.Popen:
    for source in sources or packaged_sources():
        for path in source.files:
            subprocess.run(
                [OXIGRAPH, "load", "--location", location, "--file", path, "--graph", source.iri],
                check=True,
                capture_output=True,
            )
    command = [OXIGRAPH, "serve-read-only", "--location", location,
               "--bind", f"127.0.0.1:{port}", "--union-default-graph"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    wait_until_up(port, "/query?query=ASK%7B%7D")
    return process


def start_oxigraph_in_memory(port: int, sources=None) -> subprocess.Popen:
    """Start `oxigraph serve` without a location (in memory, like ours); load over loopback."""
    command = [OXIGRAPH, "serve", "--bind", f"127.0.0.1:{port}", "--union-default-graph"]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    wait_until_up(port, "/query?query=ASK%7B%7D")
    for source in sources or packaged_sources():
        for path in source.files:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=START_TIMEOUT)
            target = "/store?" + urllib.parse.urlencode({"graph": source.iri})
            conn.request("POST", target, path.read_bytes(), {"Content-Type": "text/turtle"})
            if conn.getresponse().status >= 300:
                raise SystemExit(f"oxigraph could not load {path}")
    return process


def catalogue() -> list[tuple[str, str, str]]:
    """Return (name, query, Accept) for every catalogue query."""
    found = []
    for path in sorted((ROOT / "queries").glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        kind = inspect(text).kind
        found.append((path.stem, text, ACCEPT[kind.value if kind else "solutions"]))
    return found


def fetch(conn, path: str, query: str, accept: str, etag: str | None = None):
    headers = {"Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    url = f"{path}?{urllib.parse.urlencode({'query': query})}"
    started = time.perf_counter()
    conn.request("GET", url, headers=headers)
    response = conn.getresponse()
    response.read()
    return time.perf_counter() - started, response.status, response.getheader("ETag")


def run_load(port, path, jobs, concurrency):
    """Send `jobs` (query, accept, etag) over `concurrency` keep-alive connections."""
    latencies, failures, lock = [], [], threading.Lock()
    chunks = [jobs[i::concurrency] for i in range(concurrency)]

    def client(chunk):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for query, accept, etag in chunk:
            elapsed, status, _ = fetch(conn, path, query, accept, etag)
            with lock:
                latencies.append(elapsed)
                if status not in (200, 304):
                    failures.append(status)

    threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "errors": len(failures),
    }


RUN_IDS = itertools.count()


def uncached_jobs(queries, total):
    """Return jobs whose texts were never sent before (a fresh comment each), so never cached."""
    run = next(RUN_IDS)
    return [(f"{q}\n# bench {run}-{i}", accept, None)
            for i, (_, q, accept) in zip(range(total), cycle(queries), strict=False)]  # fmt: skip


def cycle(items):
    while True:
        yield from items


def usable(queries, ports_paths):
    """Keep the queries that both servers answer with 200 (report the others)."""
    kept, dropped = [], []
    for name, query, accept in queries:
        statuses = []
        for port, path in ports_paths:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            statuses.append(fetch(conn, path, query, accept)[1])
        (kept if all(s == 200 for s in statuses) else dropped).append((name, query, accept))
        if any(s != 200 for s in statuses):
            print(f"skipping {name}: statuses {statuses}", file=sys.stderr)
    return kept, [d[0] for d in dropped]


def measure(requests_per_run: int, concurrencies=(1, 8)) -> list[str]:
    rows, queries, dropped = measure_rows(requests_per_run, concurrencies=concurrencies)
    return report(rows, queries, dropped, requests_per_run, concurrencies)


def measure_rows(requests_per_run, *, sources=None, queries=None, concurrencies=(1, 8),
                 repeated_concurrencies=(8,), rocksdb=True, ours_args=()):  # fmt: skip
    """Return (rows, queries kept, names dropped); `sources` None: the packaged graph."""
    ours_port, oxi_port, memory_port = free_port(), free_port(), free_port()
    with tempfile.TemporaryDirectory() as location:
        ours = start_ours(ours_port, ours_args)
        oxigraph = start_oxigraph(oxi_port, Path(location), sources) if rocksdb else None
        in_memory = start_oxigraph_in_memory(memory_port, sources)
        try:
            servers = {"smartcity-kg serve": (ours_port, "/sparql"),
                       "oxigraph serve-read-only (RocksDB)": (oxi_port, "/query"),
                       "oxigraph serve (in memory)": (memory_port, "/query")}  # fmt: skip
            if not rocksdb:
                del servers["oxigraph serve-read-only (RocksDB)"]
            queries, dropped = usable(queries or catalogue(), list(servers.values()))
            rows = []
            for concurrency in concurrencies:
                for name, (port, path) in servers.items():
                    jobs = uncached_jobs(queries, requests_per_run)
                    run_load(port, path, uncached_jobs(queries, len(queries)), concurrency)  # warm
                    rows.append((name, "uncached", concurrency,
                                 run_load(port, path, jobs, concurrency)))  # fmt: skip
            for concurrency in repeated_concurrencies:
                rows += repeated(servers, queries, requests_per_run, concurrency)
        finally:
            for process in (ours, oxigraph, in_memory):
                if process is not None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=20)
    return rows, queries, dropped


def repeated(servers, queries, total, concurrency=8):
    """Identical queries (our cache) and If-None-Match revalidations."""
    rows = []
    pairs = zip(range(total), cycle(queries), strict=False)
    same = [(q, accept, None) for _, (_, q, accept) in pairs]
    for name, (port, path) in servers.items():
        run_load(port, path, same[: len(queries)], 1)
        rows.append((name, "repeated identical", concurrency,
                     run_load(port, path, same, concurrency)))  # fmt: skip
    port, path = servers["smartcity-kg serve"]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    etags = {q: fetch(conn, path, q, accept)[2] for _, q, accept in queries}
    revalidate = [(q, accept, etags[q]) for q, accept, _ in same]
    rows.append(("smartcity-kg serve", "If-None-Match (304)", concurrency,
                 run_load(port, path, revalidate, concurrency)))  # fmt: skip
    return rows


def report(rows, queries, dropped, requests_per_run, concurrencies=(1, 8)) -> list[str]:
    lines = [
        "# /sparql benchmark",
        "",
        f"{len(queries)} catalogue queries, {requests_per_run} requests per row, loopback, "
        f"{os.cpu_count()} CPUs, client on the same machine. "
        f"Skipped: {', '.join(dropped) or 'none'}.",
        "",
        "| server | requests | concurrency | req/s | p50 ms | p99 ms | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, scenario, concurrency, r in rows:
        lines.append(f"| {name} | {scenario} | {concurrency} | {r['rps']:.0f} | "
                     f"{r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} |")  # fmt: skip
    uncached = {(n, c): r["rps"] for n, s, c, r in rows if s == "uncached"}
    lines.append("")
    for other in sorted({n for n, _ in uncached} - {"smartcity-kg serve"}):
        ratios = [f"{uncached['smartcity-kg serve', c] / uncached[other, c]:.2f} at concurrency {c}"
                  for c in concurrencies]  # fmt: skip
        lines.append(f"Uncached throughput relative to {other}: {', '.join(ratios)}.")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per measured row")
    parser.add_argument("--concurrency", default="1,8", help="client counts, e.g. 1,8,32")
    args = parser.parse_args()
    lines = measure(args.requests, tuple(int(c) for c in args.concurrency.split(",")))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
