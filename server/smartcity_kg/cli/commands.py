"""The `smartcity-kg` command: a dispatch table of subcommands, each a small function.

To add a command, write `_<name>_arguments(parser)` and `_<name>(args) -> int | None`, and add
a row to COMMANDS. Any SmartcityKgError prints one line and exits with its exit code.
"""

import argparse
import sys
from pathlib import Path

from smartcity_kg.config import from_env
from smartcity_kg.errors import SmartcityKgError, ValidationFailed, one_line


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port (default %(default)s)")
    parser.add_argument(
        "--workers", type=int, help="query worker processes (SMARTCITY_KG_WORKERS, default 2)"
    )
    parser.add_argument(
        "--timeout", type=float, help="seconds a query may run (SMARTCITY_KG_TIMEOUT, default 10)"
    )
    parser.add_argument(
        "--fast-lane",
        type=float,
        metavar="SECONDS",
        help="how long a query not known to be slow may run on the spare worker kept for when "
        "every query worker is busy; 0 keeps no spare (SMARTCITY_KG_FAST_LANE, default 0.5)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        action="append",
        metavar="FILE",
        help="serve this RDF file instead of the packaged graph (repeatable); triples go to a "
        "named graph named by the file's URI, quads keep their graphs",
    )
    parser.add_argument(
        "--no-validate",
        dest="validate",
        action="store_false",
        help="serve data that does not conform to the shapes (foreign data such as test suites); "
        "by default such data is refused at start",
    )
    parser.add_argument(
        "--store",
        metavar="SPEC",
        help="memory (load at start), a directory filled by 'load --into', or a SPARQL endpoint "
        "URL (SMARTCITY_KG_STORE, default memory)",
    )
    parser.add_argument(
        "--http-workers",
        type=_positive,
        default=1,
        metavar="N",
        help="HTTP worker processes, each with its own query workers (default %(default)s)",
    )
    parser.add_argument(
        "--header-timeout",
        type=float,
        metavar="SECONDS",
        help="close a connection whose request head has not arrived by then, or that stays idle "
        "that long between requests (default 10)",
    )


def _serve(args: argparse.Namespace) -> None:
    from smartcity_kg.web.serve import file_sources, serve  # granian is only needed by this command

    config = from_env(
        workers=args.workers, timeout=args.timeout, store=args.store, fast_lane=args.fast_lane
    )
    sources = file_sources(args.data) if args.data else None
    serve(config, host=args.host, port=args.port, sources=sources, validate=args.validate,
          http_workers=args.http_workers, header_timeout=args.header_timeout)  # fmt: skip


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(text)


def _load_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--into",
        required=True,
        metavar="DIR|URL",
        help="a directory for an on-disk store, or a SPARQL Graph Store endpoint "
        "(Oxigraph's /store; its /query is taken to mean /store)",
    )
    parser.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="FILE",
        help="RDF files to load, each into a graph named by its URI (quads keep their graphs); "
        "default: the packaged graph, each folder into its named graph",
    )
    parser.add_argument("--replace", action="store_true", help="replace the store already in DIR")
    parser.add_argument(
        "--no-validate",
        dest="validate",
        action="store_false",
        help="load data without checking it against the shapes (foreign data); a directory "
        "loaded so is then served only with 'serve --no-validate'",
    )


def _load(args: argparse.Namespace) -> None:
    from smartcity_kg.loading import load_into, total_bytes
    from smartcity_kg.progress import ProgressBar
    from smartcity_kg.rdf.files import packaged_sources
    from smartcity_kg.web.serve import file_sources

    sources = file_sources(args.files) if args.files else packaged_sources()
    with ProgressBar(total_bytes(sources), "loading", sys.stderr) as bar:
        load_into(
            args.into, sources, replace=args.replace, progress=bar.advance, validate=args.validate
        )


def _query_arguments(parser: argparse.ArgumentParser) -> None:
    from smartcity_kg.rdf.formats import FORMATS

    parser.add_argument(
        "query",
        metavar="QUERY|FILE|NAME",
        help="SPARQL text, a .rq file, or the name of a catalogue query",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="bind a parameter of a named query (repeatable); limit=N and offset=M pick a page "
        "of a paged one",
    )
    parser.add_argument(
        "--format",
        default="table",
        choices=["table", *(f.name for f in FORMATS)],
        help="output: an aligned text table (default) or a result format",
    )
    parser.add_argument(
        "--endpoint", metavar="URL", help="run at this SPARQL endpoint instead of in process"
    )
    parser.add_argument(
        "--timeout", type=float, help="seconds a query may run (SMARTCITY_KG_TIMEOUT, default 10)"
    )


