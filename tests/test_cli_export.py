"""`smartcity-kg export` as a user runs it, in process through Click's CliRunner.

That the bytes are the download's is tests/test_dumps.py's part.
"""

from click.testing import CliRunner

from smartcity_kg.cli.commands import cli


def export(*args: str):
    return CliRunner().invoke(cli, ["export", *args])


def test_an_output_in_a_missing_directory_is_one_line_naming_it_and_exit_2():
    result = export("--format", "ttl", "--output", "/nonexistent/dir/x.ttl")
    assert result.exit_code == 2, result.exception
    assert result.stderr == (
        "smartcity-kg: error: /nonexistent/dir/x.ttl: cannot write: No such file or directory\n"
    )
    assert isinstance(result.exception, SystemExit)  # an exit, nothing raised past the command


def test_an_output_that_is_a_directory_is_one_line_naming_it(tmp_path):
    result = export("--format", "nt", "--output", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"smartcity-kg: error: {tmp_path}: cannot write: ")
    assert result.stderr.count("\n") == 1


def test_a_missing_format_is_a_usage_error_on_one_line():
    result = export("--output", "x.ttl")
    assert result.exit_code == 2
    assert result.stderr.startswith("smartcity-kg: error: missing option '--format'")
    assert result.stderr.count("\n") == 1
