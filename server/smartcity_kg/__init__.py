"""smartcity-kg: Korea's smart city service supporting institutions as a knowledge graph.

The core modules (paths, graph, catalog, validate, formats, errors, ...) never import Flask;
`smartcity_kg.web` and `smartcity_kg.cli` are thin adapters over them.
"""

__version__ = "0.1.0"
