"""In-process benchmarks on a generated graph: load, memory, SHACL, start time, query latency.

Each measurement that needs a fresh process (load time and peak memory, SHACL validation) runs
this file again as a subprocess with one of the `--load`, `--validate` or `--queries` modes, which
print one JSON object. Query latency compares, on the named queries as the endpoint runs them at
their defaults (default parameters as pyoxigraph substitutions; a paged query's first page):

- floor: raw pyoxigraph `Store.query` (the same text and substitutions) then `serialize` to
  SPARQL JSON (Turtle for DESCRIBE);
- engine: `QueryEngine.run`, the CLI's in-process path (a forked worker, the pipe, the checks);
- direct: `worker.answer` in this process, the worker's own code without the process hop;
- rdflib: rdflib's SPARQL engine on the same files (small graphs only, each query capped).

All paths run interleaved, query by query, so that noise on a shared machine hits them alike.
The engine's cache is off (every run is a miss) and its row limit is lifted, so that all paths do
the same work.

    python bench/bench_core.py --queries bench/out/10k --repeat 20 --rdflib
"""

import argparse
import functools
import json
import multiprocessing
import resource
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyoxigraph as ox

from generate import data_files
from smartcity_kg.config import Config
from smartcity_kg.errors import QueryTimeout
from smartcity_kg.rdf import formats
from smartcity_kg.rdf.files import file_sources, load_store
from smartcity_kg.rdf.formats import ResultKind
from smartcity_kg.sparql.catalog import BoundQuery, load_catalog
from smartcity_kg.sparql.engine import QueryEngine
from smartcity_kg.sparql.worker import Job, answer

HERE = Path(__file__).resolve()


def bench_files(folder: Path) -> list[Path]:
    """Return the files every system under test loads: the generated data files.

    Not the ontology: the named queries do not need it, and `serve --data` validates every
    triple it serves as data (with the packaged ontology mixed in).
    """
    return data_files(folder)


def run_json(mode: str, folder: Path, *extra: str, timeout: float | None = None) -> dict:
    """Run this file in a fresh process in `mode`; return its JSON, or {'error': ...}."""
    command = [sys.executable, str(HERE), mode, str(folder), *extra]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish within {timeout:g} s"}
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return json.loads(done.stdout)


def peak_rss_mb() -> float:
    """Return this process's peak resident memory in MiB.

    Linux's VmHWM, not getrusage's ru_maxrss: the latter keeps the peak of the process that
    forked us (bench/run.py) across exec, so a small child would report its parent's size.
    """
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
        return int(status.split("VmHWM:")[1].split()[0]) / 1024  # kB
    except (OSError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def measure_load(folder: Path) -> dict:
    """Load the files as `serve --data` does; report the time, triples and peak memory."""
    before = peak_rss_mb()
    started = time.perf_counter()
    store = load_store(file_sources(bench_files(folder)))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "triples": len(store), "rss_mb": peak_rss_mb(),
            "baseline_rss_mb": before}  # fmt: skip


def measure_validation(folder: Path) -> dict:
    """Validate the generated data with the packaged ontology and shapes, as the CLI does."""
    from smartcity_kg.quality import shacl as validate

    started = time.perf_counter()
    report = validate.validate_files(data_files(folder))
    return {"seconds": time.perf_counter() - started, "conforms": report.conforms,
            "violations": len(report.violations), "rss_mb": peak_rss_mb()}  # fmt: skip


def bound_queries() -> list[tuple[str, BoundQuery]]:
    """Return every catalogue query bound as the endpoint binds it by default (first page)."""
    return [(name, query.bind()) for name, query in load_catalog().items()]


def named_queries() -> list[tuple[str, str]]:
    """Return (name, text) for a SPARQL endpoint or rdflib: the defaults in a VALUES block."""
    return [(name, bound.as_text()) for name, bound in bound_queries()]


def floor(store: ox.Store, query: BoundQuery) -> bytes:
    """Raw pyoxigraph: query over the union of the graphs, serialise in the default format."""
    result = store.query(
        query.text, use_default_graph_as_union=True, substitutions=query.substitutions
    )
    if isinstance(result, ox.QueryTriples):
        return ox.serialize(result, format=formats.default_format(ResultKind.GRAPH).oxigraph)
    return result.serialize(format=ox.QueryResultsFormat.JSON)


def direct(store: ox.Store, job: Job) -> bytes:
    reply = answer(store, job)
    if reply.error:
        raise RuntimeError(reply.error)
    return reply.body


def timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def measure_queries(folder: Path, repeat: int, cap: float, budget: float) -> dict:
    """Time every named query on every path; return medians in milliseconds per query.

    Each entry says `page`: the rows of the first page a paged query was measured on (None:
    not paged, the whole result).
    """
    store = load_store(file_sources(bench_files(folder)))
    config = Config(cache_bytes=0, max_rows=10**9, timeout=cap, workers=1)
    results = {}
    with QueryEngine(config, store=store) as engine:
        engine.start()
        for name, query in bound_queries():
            subs = query.substitutions
            job = Job(query=query.text, format=None, default_graphs=(), named_graphs=(),
                      union=True, max_rows=config.max_rows, alarm=int(cap) + 3,
                      substitutions=tuple(subs.items()))  # fmt: skip
            run = functools.partial(engine.run, query.text, substitutions=subs)
            try:
                first = timed(run)  # also the warm-up; the worker dies past `cap`
            except QueryTimeout:
                results[name] = {"error": f"over {cap:g} s", "page": query.limit}
                continue
            runs = max(3, min(repeat, int(budget / max(first, 1e-3) / 3)))
            paths = {"floor": (floor, store, query), "engine": (run,),
                     "direct": (direct, store, job)}  # fmt: skip
            times = {path: [] for path in paths}
            try:  # a query near the cap may pass it on a later run (a busy machine)
                answer_ = run()
                for i in range(runs):
                    order = list(paths)[i % 3 :] + list(paths)[: i % 3]  # rotate who goes first
                    for path in order:
                        times[path].append(timed(*paths[path]))
            except QueryTimeout:
                results[name] = {"error": f"over {cap:g} s on a repeat (first run "
                                 f"{first * 1000:.0f} ms)", "page": query.limit}  # fmt: skip
                continue
            results[name] = {"rows": answer_.rows, "bytes": len(answer_.body), "runs": runs,
                             "page": query.limit}  # fmt: skip
            results[name].update({p: statistics.median(t) * 1000 for p, t in times.items()})
    return results


def measure_rdflib(folder: Path, repeat: int, cap: float) -> dict:
    """Time rdflib's SPARQL on the named queries; each query in a forked child killed at `cap`."""
    import rdflib

    dataset = rdflib.Dataset(default_union=True)
    for path in bench_files(folder):
        fmt = "nt" if path.suffix == ".nt" else "turtle"
        dataset.graph(rdflib.URIRef(path.resolve().as_uri())).parse(path, format=fmt)
    context = multiprocessing.get_context("fork")
    results = {}
    for name, text in named_queries():
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_rdflib_child, args=(dataset, text, repeat, sender))
        child.start()
        child.join(cap)
        if child.is_alive():
            child.kill()
            child.join()
            results[name] = {"error": f"over {cap:g} s"}
        else:
            results[name] = receiver.recv() if receiver.poll() else {"error": "failed"}
    return results


def _rdflib_child(dataset, text: str, repeat: int, sender) -> None:
    times = []
    try:
        for _ in range(repeat):
            started = time.perf_counter()
            result = dataset.query(text)
            fmt = "turtle" if result.type in ("CONSTRUCT", "DESCRIBE") else "json"
            result.serialize(format=fmt)
            times.append(time.perf_counter() - started)
        sender.send({"rdflib": statistics.median(times) * 1000, "runs": repeat})
    except Exception as error:  # a benchmark records what failed and goes on
        sender.send({"error": f"{type(error).__name__}: {error}"})


def measure_load_into(folder: Path, store: Path, *, validate: bool, limit: float) -> dict:
    """Time `smartcity-kg load --into DIR` of the generated files (validating first, or not)."""
    shutil.rmtree(store, ignore_errors=True)
    command = [sys.executable, "-m", "smartcity_kg.cli", "load", "--into", str(store)]
    command += [] if validate else ["--no-validate"]
    started = time.perf_counter()
    try:
        done = subprocess.run([*command, *map(str, bench_files(folder))], capture_output=True,
                              text=True, timeout=limit)  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"error": f"not done within {limit:g} s"}
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1][:200]}
    return {"seconds": time.perf_counter() - started, "validated": validate}


def measure_start(
    folder: Path, port: int, *, validate: bool = True, limit: float = 300, store: Path | None = None
) -> dict:
    """Time `smartcity-kg serve --data ...` (or `--store DIR`) from launch to /healthz 200."""
    command = [sys.executable, "-m", "smartcity_kg.cli", "serve", "--port", str(port)]
    command += [] if validate else ["--no-validate"]
    if store is not None:
        command += ["--store", str(store)]
    for path in bench_files(folder) if store is None else []:
        command += ["--data", str(path)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < limit:
            if process.poll() is not None:
                return {"error": f"serve exited with status {process.returncode}"}
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    if r.status == 200:
                        return {"seconds": time.perf_counter() - started}
            except OSError:
                time.sleep(0.05)
        return {"error": f"no answer within {limit:g} s"}
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    modes = parser.add_mutually_exclusive_group(required=True)
    for mode in ("load", "validate", "queries", "rdflib"):
        modes.add_argument(f"--{mode}", dest="mode", action="store_const", const=mode)
    parser.add_argument("folder", type=Path, help="a folder written by bench/generate.py")
    parser.add_argument("--repeat", type=int, default=20, help="runs per query and path")
    parser.add_argument("--cap", type=float, default=60, help="seconds one query may run")
    parser.add_argument("--budget", type=float, default=20, help="seconds per query, all paths")
    args = parser.parse_args()
    if args.mode == "load":
        result = measure_load(args.folder)
    elif args.mode == "validate":
        result = measure_validation(args.folder)
    elif args.mode == "queries":
        result = measure_queries(args.folder, args.repeat, args.cap, args.budget)
    else:
        result = measure_rdflib(args.folder, args.repeat, args.cap)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
