"""Render bench/REPORT.md from bench/out/results.json (bench/run.py writes both).

python bench/report.py      # re-render the report from the last run's results
"""

import json
import statistics
from pathlib import Path

from smartcity_kg.config import Config
from smartcity_kg.sparql.engine import CACHE_MAX_BODY, WAITING_PER_WORKER

ROOT = Path(__file__).resolve().parents[1]
OURS, OXIGRAPH = "smartcity-kg serve", "oxigraph serve (in memory)"
WORKERS = Config().workers  # what `serve` runs with by default, as in the HTTP runs
CAP_S = 10  # bench/run.py's --cap for the full run
OVERHEAD_TARGET, P50_TARGET_MS, START_TARGET_S = 1.3, 100, 30


def write_report(data: dict) -> str:
    """Return the report as Markdown: machine, figures side by side, targets, command."""
    m, results = data["machine"], data["results"]
    lines = [
        "# Benchmark report",
        "",
        f"Run on {m['date']}: {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}, "
        f"pyoxigraph {m['pyoxigraph']} ({m['platform']}). A shared machine: other work ran "
        "at the same time, so absolute figures are noisy; every comparison below was measured "
        "side by side in the same run, interleaved, so the ratios hold better than the figures.",
        "",
        f"Regenerate with `{data['command']}` (generated graphs go to bench/out/, git-ignored).",
        "",
        *[f"{note}\n" for note in data.get("notes", [])],
        *targets(results),
        *reasons(results),
        *sizes_table(results),
        *query_tables(results),
        *http_tables(results),
    ]
    return "\n".join(lines) + "\n"


def fmt(value, digits=1, unit="") -> str:
    return "—" if value is None else f"{value:.{digits}f}{unit}"


def error_or(entry: dict, key: str, digits=1) -> str:
    return entry.get("error", "—") if key not in entry else fmt(entry[key], digits)


def directory_cell(entry: dict) -> str:
    """A load or start figure of the store directory, saying whether the data was validated."""
    if "seconds" not in entry:
        return error_or(entry, "seconds")
    return f"{fmt(entry['seconds'])}{'' if entry.get('validated') else ' (unvalidated)'}"


