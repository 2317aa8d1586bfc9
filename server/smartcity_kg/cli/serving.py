"""The commands that put the graph somewhere: `serve` it over HTTP, `load` it into a store.

Options left out fall back to the SMARTCITY_KG_* environment (config.from_env).
"""

import sys
import time

import click

from smartcity_kg.cli.output import FILE, write_text
from smartcity_kg.config import from_env


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port.")
@click.option(
    "--workers", type=int, help="Query worker processes (SMARTCITY_KG_WORKERS, default 2)."
)
@click.option(
    "--timeout", type=float, help="Seconds a query may run (SMARTCITY_KG_TIMEOUT, default 10)."
)
@click.option(
    "--fast-lane",
    type=float,
    metavar="SECONDS",
    help="How long a query not known to be slow may run on the spare worker kept for "
    "when every query worker is busy; 0 keeps no spare "
    "(SMARTCITY_KG_FAST_LANE, default 0.5).",
)
@click.option(
    "--data",
    type=FILE,
    multiple=True,
    metavar="FILE",
    help="Serve this RDF file instead of the packaged graph (repeatable); triples go "
    "to a named graph named by the file's URI, quads keep their graphs.",
)
@click.option(
    "--no-validate",
    "validate",
    is_flag=True,
    flag_value=False,
    default=True,
    help="Serve data that does not conform to the shapes (foreign data such as test "
    "suites); by default such data is refused at start.",
)
@click.option(
    "--store",
    metavar="SPEC",
    help="memory (load at start), a directory filled by 'load --into', or a SPARQL "
    "endpoint URL (SMARTCITY_KG_STORE, default memory).",
)
@click.option(
    "--http-workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="N",
    help="HTTP worker processes, each with its own query workers.",
)
@click.option(
    "--header-timeout",
    type=float,
    metavar="SECONDS",
    help="Close a connection whose request head has not arrived by then, or that "
    "stays idle that long between requests (default 10).",
)
def serve(host, port, workers, timeout, fast_lane, data, validate, store, http_workers,
          header_timeout) -> None:  # fmt: skip
    """Run the SPARQL endpoint with granian."""
    from smartcity_kg.rdf.files import file_sources
    from smartcity_kg.web import serve as web  # granian: only this command needs it

    config = from_env(workers=workers, timeout=timeout, store=store, fast_lane=fast_lane)
    sources = file_sources(data) if data else None
    web.serve(config, host=host, port=port, sources=sources, validate=validate,
              http_workers=http_workers, header_timeout=header_timeout)  # fmt: skip


@click.command()
@click.argument("files", nargs=-1, type=FILE, metavar="[FILE]...")
@click.option(
    "--into",
    required=True,
    metavar="DIR|URL",
    help="A directory for an on-disk store, or a SPARQL Graph Store endpoint "
    "(Oxigraph's /store; its /query is taken to mean /store).",
)
@click.option("--replace", is_flag=True, help="Replace the store already in DIR.")
@click.option(
    "--no-validate",
    "validate",
    is_flag=True,
    flag_value=False,
    default=True,
    help="Load data without checking it against the shapes (foreign data); a "
    "directory loaded so is then served only with 'serve --no-validate'.",
)
def load(files, into, replace, validate) -> None:
    """Load the graph into an on-disk or remote store.

    FILEs are RDF files, each loaded into a graph named by its URI (quads keep their graphs);
    by default the packaged graph, each folder into its named graph. A progress bar shows on a
    terminal; on success one line says what was loaded where.
    """
    from smartcity_kg.loading import load_into, total_bytes
    from smartcity_kg.progress import ProgressBar
    from smartcity_kg.rdf.files import file_sources, packaged_sources

    sources = file_sources(files) if files else packaged_sources()
    started = time.monotonic()
    with ProgressBar(total_bytes(sources), "loading", sys.stderr) as bar:
        load_into(into, sources, replace=replace, progress=bar.advance, validate=validate)
    write_text(_loaded(into, sources, time.monotonic() - started))


def _loaded(target: str, sources, seconds: float) -> str:
    """Return the line saying what was loaded where: files, and triples (a directory's count)
    or bytes (a remote store's count could only be asked at its query endpoint)."""
    from smartcity_kg.loading import total_bytes
    from smartcity_kg.store.local import open_store
    from smartcity_kg.store.remote import is_url

    files = _count(sum(len(source.files) for source in sources), "file")
    size = (f"{total_bytes(sources) / 1e6:,.1f} MB" if is_url(target)
            else _count(len(open_store(target)), "triple"))  # fmt: skip
    return f"loaded {files} ({size}) into {target} in {seconds:.1f} s\n"


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
