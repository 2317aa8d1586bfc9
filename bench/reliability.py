"""Prove that the production server keeps serving, loses nothing and refuses what it must.

Starts `smartcity-kg serve` (granian) on a free loopback port with a short time limit, then:

1. load: three rounds of a mixed load (named queries, ad-hoc queries, resource pages,
   downloads, malformed and deliberately expensive queries) at a fixed concurrency; per kind the
   status histogram, p50/p99 latency and dropped connections; the RSS of every server process
   after each round;
2. faults: a query worker killed with SIGKILL in the middle of a query, several times; many
   clients sending expensive queries at once while a probe measures cheap requests against their
   idle baseline, once with the queries differing in a comment and once in a literal; queries
   asking for gigabytes of memory; many connections sending their request head a line at a
   time while a probe times /healthz; then a clean stop, after which no server process may be left;
3. start-up refusals: corrupt and non-conforming `--data` files must stop `serve` before it
   listens, with one line naming the file and line or the failing shape.

Writes RELIABILITY.md at the repository root from the figures of this run only. Every loop is
bounded in count and in time.

    python bench/reliability.py [--requests 20000] [--concurrency 32] [--quick]
"""

import argparse
import http.client
import os
import platform
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench_endpoint import catalogue, free_port, serve_command, wait_until_up
from reliability_report import write_report

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "RELIABILITY.md"
TIMEOUT = 2.0  # the server's query time limit (--timeout) for this run
HEADER_TIMEOUT = 10.0  # the server's default --header-timeout, which slow clients run into
CLIENT_TIMEOUT = 30.0  # a request without an answer by then counts as dropped
BASE = "https://w3id.org/smartcity-kr/"
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
PATHS = "SELECT (COUNT(*) AS ?n) WHERE { ?s (!<urn:x:none>)* ?o . ?o (!<urn:x:none>)* ?x }"
CHEAP = [
    f"SELECT ?i ?l WHERE {{ ?i a <{BASE}def#SupportingInstitution> ; "
    "<http://www.w3.org/2004/02/skos/core#prefLabel> ?l } LIMIT 40",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    f"ASK {{ ?t a <{BASE}def#AssignedTask> }}",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 30",
]
ACCEPT = {"solutions": "application/sparql-results+json", "graph": "text/turtle"}


@dataclass(frozen=True)
class Req:
    """One request of the mix and the statuses it may get without failing the run."""

    kind: str
    method: str
    path: str
    body: bytes | None = None
    headers: tuple = ()
    ok: frozenset = frozenset({200})


@dataclass
class Outcome:
    kind: str
    status: int | None  # None: the connection dropped (reset, closed, timed out)
    elapsed: float
    note: str = ""


@dataclass
class Server:
    """A running `smartcity-kg serve` and its log."""

    process: subprocess.Popen
    port: int
    log: Path
    seen: set = field(default_factory=set)  # every pid ever seen below the master

    def tree(self) -> list[int]:
        """Return the master and every process below it."""
        found = [self.process.pid, *descendants(self.process.pid)]
        self.seen.update(found)
        return found

    def query_workers(self) -> list[int]:
        """Return the query worker pids: the children of the HTTP worker processes."""
        http_workers = children(self.process.pid)
        return sorted(p for w in http_workers for p in children(w))


# --- processes ------------------------------------------------------------------------------


def parents() -> dict[int, list[int]]:
    """Map each pid to its children, from /proc."""
    found: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return found


def children(pid: int) -> list[int]:
    return parents().get(pid, [])


def descendants(pid: int) -> list[int]:
    table, found, todo = parents(), [], [pid]
    while todo:
        kids = table.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def status_field(pid: int, name: str) -> str | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def rss_kib(pids: list[int]) -> int:
    """Sum VmRSS over `pids` (shared copy-on-write pages counted once per process)."""
    return sum(int((status_field(p, "VmRSS") or "0 kB").split()[0]) for p in pids)


def pss_kib(pids: list[int]) -> int:
    """Sum Pss over `pids`: shared pages divided among their sharers, so a fair total."""
    total = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:"))
    return total


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1
    return int(fields[11]) + int(fields[12])  # utime + stime


def alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie."""
    state = status_field(pid, "State")
    return state is not None and not state.startswith("Z")


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def start_server(log_dir: Path, *args: str) -> Server:
    port = free_port()
    log = log_dir / f"serve-{port}.log"
    command = serve_command(port, *args)
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    wait_until_up(port, "/healthz")
    server = Server(process, port, log)
    server.tree()
    return server


def stop_server(server: Server) -> dict:
    """SIGTERM the master; report how long it took and which processes outlived it."""
    server.tree()
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    try:
        code = server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        code = server.process.wait()
    seconds = time.monotonic() - started
    deadline = time.monotonic() + 5
    while any(alive(p) for p in server.seen) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = sorted(p for p in server.seen if alive(p))
    return {
        "code": code,
        "seconds": seconds,
        "seen": len(server.seen),
        "left": left,
        "listening": listening(server.port),
    }


# --- HTTP ------------------------------------------------------------------------------------


def send(conn: http.client.HTTPConnection, req: Req) -> tuple[int, bytes]:
    conn.request(req.method, req.path, body=req.body, headers=dict(req.headers))
    response = conn.getresponse()
    return response.status, response.read()


def run_requests(port: int, jobs: list[Req], concurrency: int) -> tuple[list[Outcome], float]:
    """Send `jobs` over `concurrency` keep-alive connections; a failed connection is replaced."""
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def client(chunk: list[Req]):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
        mine = []
        for req in chunk:
            started = time.perf_counter()
            try:
                status, body = send(conn, req)
                note = body[:160].decode("utf-8", "replace") if status >= 500 else ""
                mine.append(Outcome(req.kind, status, time.perf_counter() - started, note))
            except (OSError, http.client.HTTPException) as error:
                mine.append(
                    Outcome(req.kind, None, time.perf_counter() - started, type(error).__name__)
                )
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
        conn.close()
        with lock:
            outcomes.extend(mine)

    threads = [
        threading.Thread(target=client, args=(jobs[i::concurrency],)) for i in range(concurrency)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes, time.perf_counter() - started


def one(port: int, req: Req) -> Outcome:
    return run_requests(port, [req], 1)[0][0]


def sparql_get(kind: str, query: str, ok=frozenset({200}), accept=ACCEPT["solutions"]) -> Req:
    from urllib.parse import urlencode

    return Req(
        kind, "GET", "/sparql?" + urlencode({"query": query}), headers=(("Accept", accept),), ok=ok
    )


def expensive(tag: str, varies: str = "comment") -> Req:
    """An expensive query made unique by `tag`: in a comment, or as a literal it compares with.

    A comment leaves the query's shape alone; a literal once made every request a new shape,
    so a flood of them kept taking the fast lane from cheap queries.
    """
    text = CARTESIAN if sum(tag.encode()) % 2 else PATHS
    if varies == "literal":
        return sparql_get("expensive", text.replace(" }", f' FILTER(?o != "{tag}") }}', 1),
                          ok=frozenset({200, 503}))  # fmt: skip
    return sparql_get("expensive", f"{text}\n# {tag}", ok=frozenset({200, 503}))


def cheap_adhoc(tag: str, index: int) -> Req:
    query = CHEAP[index % len(CHEAP)]
    accept = ACCEPT["graph"] if query.startswith("CONSTRUCT") else ACCEPT["solutions"]
    return sparql_get("ad-hoc query", f"{query}\n# {tag}", accept=accept)


# --- the mix ---------------------------------------------------------------------------------


def discover(port: int) -> dict[str, list[Req]]:
    """Find the named queries, resource documents and downloads this server offers."""
    named = []
    for name, _, accept in catalogue():
        req = Req("named query", "GET", f"/queries/{name}", headers=(("Accept", accept),))
        if one(port, req).status == 200:
            named.append(req)
    query = (
        f"SELECT DISTINCT ?s WHERE {{ GRAPH <{BASE}graph/data> {{ ?s ?p ?o }} "
        f"FILTER(STRSTARTS(STR(?s), '{BASE}') && !CONTAINS(STR(?s), '#')) }} "
        "ORDER BY ?s LIMIT 60"
    )
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
    _, body = send(conn, sparql_get("", query, accept="text/csv"))
    paths = ["/" + line.strip().removeprefix(BASE) for line in body.decode().splitlines()[1:]]
    pages = []
    for i, path in enumerate(p for p in paths if p != "/"):
        pages.append(Req("resource page", "GET", path, ok=frozenset({303})))
        ext = ("html", "ttl", "jsonld")[i % 3]
        pages.append(Req("resource page", "GET", f"{path}.{ext}"))
    _, body = send(conn, Req("", "GET", "/downloads/SHA256SUMS"))
    names = [line.split()[1] for line in body.decode().splitlines()]
    downloads = [Req("download", "GET", f"/downloads/{n}") for n in names]
    downloads += [Req("download", "GET", "/downloads"), Req("download", "GET", "/.well-known/void")]
    conn.close()
    return {"named": named, "pages": pages, "downloads": downloads}


def malformed(i: int) -> Req:
    from urllib.parse import urlencode

    four = frozenset(range(400, 500))
    cases = [
        sparql_get("malformed", f"SELECT * WHERE {{ ?s ?p  # {i}", ok=four),
        sparql_get("malformed", f"INSERT DATA {{ <urn:a> <urn:b> {i} }}", ok=four),
        sparql_get(
            "malformed", f"SELECT * {{ SERVICE <http://127.0.0.1:9/> {{ ?s ?p {i} }} }}", ok=four
        ),
        sparql_get("malformed", f"SELECT * {{ ?s ?p {i} }}", ok=four, accept="image/png"),
        Req(
            "malformed", "POST", "/sparql", b"SELECT * {}", (("Content-Type", "text/plain"),), four
        ),
        Req(
            "malformed",
            "GET",
            "/sparql?" + urlencode([("query", "ASK {}"), ("query", "ASK {}")]),
            ok=four,
        ),
        Req("malformed", "GET", f"/queries/no-such-query-{i}", ok=four),
        Req("malformed", "GET", f"/institution/no-such-{i}", ok=four),
        Req(
            "malformed",
            "POST",
            "/sparql",
            b"SELECT * {} #" + b"x" * 100_001,
            (("Content-Type", "application/sparql-query"),),
            four,
        ),
        Req("malformed", "GET", "/queries/list-tasks?no_such_param=1&format=json", ok=four),
    ]
    return cases[i % len(cases)]


def mix(found: dict[str, list[Req]], total: int, round_no: int) -> list[Req]:
    """Return `total` requests: per 1,000, 300 named, 200 ad-hoc, 250 pages, 80 downloads,
    168 malformed and 2 expensive queries, interleaved."""
    jobs = []
    for i in range(total):
        slot, tag = i % 1000, f"r{round_no}-{i}"
        if slot in (499, 999):
            jobs.append(expensive(tag))
        elif slot % 10 < 3:
            jobs.append(found["named"][i % len(found["named"])])
        elif slot % 10 < 5:
            jobs.append(cheap_adhoc(tag, i))
        elif slot % 100 < 75:
            jobs.append(found["pages"][i % len(found["pages"])])
        elif slot % 100 < 83:
            jobs.append(found["downloads"][i % len(found["downloads"])])
        else:
            jobs.append(malformed(i))
    return jobs


def designed_503(outcome: Outcome) -> bool:
    """A 503 the server means: a query stopped at the time limit, or refused as busy."""
    return outcome.status == 503 and ("time limit" in outcome.note or "busy" in outcome.note)


def judge(outcomes: list[Outcome], jobs: list[Req]) -> dict:
    """Count what went wrong: other 5xx, drops, statuses a kind should not get."""
    expected = {}
    for job in jobs:
        expected.setdefault(job.kind, set()).update(job.ok)
    answered = [o for o in outcomes if o.status is not None]
    return {
        "bad_5xx": [o for o in answered if o.status >= 500 and not designed_503(o)],
        "dropped": [o for o in outcomes if o.status is None],
        "unexpected": [o for o in answered if o.status < 500 and o.status not in expected[o.kind]],
        "shed": [o for o in answered if designed_503(o) and 503 not in expected[o.kind]],
    }


# --- scenarios -------------------------------------------------------------------------------


def load_rounds(server: Server, found, total: int, concurrency: int, rounds: int = 3) -> list:
    per_round = total // rounds
    results = []
    warm = [r for reqs in found.values() for r in reqs] + [cheap_adhoc("warm", i) for i in range(8)]
    run_requests(server.port, warm, 4)
    for round_no in range(1, rounds + 1):
        jobs = mix(found, per_round, round_no)
        outcomes, wall = run_requests(server.port, jobs, concurrency)
        time.sleep(0.5)  # let the last killed workers be replaced before measuring
        pids = server.tree()
        results.append(
            {
                "round": round_no,
                "jobs": jobs,
                "outcomes": outcomes,
                "wall": wall,
                "rss": rss_kib(pids),
                "pss": pss_kib(pids),
                "processes": len(pids),
                **judge(outcomes, jobs),
            }
        )
        print(
            f"round {round_no}: {len(outcomes)} requests in {wall:.1f} s, "
            f"RSS {results[-1]['rss'] / 1024:.1f} MiB",
            file=sys.stderr,
        )
    return results


def busiest(pids: list[int], interval: float = 0.15) -> int | None:
    """Return the pid among `pids` that used the most CPU over `interval` seconds."""
    before = {p: cpu_ticks(p) for p in pids}
    time.sleep(interval)
    gains = {p: cpu_ticks(p) - before[p] for p in pids}
    best = max(gains, key=gains.get, default=None)
    return best if best is not None and gains[best] > 0 else None


def _store_outcome(box: dict, port: int, req: Req) -> None:
    box["o"] = one(port, req)


def kill_mid_query(server: Server, attempts: int, workers: int) -> list[dict]:
    """SIGKILL the worker running an expensive query; check the answer, the next ones, the pool."""
    records = []
    for attempt in range(attempts):
        before = server.query_workers()
        box: dict = {}
        req = expensive(f"kill-{attempt}-{time.time_ns()}")
        thread = threading.Thread(target=_store_outcome, args=(box, server.port, req))
        thread.start()
        time.sleep(0.2)
        victim = busiest(before)
        killed_at = None
        if victim is not None:
            os.kill(victim, signal.SIGKILL)
            killed_at = time.monotonic()
        thread.join(timeout=CLIENT_TIMEOUT + 5)
        outcome = box.get("o")
        after = [one(server.port, cheap_adhoc(f"after-kill-{attempt}-{i}", i)) for i in range(10)]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            current = server.query_workers()
            if len(current) == workers and victim not in current:
                break
            time.sleep(0.05)
        current = server.query_workers()
        server.tree()
        records.append(
            {
                "victim": victim,
                "killed": killed_at is not None,
                "status": outcome.status if outcome else None,
                "elapsed": outcome.elapsed if outcome else None,
                "message": (outcome.note if outcome else "").strip(),
                "after_ok": sum(o.status == 200 for o in after),
                "after": len(after),
                "replaced": victim is not None
                and victim not in current
                and len(current) == workers,
                "victim_gone": victim is not None and not alive(victim),
                "workers_before": before,
                "workers_after": current,
            }
        )
    return records


def probes(tag: str, found) -> list[Req]:
    """Cheap requests measured for their latency: uncached ad-hoc, cached named, a page."""
    return [cheap_adhoc(f"{tag}-{time.time_ns()}", 0), found["named"][0], found["pages"][1]]


def expensive_flood(
    server: Server, found, clients: int, seconds: float, baseline_n: int, varies: str = "comment"
) -> dict:
    """Many clients send expensive queries for `seconds` while a probe measures cheap ones."""
    baseline = [
        o for _ in range(baseline_n) for o in run_requests(server.port, probes("base", found), 1)[0]
    ]
    stop = time.monotonic() + seconds
    flood: list[Outcome] = []
    lock = threading.Lock()

    def attacker(n: int):
        conn_outcomes, count = [], 0
        while time.monotonic() < stop and count < 5000:
            query = expensive(f"flood-{varies}-{n}-{count}", varies)
            conn_outcomes += run_requests(server.port, [query], 1)[0]
            count += 1
        with lock:
            flood.extend(conn_outcomes)

    threads = [threading.Thread(target=attacker, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(min(1.0, seconds / 4))  # let the workers fill up
    during: list[Outcome] = []

    def prober(index: int):
        mine = []
        while time.monotonic() < stop - 0.5 and len(mine) < 3000:
            mine += run_requests(server.port, [probes("flood", found)[index]], 1)[0]
        with lock:
            during.extend(mine)

    probers = [threading.Thread(target=prober, args=(i,)) for i in range(3)]
    for thread in probers:
        thread.start()
    for thread in probers:
        thread.join(timeout=seconds + CLIENT_TIMEOUT)
    for thread in threads:
        thread.join(timeout=seconds + CLIENT_TIMEOUT)
    after = [o for _ in range(5) for o in run_requests(server.port, probes("post", found), 1)[0]]
    server.tree()
    return {
        "varies": varies,
        "clients": clients,
        "seconds": seconds,
        "baseline": baseline,
        "during": during,
        "flood": flood,
        "after": after,
    }


# Asks about 8 GB: each REPLACE puts ?x between every two characters of a 2,000-character ?x.
HUNGRY = 'SELECT (STRLEN(REPLACE(REPLACE(?x, "", ?x), "", ?x)) AS ?n) WHERE {{ BIND("{}" AS ?x) }}'


def memory_hog(server: Server, found, attempts: int) -> dict:
    """Queries that ask for gigabytes: each must be stopped at the worker's memory limit.

    Each attempt is a new query (another length of ?x); a repeat of the first must be refused
    at once. The RSS of every server process is sampled while they run.
    """
    peak, outcomes = 0, []
    for attempt in range(attempts):
        query = HUNGRY.format("a" * (2000 + attempt))
        box: dict = {}
        thread = threading.Thread(target=_store_outcome, args=(box, server.port, _hungry(query)))
        thread.start()
        while thread.is_alive():
            peak = max(peak, rss_kib(server.tree()))
            thread.join(0.05)
        outcomes.append(box["o"])
    repeat = one(server.port, _hungry(HUNGRY.format("a" * 2000)))
    after = [o for _ in range(3) for o in run_requests(server.port, probes("mem", found), 1)[0]]
    return {"outcomes": outcomes, "repeat": repeat, "after": after, "peak_kib": peak}


def _hungry(query: str) -> Req:
    return sparql_get("memory hog", query, ok=frozenset({503}))


def slow_clients(port: int, connections: int, seconds: float) -> dict:
    """Connections send a request head a line every half second while a probe times /healthz.

    The head never ends: a server that ties a thread to each connection stops answering others,
    and one with a header timeout closes them. Every connection is closed after `seconds`.
    """
    conns = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(connections)]
    for conn in conns:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    started = time.monotonic()
    closed: dict[int, float] = {}  # index -> seconds after the start when the server closed it
    stop = threading.Event()
    trickler = threading.Thread(target=_trickle, args=(conns, closed, started, stop))
    trickler.start()
    probes: list[Outcome] = []
    while time.monotonic() - started < seconds - 1 and len(probes) < 1000:
        probes += run_requests(port, [Req("healthz", "GET", "/healthz")], 1)[0]
        time.sleep(0.1)
    stop.set()
    trickler.join()
    for conn in conns:
        conn.close()
    after = run_requests(port, [Req("healthz", "GET", "/healthz")], 1)[0]
    return {"connections": connections, "seconds": seconds, "probes": probes, "after": after,
            "closed": sorted(closed.values())}  # fmt: skip


def _trickle(conns: list[socket.socket], closed: dict, started: float, stop) -> None:
    """Send each open connection one header line per half second; note when the server closes it."""
    line = 0
    while not stop.wait(0.5) and len(closed) < len(conns):
        line += 1
        open_now = {i: c for i, c in enumerate(conns) if i not in closed}
        readable, _, _ = select.select(list(open_now.values()), [], [], 0)
        for index, conn in open_now.items():
            try:
                if conn in readable and not conn.recv(4096):
                    raise ConnectionResetError  # the end of the stream: closed by the server
                conn.send(b"X-Slow-%d: still coming\r\n" % line)
            except OSError:
                closed[index] = time.monotonic() - started


def refusals(work: Path) -> list[dict]:
    """Start `serve` on bad data files; each must exit non-zero before listening, in one line."""
    data = ROOT / "data"
    truncated = work / "notice-truncated.ttl"
    text = (data / "notice-2023-01-31.ttl").read_text(encoding="utf-8").splitlines(keepends=True)
    truncated.write_text(
        "".join(text[: len(text) // 2]) + "<task/x> skg:servesDuty ,, .\n", encoding="utf-8"
    )
    garbage = work / "garbage.ttl"
    garbage.write_bytes(bytes(range(256)) * 4)
    invalid = ROOT / "tests" / "fixtures" / "invalid"
    draft = ROOT / "tests" / "fixtures" / "drafts" / "invalid-task-without-mapping.ttl"
    cases = [
        ("Turtle syntax error (fixture)", [invalid / "syntax-error.ttl"], 2, "syntax-error.ttl:7"),
        ("packaged file cut in half", [truncated], 2, f"{truncated.name}:"),
        ("binary garbage named .ttl", [garbage], 2, garbage.name),
        ("task without a duty", [invalid / "task-without-duty.ttl"], 1, "skgsh:"),
        ("malformed date", [invalid / "malformed-date.ttl"], 1, "skgsh:"),
        (
            "packaged data plus a non-conforming draft",
            [*sorted(data.glob("*.ttl")), draft],
            1,
            draft.name,
        ),
    ]
    results = []
    for label, files, code, needle in cases:
        results.append(refuse(label, files, code, needle, ()))
    results.append(
        refuse(
            "same task file, --no-validate (foreign data)",
            [invalid / "task-without-duty.ttl"],
            None,
            "",
            ("--no-validate",),
        )
    )
    return results


def refuse(label: str, files: list[Path], code: int | None, needle: str, extra) -> dict:
    """Run serve on `files`: expect exit `code` (None: expect it to start, then stop it)."""
    port = free_port()
    args = [a for f in files for a in ("--data", str(f))]
    command = serve_command(port, "--timeout", str(TIMEOUT), *args, *extra)
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    listened = False
    while process.poll() is None and time.monotonic() - started < 120:
        if listening(port):
            listened = True
            break
        time.sleep(0.1)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
    passed = (listened and code is None) or (
        code is not None
        and process.returncode == code
        and not listened
        and len(lines) == 1
        and lines[0].startswith("smartcity-kg: error: ")
        and needle in lines[0]
    )
    return {
        "label": label,
        "files": [f.name for f in files],
        "expected": code,
        "code": process.returncode,
        "listened": listened,
        "stderr": lines[:3],
        "seconds": time.monotonic() - started,
        "passed": passed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, help="total load requests over three rounds")
    parser.add_argument("--concurrency", type=int, default=32, help="load clients")
    parser.add_argument("--quick", action="store_true", help="a small run (under two minutes)")
    parser.add_argument("--output", type=Path, default=OUT, help="report file")
    args = parser.parse_args()
    total = args.requests or (3_000 if args.quick else 20_000)
    kills, clients, seconds = (2, 8, 6.0) if args.quick else (5, 16, 15.0)
    slow_n = 80 if args.quick else 300
    workers = 2
    run_started = time.monotonic()
    started_at = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="reliability-") as tmp:
        work = Path(tmp)
        server = start_server(work, "--timeout", str(TIMEOUT), "--workers", str(workers))
        try:
            found = discover(server.port)
            rounds = load_rounds(server, found, total, args.concurrency)
            print("faults: SIGKILL", file=sys.stderr)
            killed = kill_mid_query(server, kills, workers + 1)  # and the fast lane's
            print("faults: expensive flood", file=sys.stderr)
            flood = expensive_flood(server, found, clients, seconds, baseline_n=20)
            print("faults: expensive flood, one literal changed per request", file=sys.stderr)
            near = expensive_flood(server, found, clients, seconds, 20, varies="literal")
            print("faults: memory", file=sys.stderr)
            memory = memory_hog(server, found, 3)
            print("faults: slow clients", file=sys.stderr)
            slow = slow_clients(server.port, slow_n, HEADER_TIMEOUT + 4)
        finally:
            stopped = stop_server(server)
        log_text = server.log.read_text(encoding="utf-8", errors="replace")
        print("start-up refusals", file=sys.stderr)
        refused = refusals(work)
    facts = {
        "command": " ".join(["python bench/reliability.py", *sys.argv[1:]]),
        "started": started_at.strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": time.monotonic() - run_started,
        "machine": f"{platform.system()} {platform.release()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
        "total": total,
        "concurrency": args.concurrency,
        "timeout": TIMEOUT,
        "header_timeout": HEADER_TIMEOUT,
        "workers": workers,
        "found": {k: len(v) for k, v in found.items()},
        "tracebacks": log_text.count("Traceback"),
        "crash_log_lines": sum(
            "killed after" in line or "died" in line for line in log_text.splitlines()
        ),
    }
    lines, passed = write_report(
        facts, rounds, killed, [flood, near], memory, slow, stopped, refused
    )
    args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
