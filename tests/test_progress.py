"""Progress bars: drawn on a terminal, silent when redirected."""

import io
import os
import pty
import subprocess
import sys

from smartcity_kg.paths import turtle_files
from smartcity_kg.progress import ProgressBar


def on_a_terminal(command: list[str]) -> tuple[int, bytes]:
    """Run `command` with its stderr on a pseudo-terminal; return its status and what it drew."""
    leader, follower = pty.openpty()
    with os.fdopen(leader, "rb") as terminal:
        run = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=follower, timeout=120)
        os.close(follower)
        return run.returncode, terminal.read1(65536)


def test_progress_bar_draws_only_on_a_terminal():
    quiet = io.StringIO()
    with ProgressBar(100, "loading", quiet) as bar:
        bar.advance(100)
    assert quiet.getvalue() == ""

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    with ProgressBar(200, "loading", terminal) as bar:
        bar.advance(100)  # drawn at once
        bar.advance(100)  # drawn on close
    assert terminal.getvalue().startswith("\rloading [###############...............]  50%")
    assert terminal.getvalue().endswith("100% 0.0/0.0 MB\n")


def test_load_shows_progress_on_a_terminal_and_nothing_when_redirected(tmp_path):
    command = [sys.executable, "-m", "smartcity_kg.cli", "load", "--into"]
    piped = subprocess.run([*command, str(tmp_path / "a")], capture_output=True, timeout=60)
    assert (piped.returncode, piped.stderr) == (0, b"")
    status, drawn = on_a_terminal([*command, str(tmp_path / "b")])
    assert status == 0
    assert b"loading [##############################] 100%" in drawn


def test_validate_shows_reading_progress_on_a_terminal_and_nothing_when_redirected():
    files = [str(path) for path in turtle_files("data")]
    command = [sys.executable, "-m", "smartcity_kg.cli", "validate", *files]
    piped = subprocess.run(command, capture_output=True, timeout=120)
    assert (piped.returncode, piped.stderr) == (0, b"")
    status, drawn = on_a_terminal(command)
    assert status == 0
    assert b"reading [##############################] 100%" in drawn
