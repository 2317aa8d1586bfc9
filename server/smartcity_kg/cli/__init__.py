"""The command line: a thin adapter that parses arguments, calls the core and prints; no logic.

`smartcity-kg` and `python -m smartcity_kg.cli` run `smartcity_kg.cli.commands.main`.
"""
