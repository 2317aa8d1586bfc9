"""The `smartcity-kg` group: its version and help, and the one place errors render.

In process through Click's CliRunner, but for a few runs of the installed console script and
of `python -m smartcity_kg.cli` in a real process.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from smartcity_kg import __version__
from smartcity_kg.cli.commands import Cli, cli, main
from smartcity_kg.errors import InputError, ValidationFailed

SCRIPT = Path(sys.executable).with_name("smartcity-kg")
INVALID_DRAFT = Path(__file__).parent / "fixtures" / "drafts" / "invalid-task-without-mapping.ttl"
COMMANDS = ["coverage", "export", "load", "queries", "query", "serve", "validate"]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_version_is_the_package_version():
    result = invoke("--version")
    assert (result.exit_code, result.stdout) == (0, f"smartcity-kg {__version__}\n")


@pytest.mark.parametrize("option", ["-h", "--help"])
def test_help_lists_every_command(option):
    result = invoke(option)
    assert result.exit_code == 0
    listed = result.stdout.split("Commands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listed] == COMMANDS


@pytest.mark.parametrize(
    ("args", "needles", "command"),
    [
        ([], ["missing command"], "smartcity-kg"),
        (["nosuch"], ["no such command", "nosuch"], "smartcity-kg"),
        (["--nope"], ["no such option", "--nope"], "smartcity-kg"),
        (["serve", "--port", "x"], ["invalid value for '--port'", "'x'"], "smartcity-kg serve"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args, needles, command):
    result = invoke(*args)
    assert (result.exit_code, result.stdout) == (2, "")
    (line,) = result.stderr.splitlines()
    assert line.startswith("smartcity-kg: error: ") and line.endswith(f"(see '{command} --help')")
    assert all(needle in line for needle in needles), line


def failing_group(error: BaseException) -> Cli:
    """Return a group whose one command `fail` raises `error`."""
    group = Cli(name="smartcity-kg")

    @group.command()
    def fail():
        raise error

    return group


def test_an_error_prints_its_report_then_one_line_and_exits_with_its_code():
    error = ValidationFailed("does not conform", detail="Violation: one\nViolation: two")
    result = CliRunner().invoke(failing_group(error), ["fail"])
    assert result.exit_code == ValidationFailed.exit_code == 1
    assert result.stderr == (
        "Violation: one\nViolation: two\nsmartcity-kg: error: does not conform\n"
    )


def test_control_characters_in_a_message_are_escaped_on_its_one_line():
    result = CliRunner().invoke(failing_group(InputError("bad\x00input\x1b[2J\nhere")), ["fail"])
    assert result.exit_code == 2
    assert result.stderr == "smartcity-kg: error: bad\\x00input\\x1b[2J here\n"


def test_ctrl_c_exits_130_with_one_line_and_no_traceback():
    result = CliRunner().invoke(failing_group(KeyboardInterrupt()), ["fail"])
    assert result.exit_code == 130
    assert result.stderr.splitlines()[-1] == "smartcity-kg: error: interrupted"


def test_main_returns_the_exit_code_for_tests_and_the_console_script(capsys):
    assert main(["--version"]) == 0
    assert main(["query"]) == 2
    assert main(["export", "--format", "csv"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("smartcity-kg: error: ") for line in err)


# --- real processes: the installed console script and `python -m smartcity_kg.cli` -------------


def run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.fixture(params=["console script", "python -m"])
def smartcity_kg(request) -> list[str]:
    if request.param == "console script":
        assert SCRIPT.is_file(), f"the console script is not installed next to {sys.executable}"
        return [str(SCRIPT)]
    return [sys.executable, "-m", "smartcity_kg.cli"]


def test_a_real_process_prints_the_version(smartcity_kg):
    done = run([*smartcity_kg, "--version"])
    assert (done.returncode, done.stdout, done.stderr) == (0, f"smartcity-kg {__version__}\n", "")


def test_a_real_process_exits_2_with_one_line_on_bad_input(smartcity_kg):
    for args, needle in (["query", "nosuch"], "no named query 'nosuch'"), (["--nope"], "--nope"):
        done = run([*smartcity_kg, *args])
        assert done.returncode == 2
        (line,) = done.stderr.splitlines()
        assert line.startswith("smartcity-kg: error: ") and needle in line


def test_a_real_process_exits_1_with_the_report_then_one_line(smartcity_kg):
    done = run([*smartcity_kg, "coverage", "--with", str(INVALID_DRAFT)])
    assert done.returncode == 1 and done.stdout == ""
    *report, line = done.stderr.splitlines()
    assert any(text.strip().startswith("Violation:") for text in report)
    assert line.startswith("smartcity-kg: error: the draft (") and "Traceback" not in done.stderr
