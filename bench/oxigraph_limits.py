"""Find how deep a query may nest, or how long it may chain, before Oxigraph server aborts.

Parsers recurse once per level of nesting and per link of some chains. Our query workers run
pyoxigraph on a large stack, but a `--store URL` forwards queries to a server that may not:
this script sends growing cases to a fresh `oxigraph serve` (PyPI `oxigraph`, in memory) for
each size and reports whether the process survived. sparql.MAX_NESTING and MAX_OPERATORS are
set well below the first sizes that abort it.

    python bench/oxigraph_limits.py [--sizes 250,500,1000,2000,5000]
"""

import argparse
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from bench_endpoint import free_port

CASES = {
    "nested {": lambda n: "SELECT * {" + "{" * n + "}" * n + "}",
    "nested (": lambda n: "ASK { FILTER(" + "(" * n + "1" + ")" * n + ") }",
    "chained !": lambda n: "ASK { FILTER(" + "!" * n + "true) }",
    "chained +": lambda n: "ASK { FILTER(" + "+".join(["1"] * n) + ") }",
    "chained &&": lambda n: "ASK { FILTER(" + "&&".join(["true"] * n) + ") }",
    "chained UNION": lambda n: "SELECT * { " + " UNION ".join(["{}"] * n) + " }",
    "chained /": lambda n: "ASK { ?s " + "/".join(["<http://p>"] * n) + " ?o }",
}


def start_oxigraph() -> tuple[subprocess.Popen, int]:
    port = free_port()
    binary = shutil.which("oxigraph") or str(sys.prefix + "/bin/oxigraph")
    process = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", timeout=2)
            break
        except OSError:
            time.sleep(0.1)
    return process, port


def survives(query: str) -> tuple[str, bool]:
    """Send `query` to a fresh server; return the answer's status and whether it lived."""
    process, port = start_oxigraph()
    try:
        data = urllib.parse.urlencode({"query": query}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/query", data=data)
        try:
            status = str(urllib.request.urlopen(request, timeout=20).status)
        except urllib.error.HTTPError as error:
            status = str(error.code)
        except OSError as error:
            status = type(error).__name__
        time.sleep(0.3)
        return status, process.poll() is None
    finally:
        process.kill()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,500,1000,2000,5000")
    sizes = [int(size) for size in parser.parse_args().sizes.split(",")]
    print("| case | size | answer | server |\n| --- | ---: | --- | --- |")
    for name, make in CASES.items():
        for size in sizes:
            status, alive = survives(make(size))
            print(f"| {name} | {size} | {status} | {'alive' if alive else '**aborted**'} |")
            if not alive:
                break


if __name__ == "__main__":
    main()
