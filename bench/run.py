"""Run the whole benchmark in one command and write bench/REPORT.md.

For each size: generate the graph (bench/generate.py), then in fresh processes measure load time
and peak memory, SHACL validation, server start time, and in-process query latency of the named
queries as the endpoint runs them at their defaults (a paged query: its first page of N rows)
against raw pyoxigraph (and rdflib at the smallest size), then HTTP throughput against the
Oxigraph server on the same data and queries (bench/bench_endpoint.py). Loopback only; bounded
request counts.

    python bench/run.py                      # 10k, 100k and 1m
    python bench/run.py --sizes 10k,100k     # some sizes
    python bench/run.py --quick              # 10k only, few repetitions: a smoke check
"""

import argparse
import json
import os
import platform
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

import bench_core
import bench_endpoint
from generate import generate, parse_size
from smartcity_kg.rdf.sparql_text import inspect
from smartcity_kg.sparql.catalog import load_catalog
from smartcity_kg.web.serve import file_sources

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
REPORT = ROOT / "bench" / "REPORT.md"
CONCURRENCIES = (1, 8, 32)
HTTP_QUERY_LIMIT_MS = 1000  # queries slower than this in process are left out of the HTTP runs
VALIDATION_LIMIT = 600  # seconds SHACL validation may take at one size
LOAD_VALIDATION_LIMIT = 60  # seconds; above, `load --into` is measured without validating


def machine() -> dict:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cores": os.cpu_count(), "memory_gib": round(memory, 1),
            "python": platform.python_version(), "pyoxigraph": ox.__version__,
            "platform": platform.platform(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}  # fmt: skip


def bench_size(label: str, args, earlier: dict) -> dict:
    """Measure one size; `earlier` holds the smaller sizes' results (to skip what cannot end)."""
    folder = OUT / label
    result: dict = {"label": label}
    started = time.perf_counter()
    result["generated"] = generate(parse_size(label), args.seed, folder).triples
    result["generate_s"] = time.perf_counter() - started
    log(label, "generated", result["generated"])
    result["load"] = bench_core.run_json("--load", folder, timeout=900)
    log(label, "load", result["load"])
    if args.skip_validation:
        result["validation"] = {"error": "not run (--skip-validation)"}
    else:
        result["validation"] = validation(folder, earlier, args)
    log(label, "validation", result["validation"])
    port = bench_endpoint.free_port()
    result["start_no_validate"] = bench_core.measure_start(folder, port, validate=False, limit=600)
    if "error" in result["validation"]:
        reason = result["validation"]["error"]
        result["start"] = {"error": f"not measured: serve validates the data first ({reason})"}
    else:
        result["start"] = bench_core.measure_start(folder, port, validate=True, limit=900)
    log(label, "start", result["start"], result["start_no_validate"])
    # The production path at scale: validate and load once into a directory, then start from it.
    # Where validation took over a minute above, loading validates nothing (it would only repeat
    # that figure) and the directory is served with --no-validate; the report says so.
    validated = result["validation"].get("seconds", LOAD_VALIDATION_LIMIT) < LOAD_VALIDATION_LIMIT
    store = folder / "store"
    result["load_into"] = bench_core.measure_load_into(folder, store, validate=validated,
                                                       limit=VALIDATION_LIMIT + 300)  # fmt: skip
    if "error" in result["load_into"]:
        result["start_dir"] = {"error": f"not measured: {result['load_into']['error']}"}
    else:
        result["start_dir"] = bench_core.measure_start(folder, port, validate=validated,
                                                       limit=600, store=store)  # fmt: skip
        result["start_dir"]["validated"] = validated
    shutil.rmtree(store, ignore_errors=True)
    log(label, "store directory", result["load_into"], result["start_dir"])
    repeat, cap = (5, 5) if args.quick else (20, 10)
    extra = ["--repeat", str(repeat), "--cap", str(cap), "--budget", "3" if args.quick else "12"]
    result["queries"] = bench_core.run_json("--queries", folder, *extra, timeout=3600)
    log(label, "queries done")
    if label == args.sizes[0]:
        rdflib_extra = ["--repeat", "3", "--cap", "2" if args.quick else str(cap)]
        result["rdflib"] = bench_core.run_json("--rdflib", folder, *rdflib_extra, timeout=900)
        log(label, "rdflib done")
    if label in args.http_sizes:
        result["http"] = http(folder, result["queries"], args)
        log(label, "http done")
    return result


def validation(folder: Path, earlier: dict, args) -> dict:
    """Validate with a time limit; skip when a smaller size already shows it cannot finish."""
    for smaller in list(earlier.values())[-1:]:  # the largest size measured so far
        seconds = smaller["validation"].get("seconds")
        factor = parse_size(folder.name) / parse_size(smaller["label"])
        if seconds is None or seconds * factor > VALIDATION_LIMIT:
            guess = f"~{seconds * factor:.0f} s" if seconds else "no smaller size finished"
            return {"error": f"skipped: linear extrapolation from {smaller['label']} gives "
                    f"{guess}, past the {VALIDATION_LIMIT} s limit"}  # fmt: skip
    limit = 120 if args.quick else VALIDATION_LIMIT
    return bench_core.run_json("--validate", folder, timeout=limit)


def http(folder: Path, timings: dict, args) -> dict:
    """Run bench_endpoint on this data with the queries that answer within the limit."""
    kept, left_out = [], []
    for name, text in bench_core.named_queries():
        floor = timings.get(name, {}).get("floor")
        if floor is None or floor > HTTP_QUERY_LIMIT_MS:
            left_out.append(name)
            continue
        kind = inspect(text).kind
        kept.append((name, text, bench_endpoint.ACCEPT[kind.value if kind else "solutions"]))
    files = bench_core.bench_files(folder)
    ours_args = ("--no-validate", *(a for path in files for a in ("--data", str(path))))
    requests = len(kept) * (2 if args.quick else 6)
    bench_endpoint.START_TIMEOUT = 600
    rows, queries, dropped = bench_endpoint.measure_rows(
        requests, sources=file_sources(files), queries=kept, concurrencies=CONCURRENCIES,
        repeated_concurrencies=CONCURRENCIES, rocksdb=False, ours_args=ours_args,
    )  # fmt: skip
    return {"rows": [list(row) for row in rows], "queries": [q[0] for q in queries],
            "dropped": dropped, "left_out": left_out, "requests": requests}  # fmt: skip


def log(*parts) -> None:
    print(f"[{time.strftime('%H:%M:%S')}]", *parts, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k,1m", help="comma-separated, e.g. 10k,100k")
    parser.add_argument("--http-sizes", default="10k,100k", help="sizes that get the HTTP runs")
    parser.add_argument("--quick", action="store_true", help="10k only, few repetitions")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--skip-validation",
        action="store_true",
        help="skip SHACL validation and the validating start (the slow part: minutes at 100k)",
    )
    args = parser.parse_args()
    args.sizes = ["10k"] if args.quick else args.sizes.split(",")
    args.http_sizes = args.http_sizes.split(",")
    results: dict = {}
    for label in args.sizes:
        results[label] = bench_size(label, args, results)
    command = "python bench/run.py " + " ".join(sys.argv[1:])
    data = {"machine": machine(), "command": command.strip(), "results": results,
            "queries": list(load_catalog())}  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    from report import write_report

    REPORT.write_text(write_report(data), encoding="utf-8")
    log("wrote", REPORT)


if __name__ == "__main__":
    main()
