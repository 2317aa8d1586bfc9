"""The commands that check the graph: `validate` it against the shapes, report its `coverage`.

Either can take a draft: files added to the packaged graph, as an amending notice would be.
"""

import sys

import click

from smartcity_kg.cli.output import FILE, write_text
from smartcity_kg.errors import CoverageGap, ValidationFailed


@click.command()
@click.argument("files", nargs=-1, type=FILE, metavar="[FILE]...")
@click.option(
    "--with-packaged",
    is_flag=True,
    help="Check the FILEs added to the packaged graph (a draft that changes it, as "
    "'coverage --with' takes it), not on their own.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "turtle"]),
    default="text",
    show_default=True,
    help="A readable report, or the SHACL report graph as Turtle.",
)
def validate(files, with_packaged, fmt) -> None:
    """Check the graph against the SHACL shapes.

    Without FILEs, the packaged graph. FILEs alone are checked with the packaged ontology only:
    a graph of your own, complete in itself. A draft that adds to the packaged graph (a task
    whose institution and duties are in it) needs --with-packaged. Exit 0 when the data
    conforms, 1 on violations, 2 on unreadable input.
    """
    report = _report(files, with_packaged)
    write_text(report.to_text() if fmt == "text" else report.to_turtle())
    if not report.conforms:
        hint = "" if with_packaged or not files else " (--with-packaged checks a draft)"
        raise ValidationFailed(
            f"does not conform: {len(report.violations)} SHACL violation(s){hint}"
        )


def _report(files, with_packaged: bool):
    """Return the SHACL report on the packaged graph, on it with FILEs added, or on FILEs."""
    from smartcity_kg.progress import ProgressBar
    from smartcity_kg.quality import shacl  # pySHACL: only this command needs it

    if not files:
        return shacl.validate_store(_packaged_with(()))
    size = sum(path.stat().st_size for path in files if path.is_file())
    with ProgressBar(size, "reading", sys.stderr) as bar:
        if with_packaged:
            return shacl.validate_store(_packaged_with(files, bar.advance))
        return shacl.validate_files(files, bar.advance)


def _packaged_with(files, progress=None):
    """Return the packaged graph with `files` added to its data graph."""
    from smartcity_kg.rdf.files import graph_iri, load_file, load_store

    store = load_store()
    for path in files:
        load_file(store, path, graph_iri("data"), progress)
    return store


@click.command(short_help="Show which duties, sectors and cities the tasks cover.")
@click.argument("drafts", nargs=-1, type=FILE, metavar="[DRAFT]...")
@click.option(
    "--by",
    default="duty",
    show_default=True,
    metavar="VIEW",
    help="duty, institution, city, programme or overlap.",
)
@click.option(
    "--format",
    "fmt",
    default="table",
    show_default=True,
    metavar="FORMAT",
    help="table, csv, json, markdown or html.",
)
@click.option("--lang", default="en", show_default=True, metavar="LANG", help="en or ko labels.")
@click.option(
    "--with",
    "more",
    type=FILE,
    multiple=True,
    metavar="DRAFT",
    help="A draft to add (repeatable); more may follow as DRAFT arguments.",
)
@click.option(
    "--fail-on-gap",
    is_flag=True,
    help="Exit 1 when a duty of Article 19-4(2) has no task (for CI).",
)
def coverage(drafts, by, fmt, lang, more, fail_on_gap) -> None:
    """Show which duties, sectors and programmes the institutions cover.

    With DRAFTs (RDF files added to the packaged graph, such as a draft notice), validate them
    first, then show what they change.
    """
    from smartcity_kg.coverage.analyse import analyse_with_drafts
    from smartcity_kg.coverage.render import check_options, report

    check_options(by, fmt, lang)
    found, diff = analyse_with_drafts((*more, *drafts))
    write_text(report(found, by, fmt, lang, diff))
    if fail_on_gap:
        _refuse_gaps(found, lang)


def _refuse_gaps(found, lang: str) -> None:
    """Raise CoverageGap naming the duties no task serves in the coverage just reported."""
    gaps = [f"{row.duty.short}. {row.duty.label(lang)}" for row in found.duty_gaps()]
    if gaps:
        duties = "duty" if len(gaps) == 1 else "duties"
        raise CoverageGap(f"--fail-on-gap: no task serves {len(gaps)} {duties}: " + "; ".join(gaps))
