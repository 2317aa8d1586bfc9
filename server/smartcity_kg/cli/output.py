"""Where the commands write: standard output (text or bytes), files, notes on standard error.

Standard output is looked up at each write (sys.stdout, click.echo), so a test that swaps
sys.stdout, or Click's CliRunner, sees what a terminal would.
"""

import os
import shutil
import sys
from pathlib import Path

import click

from smartcity_kg.errors import InputError

PROG = "smartcity-kg"
FILE = click.Path(path_type=Path)  # the core checks it, and names a file it cannot read


def write_text(text: str) -> None:
    """Write `text` to standard output as it is (no newline added)."""
    click.echo(text, nl=False)


def write_bytes(data: bytes) -> None:
    """Write `data` to standard output byte for byte."""
    sys.stdout.flush()  # text written before goes first
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def write_file(path: Path, data: bytes) -> None:
    """Write `data` to `path`; a path that cannot be written is InputError naming it."""
    try:
        path.write_bytes(data)
    except OSError as error:
        raise InputError(f"{path}: cannot write: {error.strerror or error}") from None


def note(kind: str, message: str) -> None:
    """Write one line on standard error: `smartcity-kg: warning: ...` or `... note: ...`."""
    click.echo(f"{PROG}: {kind}: {message}", err=True)


def table_width() -> int | None:
    """Return the columns a text table must fit: COLUMNS, else the terminal's width; None
    when standard output is not a terminal and COLUMNS is unset (a file gets whole lines)."""
    if os.environ.get("COLUMNS", "").isdigit() or sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None
