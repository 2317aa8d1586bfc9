"""The `smartcity-kg` command: a Click group of subcommands, and the one place errors render.

Each command is a function in the module of its kind (serving, checking, reading), added to
the group below. Every error, ours (SmartcityKgError) or Click's (a usage error: an unknown
option, a missing argument), ends as one line `smartcity-kg: error: ...` on standard error,
after its long report if it has one, and exits with the error class's own exit code.
"""

import sys

import click

from smartcity_kg import __version__
from smartcity_kg.cli import checking, reading, serving
from smartcity_kg.cli.output import PROG
from smartcity_kg.errors import SmartcityKgError, one_line

INTERRUPTED = 130  # the shell's status for a command stopped by Ctrl-C (128 + SIGINT)


class Cli(click.Group):
    """The command group; its `main` renders every failure as one line on standard error."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Run one command and return (or, standalone, exit with) its exit code."""
        try:
            code = super().main(args, prog_name or PROG, complete_var, standalone_mode=False,
                                **extra)  # fmt: skip
        except (SmartcityKgError, click.ClickException) as error:
            code = report(error)
        except click.Abort:  # Ctrl-C or end of input; Click has ended the ^C line
            code = report(SmartcityKgError("interrupted"), INTERRUPTED)
        code = code if isinstance(code, int) else 0  # a command returns None: success
        if standalone_mode:
            sys.exit(code)
        return code


def report(error: Exception, exit_code: int | None = None) -> int:
    """Write `error` as one line on standard error (its report first); return its exit code."""
    if isinstance(error, click.ClickException):
        message = _sentence(error.format_message())
        if isinstance(error, click.UsageError) and error.ctx is not None:
            message += f" (see '{error.ctx.command_path} --help')"
    else:
        message = error.message
        if error.detail:
            click.echo(error.detail, err=True)
    click.echo(f"{PROG}: error: {one_line(message)}", err=True)
    return exit_code if exit_code is not None else error.exit_code


def _sentence(message: str) -> str:
    """Write a Click message as ours are written: lower case first, no full stop."""
    message = message.strip().removesuffix(".")
    if message[1:2].islower():
        message = message[0].lower() + message[1:]
    return message


@click.group(cls=Cli, name=PROG, no_args_is_help=False,
             context_settings={"help_option_names": ["-h", "--help"]})  # fmt: skip
@click.version_option(__version__, "--version", prog_name=PROG, message="%(prog)s %(version)s")
def cli() -> None:
    """A knowledge graph of Korea's smart city service supporting institutions: serve it as a
    SPARQL endpoint, load, validate and export it, query it and report its coverage."""


for command in (serving.serve, serving.load, checking.validate, checking.coverage,
                reading.query, reading.queries, reading.export):  # fmt: skip
    cli.add_command(command)


def main(argv: list[str] | None = None) -> int:
    """Run `smartcity-kg ARGV...` (default: the process's arguments) and return its exit code."""
    return cli.main(argv, standalone_mode=False)


if __name__ == "__main__":
    sys.exit(main())