def _query(args: argparse.Namespace) -> None:
    from smartcity_kg.cli import query as client

    config = from_env(timeout=args.timeout)
    params = client.parse_params(args.param)
    query = client.resolve(args.query, params, max_rows=config.max_rows)
    fmt = client.transport_format(query.text, args.format)
    if args.endpoint:  # an endpoint takes text: the parameters go in as a VALUES block
        answer = client.run_remote(args.endpoint, query.as_text(), fmt, timeout=config.timeout + 30)
    else:
        answer = client.run_local(query, fmt, config)
    if answer.truncated:
        print(f"smartcity-kg: warning: result cut at {answer.limit} rows", file=sys.stderr)
    elif answer.rows is not None and query.full_page(answer.rows):
        print(f"smartcity-kg: note: a page of {query.limit} rows; more may follow with "
              f"--param offset={query.offset + query.limit}", file=sys.stderr)  # fmt: skip
    if args.format == client.TABLE:
        sys.stdout.write(client.render_table(answer))
    else:
        sys.stdout.buffer.write(answer.body)
        sys.stdout.flush()


def _coverage_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--by", default="duty", metavar="VIEW",
        help="duty, institution, city, programme or overlap (default %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--format", default="table", metavar="FORMAT",
        help="table, csv, json, markdown or html (default %(default)s)",
    )  # fmt: skip
    parser.add_argument("--lang", default="en", help="labels in en or ko (default %(default)s)")
    parser.add_argument(
        "--with", dest="drafts", type=Path, action="append", default=[], metavar="FILE.ttl",
        help="add a draft to the graph (repeatable), validate it, and show what it changes",
    )  # fmt: skip


def _coverage(args: argparse.Namespace) -> None:
    from smartcity_kg.coverage.render import write_report

    sys.stdout.write(write_report(args.by, args.format, args.lang, args.drafts))


def _validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="FILE",
        help="RDF files to validate with the packaged ontology (default: the packaged graph)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "turtle"),
        default="text",
        help="a readable report, or the SHACL report graph as Turtle (default %(default)s)",
    )


def _validate(args: argparse.Namespace) -> None:
    from smartcity_kg.quality import shacl as validate  # pySHACL is only needed by this command
    from smartcity_kg.rdf import files as graph

    if args.files:
        from smartcity_kg.progress import ProgressBar

        size = sum(path.stat().st_size for path in args.files if path.is_file())
        with ProgressBar(size, "reading", sys.stderr) as bar:
            report = validate.validate_files(args.files, bar.advance)
    else:
        report = validate.validate_store(graph.load_store())
    sys.stdout.write(report.to_text() if args.format == "text" else report.to_turtle())
    if not report.conforms:
        raise ValidationFailed(f"does not conform: {len(report.violations)} SHACL violation(s)")


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    from smartcity_kg.publish.dumps import DUMP_FORMATS

    parser.add_argument(
        "--format", required=True, metavar="F", help=f"one of: {', '.join(DUMP_FORMATS)}"
    )
    parser.add_argument(
        "--output", type=Path, metavar="FILE", help="write here instead of standard output"
    )


def _export(args: argparse.Namespace) -> None:
    from smartcity_kg.publish.dumps import Dumps, dump_format

    data = Dumps(_packaged_store()).for_format(dump_format(args.format))
    if args.output:
        args.output.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


def _packaged_store():
    from smartcity_kg.rdf.files import load_store

    return load_store()


# name, help, add arguments, run
COMMANDS = [
    ("serve", "run the SPARQL endpoint with granian", _serve_arguments, _serve),
    ("load", "load the graph into an on-disk or remote store", _load_arguments, _load),
    ("validate", "check the graph against the SHACL shapes", _validate_arguments, _validate),
    (
        "coverage",
        "show which duties, sectors and programmes the institutions cover",
        _coverage_arguments,
        _coverage,
    ),
    ("query", "run a query, a query file or a named query", _query_arguments, _query),
    ("export", "write the whole graph, byte for byte as downloaded", _export_arguments, _export),
]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with one subparser per row of COMMANDS."""
    parser = argparse.ArgumentParser(prog="smartcity-kg")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary, add_arguments, run in COMMANDS:
        sub = subparsers.add_parser(name, help=summary, description=summary)
        add_arguments(sub)
        sub.set_defaults(run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; render our errors as one line on stderr with their exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except SmartcityKgError as error:
        if error.detail:
            print(error.detail, file=sys.stderr)
        print(f"smartcity-kg: error: {one_line(error.message)}", file=sys.stderr)
        return error.exit_code


if __name__ == "__main__":
    sys.exit(main())