def sizes_table(results: dict) -> list[str]:
    lines = [
        "## Load, memory, validation and start, per size",
        "",
        "| size | triples in store | generate s | load s | peak RSS MiB (before load) | "
        "SHACL validation s | serve start s (validating) | serve start s (--no-validate) | "
        "load --into DIR s | serve --store DIR start s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, r in results.items():
        load = r["load"]
        rss = f"{load['rss_mb']:.0f} ({load['baseline_rss_mb']:.0f})" if "rss_mb" in load else "—"
        lines.append(
            f"| {label} | {load.get('triples', '—')} | {r['generate_s']:.1f} | "
            f"{error_or(load, 'seconds')} | {rss} | {error_or(r['validation'], 'seconds')} | "
            f"{error_or(r['start'], 'seconds')} | {error_or(r['start_no_validate'], 'seconds')} | "
            f"{directory_cell(r.get('load_into', {}))} | {directory_cell(r.get('start_dir', {}))} |"
        )
    lines += [
        "",
        "Load: `graph.load_store` of the generated files as `serve --data` loads them, "
        "in a fresh process; peak RSS is the process's VmHWM (getrusage's ru_maxrss would "
        "count the parent). Start: launch of `smartcity-kg serve --data ...` to /healthz "
        "answering 200; by default serve validates the data with SHACL before it listens.",
        "",
    ]
    return lines


def overhead(queries: dict) -> tuple[float | None, list]:
    """Return the geometric mean of engine/floor over the measured queries, and those entries.

    Each query weighs the same: a sum of times would be decided by the slowest query alone.
    """
    measured = [(n, q) for n, q in queries.items() if "floor" in q]
    if not measured:
        return None, measured
    return statistics.geometric_mean(q["engine"] / q["floor"] for _, q in measured), measured


def total_ratio(measured: list) -> float:
    """Return sum(engine)/sum(floor): the overhead on running every query once."""
    return sum(q["engine"] for _, q in measured) / sum(q["floor"] for _, q in measured)


def query_tables(results: dict) -> list[str]:
    lines = [
        "## In-process query latency (median ms)",
        "",
        "floor: raw pyoxigraph `Store.query` + `serialize` (SPARQL JSON, Turtle for DESCRIBE); "
        "engine: `QueryEngine.run` (the CLI's in-process path: checks, a forked worker, the "
        "pipe), cache off, no row limit; direct: the worker's `answer` in this process; "
        "rdflib: rdflib's SPARQL engine. Each query as the endpoint runs it at its defaults: "
        "default parameters pre-bound (pyoxigraph substitutions; rdflib gets them in a VALUES "
        "block), and a paged query (rows marked 'of a page of N') on its first page of N rows.",
        "",
    ]
    for label, r in results.items():
        queries, rdflib = r.get("queries", {}), r.get("rdflib", {})
        if "error" in queries:
            lines += [f"### {label}: {queries['error']}", ""]
            continue
        ratio, measured = overhead(queries)
        lines += [
            f"### {label} (engine/floor: {fmt(ratio, 2, 'x')} geometric mean over the queries, "
            f"{total_ratio(measured):.2f}x on their total time)",
            "",
            "| query | rows | floor | engine | direct | engine/floor | rdflib |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, q in queries.items():
            rd = rdflib.get(name, {})
            rd_text = fmt(rd["rdflib"], 1) if "rdflib" in rd else rd.get("error", "")
            if "floor" not in q:
                lines.append(f"| {name} | | {q.get('error')} | | | | {rd_text} |")
                continue
            lines.append(
                f"| {name} | {q['rows']}{page_note(q)} | {q['floor']:.2f} | {q['engine']:.2f} | "
                f"{q['direct']:.2f} | {q['engine'] / q['floor']:.2f} | {rd_text} |"
            )
        lines.append("")
    return lines


def http_tables(results: dict) -> list[str]:
    lines = ["## HTTP: smartcity-kg serve against Oxigraph server (in memory), same data", ""]
    for label, r in results.items():
        h = r.get("http")
        if not h:
            continue
        lines += [
            f"### {label}: {len(h['queries'])} queries, {h['requests']} requests per row",
            "",
            f"Left out (slower than 1 s in process): {', '.join(h['left_out']) or 'none'}; "
            f"dropped (not 200 on both): {', '.join(h['dropped']) or 'none'}.",
            "",
            "| server | requests | concurrency | req/s | p50 ms | p99 ms | errors |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, scenario, concurrency, row in h["rows"]:
            lines.append(
                f"| {name} | {scenario} | {concurrency} | {row['rps']:.0f} | "
                f"{row['p50']:.1f} | {row['p99']:.1f} | {row['errors']} |"
            )
        lines.append("")
    return lines


def rps(rows, server, scenario, concurrency):
    for name, s, c, row in rows:
        if (name, s, c) == (server, scenario, concurrency):
            return row["rps"]
    return None


def targets(results: dict) -> list[str]:
    lines = ["## Targets", "", "| target | size | figure | verdict |", "| --- | --- | --- | --- |"]
    for label, r in results.items():
        ratio, measured = overhead(r.get("queries", {}))
        if ratio is not None:
            worst = max(measured, key=lambda item: item[1]["engine"] / item[1]["floor"])
            detail = (
                f"{ratio:.2f}x geometric mean over {len(measured)} queries (worst {worst[0]} "
                f"{worst[1]['engine'] / worst[1]['floor']:.2f}x; all run once: "
                f"{total_ratio(measured):.2f}x)"
            )
            lines.append(
                f"| in-process overhead ≤ {OVERHEAD_TARGET}x | {label} | {detail} | "
                f"{verdict(ratio <= OVERHEAD_TARGET, ratio / OVERHEAD_TARGET, 'x')} |"
            )
        for concurrency in (1, 8, 32):
            rows = r.get("http", {}).get("rows", [])
            ours, theirs = (rps(rows, s, "uncached", concurrency) for s in (OURS, OXIGRAPH))
            if ours and theirs:
                share = ours / theirs
                lines.append(
                    f"| HTTP uncached ≥ 0.5x Oxigraph | {label}, c={concurrency} | "
                    f"{ours:.0f} vs {theirs:.0f} req/s = {share:.2f}x | "
                    f"{verdict(share >= 0.5, share / 0.5, 'of target')} |"
                )
            repeated = [
                rps(rows, OURS, s, concurrency)
                for s in ("repeated identical", "If-None-Match (304)")
            ]
            theirs = rps(rows, OXIGRAPH, "repeated identical", concurrency)
            if all(repeated) and theirs:
                worst = min(repeated)
                lines.append(
                    f"| HTTP repeated > Oxigraph | {label}, c={concurrency} | "
                    f"{repeated[0]:.0f} (cache), {repeated[1]:.0f} (304) vs {theirs:.0f} "
                    f"req/s | {verdict(worst > theirs, worst / theirs, 'x')} |"
                )
    big = results.get("1m")
    if big:
        lines += p50_targets(big)
    lines.append("")
    return lines


def page_note(q: dict) -> str:
    """Return ' of a page of N' for a query measured on its first page, else ''."""
    return f" of a page of {q['page']}" if q.get("page") else ""


def p50_targets(big: dict) -> list[str]:
    queries = big.get("queries", {})
    medians = {n: q.get("engine") for n, q in queries.items()}
    slow = {n: v for n, v in medians.items() if v is None or v >= P50_TARGET_MS}
    fast = len(medians) - len(slow)
    paged = sorted({q["page"] for q in queries.values() if q.get("page")})
    pages = "/".join(map(str, paged))
    how = f"; paged queries on their first page of {pages} rows" if paged else ""
    described = ", ".join(
        f"{n} {fmt(v, 0, ' ms') if v else queries[n].get('error')}" for n, v in sorted(slow.items())
    )
    lines = [
        f"| named queries p50 < {P50_TARGET_MS} ms (engine, in process, at their defaults{how}) "
        f"| 1m | {fast} of {len(medians)} under; over: {described or 'none'} | "
        f"{verdict(not slow, None, '')} |"
    ]
    starts = (("start", "--data, validating"), ("start_no_validate", "--data --no-validate"),
              ("start_dir", "--store DIR loaded by load --into"))  # fmt: skip
    for key, name in starts:
        start = big.get(key, {})
        if start.get("validated") is False:
            name += ", loaded with --no-validate: SHACL at this size is measured above"
        if "seconds" in start:
            ok = start["seconds"] < START_TARGET_S
            lines.append(
                f"| server start < {START_TARGET_S} s ({name}) | 1m | "
                f"{start['seconds']:.1f} s | "
                f"{verdict(ok, start['seconds'] / START_TARGET_S, 'x the limit')} |"
            )
        else:
            lines.append(
                f"| server start < {START_TARGET_S} s ({name}) | 1m | "
                f"{start.get('error')} | missed |"
            )
    return lines


def reasons(results: dict) -> list[str]:
    """Explain the misses from the figures of this run."""
    lines = ["## Why targets are missed", ""]
    for label, r in results.items():
        ratio, measured = overhead(r.get("queries", {}))
        if ratio is None or ratio <= OVERHEAD_TARGET:
            continue
        quick = [q for _, q in measured if q["floor"] < 1000]  # slower ones: noise dominates
        tiny = [q for q in quick if q["floor"] < 50] or quick  # the hop is not lost in noise
        hop = statistics.median(q["engine"] - q["direct"] for q in tiny)
        serialise = sum(q["direct"] - q["floor"] for q in quick) / sum(q["floor"] for q in quick)
        total = sum(q["engine"] for _, q in measured) / sum(q["floor"] for _, q in measured)
        smallest = min(measured, key=lambda item: item[1]["floor"])
        lines.append(
            f"- In-process overhead at {label} ({ratio:.2f}x, the geometric mean of the queries' "
            f"ratios; {total:.2f}x on their total time): the process hop (checks, pickling the "
            f"job and the result over the worker's pipe) costs a median {hop:.2f} ms a query, "
            f"most of a sub-millisecond query's time ({smallest[0]}: floor "
            f"{smallest[1]['floor']:.2f} ms) and nothing beside a query of a second; the worker's "
            f"serialisation adds {serialise:.0%} to the floor's time on the queries under a second "
            "(pyoxigraph writes TSV, cut at the row limit, and reads it back into the asked "
            "format: only a line-per-row format can be cut at a row count without Python per "
            "row). The hop is what lets a time limit really stop a query, so the geometric mean "
            "stays above the target wherever tiny queries weigh as much as long ones."
        )
    slow = sorted({n for r in results.values() for n, q in r.get("queries", {}).items()
                   if "error" in q})  # fmt: skip
    if slow:
        lines.append(
            f"- Queries over the {CAP_S} s cap at some size ({', '.join(slow)}): the engine "
            "stopped them; its worker runs the same pyoxigraph evaluation as the floor, so at "
            f"least {CAP_S} s of each is pyoxigraph's evaluation, not endpoint overhead. They "
            "return a row per task and facet or city, so they grow with the graph."
        )
    big = results.get("1m", {})
    over = {
        n: q for n, q in big.get("queries", {}).items() if q.get("engine", 1e9) >= P50_TARGET_MS
    }
    finished = {n: q for n, q in over.items() if "rows" in q}
    over_floor = sum(1 for q in finished.values() if q["floor"] >= P50_TARGET_MS)
    if finished:
        described = ", ".join(f"{n} ({q['rows']} rows{page_note(q)}, floor {q['floor']:.0f} ms)"
                              for n, q in sorted(finished.items()))  # fmt: skip
        lines.append(
            f"- p50 at 1m: {described}: raw pyoxigraph (the floor) alone takes "
            f"{P50_TARGET_MS} ms or more on {over_floor} of these {len(finished)}, so no endpoint "
            "could meet the target with these queries; most return a row per task (or per task "
            "and facet) and grow with the graph. "
            + (
                "Paged queries were measured on their first page, yet the ORDER BY that keeps "
                "pages stable makes pyoxigraph evaluate and sort every row before the LIMIT, so "
                "a first page costs about as much as the whole result; a parameter the caller "
                "gives to narrow the query is what makes it fast."
                if any(q.get("page") for q in finished.values())
                else "Meeting 100 ms needs the queries to page (LIMIT/OFFSET, or a parameter "
                "that narrows them), not a faster endpoint."
            )
        )
    start = big.get("start", {})
    if big and start.get("seconds", START_TARGET_S + 1) >= START_TARGET_S:
        quick = big.get("start_no_validate", {}).get("seconds")
        lines.append(
            "- Start at 1m: `serve` validates `--data` with SHACL (pySHACL over rdflib) before it "
            f"listens, and validation is the cost ({big['validation'].get('error') or 'see above'})"
            f"; without it (`--no-validate`) the server answers after {fmt(quick)} s. The path "
            "for large data is `load --into DIR` (which validates once, and records it in the "
            "directory) and `serve --store DIR` (which checks that record instead of validating "
            f"again): it started in {fmt(big.get('start_dir', {}).get('seconds'))} s here. "
            "Where SHACL takes over a minute the benchmark loads the directory with "
            "--no-validate (validation is timed on its own) and serves it so; the record check "
            "that replaces validation reads one small file."
        )
    for label, r in results.items():
        rows = r.get("http", {}).get("rows", [])
        misses = [c for c in (1, 8, 32) if (ours := rps(rows, OURS, "uncached", c))
                  and ours < 0.5 * (rps(rows, OXIGRAPH, "uncached", c) or 0)]  # fmt: skip
        if misses:
            ratio, _ = overhead(r.get("queries", {}))
            lines.append(
                f"- HTTP uncached at {label}, concurrency {', '.join(map(str, misses))}: each "
                "request pays Flask and the WSGI layer in Python, the in-process overhead above "
                f"({fmt(ratio, 2)}x) and a fixed pool of {WORKERS} query worker processes, "
                "while the Oxigraph server answers on Rust threads; client, both servers and "
                "other engineers' tests share 2 cores. With 32 clients our requests queue for "
                f"the {WORKERS} workers (beyond {WAITING_PER_WORKER} waiting per worker they are "
                "refused with 503, counted as errors), so p50 grows with concurrency."
            )
        misses = [c for c in (1, 8, 32) if (theirs := rps(rows, OXIGRAPH, "repeated identical", c))
                  and min(rps(rows, OURS, s, c) or 0 for s in ("repeated identical",
                          "If-None-Match (304)")) <= theirs]  # fmt: skip
        if misses:
            big = [f"{n} ({q['bytes'] / 1e6:.1f} MB)" for n, q in r.get("queries", {}).items()
                   if q.get("bytes", 0) > CACHE_MAX_BODY]  # fmt: skip
            lines.append(
                f"- HTTP repeated at {label}, concurrency {', '.join(map(str, misses))}: results "
                f"larger than the cache's limit ({CACHE_MAX_BODY / 1e6:.0f} MB per body) are not "
                f"kept ({', '.join(big) or 'at 100k coverage-by-duty, about 5.5 MB in a probe'}), "
                "so each repeat of such a query runs it again, and an If-None-Match cannot be "
                "answered without it; those requests set the pace of the whole rotation."
            )
    return [*lines, ""] if len(lines) > 2 else []


def verdict(met: bool, factor: float | None, unit: str) -> str:
    if met:
        return "met"
    return f"**missed** ({factor:.2f} {unit})" if factor is not None else "**missed**"


def main() -> None:
    data = json.loads((ROOT / "bench" / "out" / "results.json").read_text(encoding="utf-8"))
    (ROOT / "bench" / "REPORT.md").write_text(write_report(data), encoding="utf-8")


if __name__ == "__main__":
    main()
