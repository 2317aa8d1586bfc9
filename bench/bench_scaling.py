"""Throughput of `serve` at 1 and 2 HTTP workers, over the embedded and the on-disk store.

Each server runs the catalogue queries (uncached: a fresh comment per request) and repeated
identical queries (answered from each HTTP worker's own cache) over 8 keep-alive
connections, loopback only, client on the same machine. Writes bench/out/scaling.md.

    python bench/bench_scaling.py [--requests 200]
"""

import argparse
import os
import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_endpoint import (
    catalogue,
    cycle,
    free_port,
    run_load,
    start_ours,
    uncached_jobs,
    usable,
)
from smartcity_kg.loading import load_into

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "scaling.md"
CONCURRENCY = 8
# (HTTP workers, query workers per HTTP worker)
LAYOUTS = ((1, 2), (2, 1), (2, 2))


def measure(requests_per_run: int, store_dir: Path) -> list[tuple]:
    rows = []
    for store in ("memory", str(store_dir)):
        for http_workers, query_workers in LAYOUTS:
            port = free_port()
            args = ("--store", store, "--http-workers", str(http_workers),
                    "--workers", str(query_workers))  # fmt: skip
            server = start_ours(port, args)
            try:
                queries, _ = usable(catalogue(), [(port, "/sparql")])
                run_load(port, "/sparql", uncached_jobs(queries, len(queries)), CONCURRENCY)
                uncached = run_load(port, "/sparql", uncached_jobs(queries, requests_per_run),
                                    CONCURRENCY)  # fmt: skip
                pairs = zip(range(requests_per_run), cycle(queries), strict=False)
                same = [(q, accept, None) for _, (_, q, accept) in pairs]
                run_load(port, "/sparql", same, CONCURRENCY)  # fill every worker's cache
                repeated = run_load(port, "/sparql", same, CONCURRENCY)
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=30)
            label = "memory" if store == "memory" else "directory (read-only)"
            rows.append((label, http_workers, query_workers, "uncached", uncached))
            rows.append((label, http_workers, query_workers, "repeated identical", repeated))
    return rows


def report(rows, requests_per_run: int) -> list[str]:
    lines = [
        "# Scaling out: HTTP workers",
        "",
        f"Catalogue queries, {requests_per_run} requests per row, {CONCURRENCY} keep-alive "
        f"connections, loopback, {os.cpu_count()} CPUs shared by client and server.",
        "",
        "| store | HTTP workers | query workers each | requests | req/s | p50 ms | p99 ms "
        "| errors |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for store, http_workers, query_workers, scenario, r in rows:
        figures = f"{r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']}"
        lines.append(f"| {store} | {http_workers} | {query_workers} | {scenario} | {figures} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per measured row")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store_dir = Path(tmp) / "kg"
        load_into(str(store_dir))
        before = os.getloadavg()[0]
        rows = measure(args.requests, store_dir)
        lines = report(rows, args.requests)
    lines.append("")
    lines.append(f"Load average (1 min) before and after: {before:.1f}, {os.getloadavg()[0]:.1f}; "
                 "other work on the machine shows in the figures.")  # fmt: skip
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
