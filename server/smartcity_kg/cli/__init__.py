"""The command line: a thin adapter that parses arguments, calls the core and prints; no logic.

`smartcity-kg` and `python -m smartcity_kg.cli` run `smartcity_kg.cli.commands.main`, a Click
group whose commands live by kind: `serving` (serve, load), `checking` (validate, coverage) and
`reading` (query, queries, export). `query` runs a query in process or at an endpoint,
`output` writes to standard output, files and standard error. Errors render in one place,
`commands.report`: one line on standard error, with the error class's exit code.
"""
