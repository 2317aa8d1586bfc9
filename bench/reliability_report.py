"""Turn the figures of one `bench/reliability.py` run into RELIABILITY.md, judging each criterion.

Nothing here measures: every number comes from the run's records.
"""

import statistics
from collections import Counter

SLOW_MARGIN = 1.0  # seconds past the time limit an expensive request may take to be answered
MEMORY_GROWTH = 0.10  # the largest round may exceed the smallest by this share: "flat"
FLOOD_P50 = (3.0, 0.020)  # during a flood, p50 <= factor x baseline p50 + seconds
FLOOD_P99 = (5.0, 0.100)  # and p99 <= factor x baseline p99 + seconds
SLOW_CLIENT_P99 = 1.0  # seconds: /healthz while many connections send their request head slowly
SLOW_CLIENT_CLOSE_MARGIN = 1.5  # seconds past the header timeout to close a slow connection


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else 0.0


def verdict(ok: bool) -> str:
    return "**pass**" if ok else "**FAIL**"


def histogram(outcomes) -> str:
    counts = Counter("dropped" if o.status is None else str(o.status) for o in outcomes)
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))


def load_section(facts, rounds) -> tuple[list[str], bool]:
    per_round = facts["total"] // 3
    lines = [
        "## Load",
        "",
        f"Tried: three consecutive rounds of {per_round:,} requests each "
        f"({per_round * 3:,} in all) over {facts['concurrency']} keep-alive client "
        "connections, after one warm-up pass over every distinct request. Per 1,000 "
        "requests: 300 named queries (`/queries/<name>`, cached after their first run), "
        "200 ad-hoc queries (each text unique, so never cached), 250 resource requests "
        "(303 for the IRI, or its HTML, Turtle or JSON-LD document), 80 downloads (every "
        "dump, `/downloads`, VoID), 168 malformed requests (syntax errors, updates, SERVICE, "
        "unacceptable Accept, wrong media type, two queries, unknown names, a query over the "
        "length limit, an unknown parameter) and 2 expensive queries (a three-way cartesian "
        "product or a chained unbounded property path). Discovered: "
        + ", ".join(f"{n} {k}" for k, n in facts["found"].items())
        + ".",
        "",
        "Criteria: no 5xx except the designed 503 (a query stopped at the time limit, or refused "
        "at once because every worker is busy and the waiting room is full), no dropped "
        "connection, "
        "every kind answered with its designed status, RSS of all server processes flat "
        f"(largest round at most {MEMORY_GROWTH:.0%} above the smallest).",
        "",
    ]
    ok = True
    lines += [
        "| round | requests | wall s | req/s | 5xx other than the designed 503 | dropped "
        "| other unexpected status | designed 503 on a cheap kind | server processes "
        "| RSS MiB (sum) | PSS MiB (sum) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rounds:
        n = len(r["outcomes"])
        lines.append(
            f"| {r['round']} | {n:,} | {r['wall']:.1f} | {n / r['wall']:.0f} | "
            f"{len(r['bad_5xx'])} | {len(r['dropped'])} | {len(r['unexpected'])} | "
            f"{len(r['shed'])} | "
            f"{r['processes']} | {r['rss'] / 1024:.1f} | {r['pss'] / 1024:.1f} |"
        )
        ok &= not (r["bad_5xx"] or r["dropped"] or r["unexpected"])
    lines += [
        "",
        "Per kind, all three rounds together:",
        "",
        "| kind | requests | statuses | p50 ms | p99 ms | max ms |",
        "| --- | ---: | --- | ---: | ---: | ---: |",
    ]
    outcomes = [o for r in rounds for o in r["outcomes"]]
    for kind in sorted({o.kind for o in outcomes}):
        mine = [o for o in outcomes if o.kind == kind]
        times = [o.elapsed for o in mine]
        lines.append(
            f"| {kind} | {len(mine):,} | {histogram(mine)} | {ms(pct(times, 0.5))} | "
            f"{ms(pct(times, 0.99))} | {ms(max(times))} |"
        )
    rss = [r["rss"] for r in rounds]
    growth = max(rss) / min(rss) - 1
    memory_ok = growth <= MEMORY_GROWTH
    problems = [o for r in rounds for o in r["bad_5xx"] + r["dropped"] + r["unexpected"]]
    lines += [
        "",
        f"Memory: RSS after rounds 1-3 {', '.join(f'{v / 1024:.1f}' for v in rss)} MiB; "
        f"largest {growth:+.1%} over smallest: {verdict(memory_ok)}. (RSS counts pages the "
        "forked query workers share with their parent once per process; PSS divides them.)",
        f"Status and connections: {verdict(ok)}.",
    ]
    shed = [o for r in rounds for o in r["shed"]]
    if shed:
        kinds = Counter(o.kind for o in shed)
        lines.append(
            f"Designed 503s on requests that are not expensive themselves: {len(shed)} "
            f"({', '.join(f'{k}: {n}' for k, n in sorted(kinds.items()))}), allowed by the "
            "criterion: they waited for a query worker while expensive queries held every one, "
            "and reached the time limit. First: "
            + "; ".join(repr(o.note.strip()[:70]) for o in shed[:2])
            + "."
        )
    if problems:
        lines.append(
            "First problems: "
            + "; ".join(f"{o.kind} {o.status} {o.note[:80]!r}" for o in problems[:5])
            + "."
        )
    lines.append("")
    return lines, ok and memory_ok


def kill_section(facts, killed) -> tuple[list[str], bool]:
    lines = [
        "## Fault: a query worker killed in the middle of a query",
        "",
        f"Tried: {len(killed)} times, an expensive query was sent; 0.2 s later the query "
        "worker that was using CPU (read from /proc) got SIGKILL. Then 10 cheap uncached "
        "queries were sent one after another, and the pool was read from the process tree.",
        "",
        "Criteria: the killed request gets a 5xx naming the worker before the time limit, "
        "the next 10 requests get 200, the victim is gone (reaped, not a zombie) and the "
        f"pool is back to {facts['workers']} query workers and the fast lane's without it.",
        "",
        "| # | victim pid | status | ms | message | next requests 200 | victim gone "
        "| replaced | workers after |",
        "| ---: | ---: | ---: | ---: | --- | ---: | --- | --- | --- |",
    ]
    ok = bool(killed)
    for i, k in enumerate(killed, 1):
        good = (
            k["killed"]
            and k["status"] is not None
            and 500 <= k["status"] < 600
            and "worker" in k["message"]
            and k["elapsed"] < facts["timeout"]
            and k["after_ok"] == k["after"]
            and k["replaced"]
            and k["victim_gone"]
        )
        ok &= good
        elapsed = ms(k["elapsed"]) if k["elapsed"] is not None else "-"
        lines.append(
            f"| {i} | {k['victim']} | {k['status']} | {elapsed} | {k['message'][:90]} | "
            f"{k['after_ok']}/{k['after']} | {k['victim_gone']} | {k['replaced']} | "
            f"{', '.join(map(str, k['workers_after']))} |"
        )
    lines += ["", f"Result: {verdict(ok)}.", ""]
    return lines, ok


FLOOD_TITLES = {
    "comment": ("## Fault: expensive queries from many clients at once", "a comment"),
    "literal": (
        "## Fault: expensive queries from many clients, one literal changed per request",
        "the literal a FILTER compares with (each request a new text for the cache, the same "
        "shape for the fast lane)",
    ),
}


def flood_section(facts, flood) -> tuple[list[str], bool]:
    limit = facts["timeout"]
    expensive = flood["flood"]
    statuses = histogram(expensive)
    slowest = max((o.elapsed for o in expensive), default=0.0)
    stopped = all(o.status in (200, 503) for o in expensive) and slowest <= limit + SLOW_MARGIN
    title, unique = FLOOD_TITLES[flood["varies"]]
    lines = [
        title,
        "",
        f"Tried: {flood['clients']} clients each sent expensive queries, each made unique by "
        f"{unique}, back to back for "
        f"{flood['seconds']:g} s ({len(expensive)} queries) against {facts['workers']} "
        f"query workers and a {limit:g} s limit, while three probe clients (one per kind below) "
        "sent cheap requests one at a time; the same probes were timed on the idle server "
        "first (baseline) and again after the flood.",
        "",
        f"Criteria: every expensive query is answered 503 (or 200) within the limit plus "
        f"{SLOW_MARGIN:g} s; every probe gets 200, with p50 at most "
        f"{FLOOD_P50[0]:g} x baseline + {FLOOD_P50[1] * 1000:g} ms and p99 at most "
        f"{FLOOD_P99[0]:g} x baseline + {FLOOD_P99[1] * 1000:g} ms.",
        "",
        f"Expensive queries: {statuses}; slowest answer {ms(slowest)} ms: {verdict(stopped)}.",
        "",
        "| probe | baseline n | baseline p50 / p99 ms | during n | during statuses "
        "| during p50 / p99 ms | after statuses | verdict |",
        "| --- | ---: | ---: | ---: | --- | ---: | --- | --- |",
    ]
    ok = stopped and bool(expensive)
    for kind in sorted({o.kind for o in flood["baseline"]}):
        base = [o.elapsed for o in flood["baseline"] if o.kind == kind]
        during = [o for o in flood["during"] if o.kind == kind]
        after = [o for o in flood["after"] if o.kind == kind]
        times = [o.elapsed for o in during]
        b50, b99, d50, d99 = pct(base, 0.5), pct(base, 0.99), pct(times, 0.5), pct(times, 0.99)
        good = (
            bool(during)
            and all(o.status == 200 for o in during + after)
            and d50 <= FLOOD_P50[0] * b50 + FLOOD_P50[1]
            and d99 <= FLOOD_P99[0] * b99 + FLOOD_P99[1]
        )
        ok &= good
        lines.append(
            f"| {kind} | {len(base)} | {ms(b50)} / {ms(b99)} | {len(during)} | "
            f"{histogram(during)} | {ms(d50)} / {ms(d99)} | {histogram(after)} | "
            f"{verdict(good)} |"
        )
    starved = [o for o in flood["during"] if o.kind == "ad-hoc query" and o.status != 200]
    if starved:
        lines += [
            "",
            f"Why the uncached probe fails: {len(starved)} of its requests got 503. It "
            "needs a query worker; every main worker was running an expensive query and "
            "the fast lane (one spare worker that runs queries of a shape not yet seen to "
            "be slow, for at most --fast-lane seconds) was busy with queries of new shapes "
            "or turned off.",
        ]
    lines += ["", f"Result: {verdict(ok)}.", ""]
    return lines, ok


def memory_section(facts, memory) -> tuple[list[str], bool]:
    outcomes, repeat, after = memory["outcomes"], memory["repeat"], memory["after"]
    named = all("SMARTCITY_KG_WORKER_MEMORY" in o.note for o in [*outcomes, repeat])
    stopped = all(o.status == 503 for o in [*outcomes, repeat]) and named
    quick = repeat.elapsed <= 0.5
    fine = bool(after) and all(o.status == 200 for o in after)
    ok = stopped and quick and fine
    slowest = max(o.elapsed for o in outcomes)
    lines = [
        "## Fault: queries that ask for gigabytes of memory",
        "",
        f"Tried: {len(outcomes)} different queries each asking for about 8 GB "
        '(`REPLACE(REPLACE(?x, "", ?x), "", ?x)` over 2,000 characters), one at a time, '
        "against the default `SMARTCITY_KG_WORKER_MEMORY` (1 GiB a query worker); then the "
        "first again, and the cheap probes. The RSS of every server process was sampled every "
        "50 ms meanwhile.",
        "",
        "Criteria: each is answered 503 naming the limit and its setting; the repeat is refused "
        "within 0.5 s without a worker; the probes get 200 afterwards.",
        "",
        f"Answers: {histogram(outcomes)}, slowest {ms(slowest)} ms, limit named: {named}; "
        f"repeat {repeat.status} in {ms(repeat.elapsed)} ms; probes after: {histogram(after)}; "
        f"peak RSS of all server processes together {memory['peak_kib'] / 1024:.0f} MiB.",
        "",
        f"Result: {verdict(ok)}.",
        "",
    ]
    return lines, ok


def slow_section(facts, slow) -> tuple[list[str], bool]:
    probes = slow["probes"]
    times = [o.elapsed for o in probes]
    answered = bool(probes) and all(o.status == 200 for o in probes + slow["after"])
    fast = answered and pct(times, 0.99) <= SLOW_CLIENT_P99
    limit = facts["header_timeout"] + SLOW_CLIENT_CLOSE_MARGIN
    closed = slow["closed"]
    timely = len(closed) == slow["connections"] and max(closed) <= limit
    lines = [
        "## Fault: slow clients holding connections open",
        "",
        f"Tried: {slow['connections']} connections each sent `GET /healthz HTTP/1.1` and then "
        "one more header line every half second, never the blank line that ends the request "
        f"head, for {slow['seconds']:g} s; meanwhile a probe sent `GET /healthz` on a new "
        "connection every 0.1 s.",
        "",
        f"Criteria: every probe gets 200 with p99 at most {SLOW_CLIENT_P99:g} s; the server "
        f"closes every slow connection within its header timeout ({facts['header_timeout']:g} s) "
        f"plus {SLOW_CLIENT_CLOSE_MARGIN:g} s.",
        "",
        f"Probes: {len(probes)}, {histogram(probes)}; p50 / p99 / max "
        f"{ms(pct(times, 0.5))} / {ms(pct(times, 0.99))} / {ms(max(times, default=0.0))} ms; "
        f"after the slow clients: {histogram(slow['after'])}: {verdict(fast)}.",
        "",
        f"Slow connections closed by the server: {len(closed)} of {slow['connections']}"
        + (f", after {closed[0]:.1f} to {closed[-1]:.1f} s" if closed else "")
        + f": {verdict(timely)}.",
        "",
        f"Result: {verdict(fast and timely)}.",
        "",
    ]
    return lines, fast and timely


def stop_section(facts, stopped) -> tuple[list[str], bool]:
    ok = stopped["code"] == 0 and not stopped["left"] and not stopped["listening"]
    lines = [
        "## Shutdown: no process left behind",
        "",
        f"Tried: SIGTERM to the server's main process after everything above. Processes seen "
        f"below it during the run (HTTP worker, query workers and their replacements): "
        f"{stopped['seen']}.",
        "",
        f"Exit status {stopped['code']} after {stopped['seconds']:.1f} s; processes still "
        f"alive: {len(stopped['left'])} {stopped['left'] or ''}; port still listening: "
        f"{stopped['listening']}. Tracebacks in the server log over the whole run: "
        f"{facts['tracebacks']}. Result: {verdict(ok and not facts['tracebacks'])}.",
        "",
    ]
    return lines, ok and not facts["tracebacks"]


def refusal_section(refused) -> tuple[list[str], bool]:
    lines = [
        "## Start-up with corrupt or non-conforming data",
        "",
        "Tried: `smartcity-kg serve --data FILE ...` on each file below, waiting up to "
        "120 s for it to exit or listen.",
        "",
        "Criteria: exit 2 (unreadable) or 1 (non-conforming), exactly one line on stderr "
        "starting `smartcity-kg: error:` and naming the file and line or the failing shape, "
        "and the port never listening. The `--no-validate` control must start.",
        "",
        "| case | files | exit (expected) | listened | s | stderr | verdict |",
        "| --- | --- | --- | --- | ---: | --- | --- |",
    ]
    ok = True
    for r in refused:
        ok &= r["passed"]
        files = ", ".join(r["files"]) if len(r["files"]) < 4 else f"{len(r['files'])} files"
        expected = "start" if r["expected"] is None else r["expected"]
        stderr = " / ".join(r["stderr"])[:420].replace("|", "\\|")
        lines.append(
            f"| {r['label']} | {files} | {r['code']} ({expected}) | {r['listened']} | "
            f"{r['seconds']:.1f} | `{stderr}` | {verdict(r['passed'])} |"
        )
    lines += ["", f"Result: {verdict(ok)}.", ""]
    return lines, ok


def write_report(
    facts, rounds, killed, floods, memory, slow, stopped, refused
) -> tuple[list[str], bool]:
    """Return the lines of RELIABILITY.md and whether every criterion passed."""
    sections = [
        load_section(facts, rounds),
        kill_section(facts, killed),
        *(flood_section(facts, flood) for flood in floods),
        memory_section(facts, memory),
        slow_section(facts, slow),
        stop_section(facts, stopped),
        refusal_section(refused),
    ]
    passed = all(ok for _, ok in sections)
    names = ["load", "worker killed", *(f"expensive flood ({f['varies']})" for f in floods),
             "memory", "slow clients", "shutdown", "start-up refusal"]  # fmt: skip
    summary = ", ".join(f"{n} {verdict(ok)}" for n, (_, ok) in zip(names, sections, strict=True))
    lines = [
        "# Reliability",
        "",
        "Generated by one command; every figure below was measured in that run "
        "(do not edit by hand).",
        "",
        f"- Command: `{facts['command']}` ({facts['seconds'] / 60:.1f} minutes)",
        f"- Date: {facts['started']}",
        f"- Machine: {facts['machine']}; the client runs on the same machine, over loopback",
        f"- Server: `smartcity-kg serve --timeout {facts['timeout']:g} --workers "
        f"{facts['workers']}` (granian, one HTTP worker process with threads, "
        f"{facts['workers']} query worker processes and one fast-lane worker for queries not "
        "known to be slow while those are busy), packaged graph",
        f"- Load: {facts['total']:,} requests at concurrency {facts['concurrency']}",
        f"- Overall: {verdict(passed)} ({summary})",
        "",
    ]
    for section, _ in sections:
        lines += section
    lines.append(
        f"Median of all load latencies: "
        f"{ms(statistics.median(o.elapsed for r in rounds for o in r['outcomes']))} ms."
    )
    return lines, passed
