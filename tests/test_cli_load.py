"""`smartcity-kg load` as a user runs it, in process through Click's CliRunner."""

import re

from click.testing import CliRunner

from smartcity_kg.cli.commands import cli
from smartcity_kg.rdf.files import load_store
from smartcity_kg.store.local import open_store

MARKER = '<http://example.org/marker> <http://example.org/says> "loaded once" .\n'


def test_a_load_into_a_directory_says_what_went_where_in_one_line(tmp_path):
    store = tmp_path / "kg"
    result = CliRunner().invoke(cli, ["load", "--into", str(store)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # no terminal: no progress bar
    triples = len(load_store())
    assert re.fullmatch(
        rf"loaded \d+ files \({triples:,} triples\) into {re.escape(str(store))} in [\d.]+ s\n",
        result.stdout,
    )
    assert len(open_store(str(store))) == triples


def test_one_file_and_one_triple_are_singular(tmp_path):
    marker = tmp_path / "marker.nt"
    marker.write_text(MARKER)
    result = CliRunner().invoke(cli, ["load", "--no-validate", "--into", str(tmp_path / "kg"),
                                      str(marker)])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("loaded 1 file (1 triple) into ")


def test_a_load_without_into_is_a_usage_error_on_one_line():
    result = CliRunner().invoke(cli, ["load"])
    assert result.exit_code == 2
    assert result.stderr == (
        "smartcity-kg: error: missing option '--into' (see 'smartcity-kg load --help')\n"
    )
