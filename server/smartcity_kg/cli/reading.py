"""The commands that read the graph out: `query` it, list the named `queries`, `export` it."""

import click

from smartcity_kg.cli import query as client
from smartcity_kg.cli.output import FILE, note, table_width, write_bytes, write_file, write_text
from smartcity_kg.config import from_env
from smartcity_kg.publish.dumps import DUMP_FORMATS
from smartcity_kg.rdf.formats import FORMATS
from smartcity_kg.sparql.catalog import load_catalog


@click.command(short_help="Run a query, a query file or a named query.")
@click.argument("spec", metavar="QUERY|FILE|NAME")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Bind a parameter of a named query (repeatable); limit=N and offset=M pick "
    "a page of a paged one.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice([client.TABLE, *(f.name for f in FORMATS)]),
    default=client.TABLE,
    show_default=True,
    help="An aligned text table, fitted to the terminal's width (COLUMNS), or a "
    "result format written as it is.",
)
@click.option("--endpoint", metavar="URL", help="Run at this SPARQL endpoint, not in process.")
@click.option(
    "--timeout", type=float, help="Seconds a query may run (SMARTCITY_KG_TIMEOUT, default 10)."
)
def query(spec, params, fmt, endpoint, timeout) -> None:
    """Run a query: SPARQL text, a .rq file, or the NAME of a catalogue query (a bare word;
    'smartcity-kg queries' lists them)."""
    config = from_env(timeout=timeout)
    bound = client.resolve(spec, client.parse_params(params), max_rows=config.max_rows)
    transport = client.transport_format(bound.text, fmt)
    if endpoint:  # an endpoint takes text: the parameters go in as a VALUES block
        answer = client.run_remote(endpoint, bound.as_text(), transport, config.timeout + 30)
    else:
        answer = client.run_local(bound, transport, config)
    if answer.truncated:
        note("warning", f"result cut at {answer.limit} rows")
    elif answer.rows is not None and bound.full_page(answer.rows):
        note("note", f"a page of {bound.limit} rows; more may follow with "
                     f"--param offset={bound.offset + bound.limit}")  # fmt: skip
    if fmt == client.TABLE:
        write_text(client.render_table(answer, table_width()))
    else:
        write_bytes(answer.body)


@click.command()
def queries() -> None:
    """List the named queries: name, parameters and summary of each."""
    write_text(client.catalogue_table(load_catalog(), table_width()))


@click.command()
@click.option(
    "--format", "fmt", required=True, metavar="F", help=f"One of: {', '.join(DUMP_FORMATS)}."
)
@click.option(
    "--output",
    type=FILE,
    metavar="FILE",
    help="Write here instead of standard output.",
)
def export(fmt, output) -> None:
    """Write the whole graph, byte for byte as downloaded."""
    from smartcity_kg.publish.dumps import Dumps, dump_format
    from smartcity_kg.rdf.files import load_store

    data = Dumps(load_store()).for_format(dump_format(fmt))
    if output:
        write_file(output, data)
    else:
        write_bytes(data)
