"""`python -m smartcity_kg.cli`: the `smartcity-kg` command."""

import sys

from smartcity_kg.cli.commands import main

sys.exit(main())
