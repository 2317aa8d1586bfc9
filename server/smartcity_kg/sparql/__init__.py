"""Running SPARQL: the named-query catalogue, the engine and its sandboxed worker processes.

The only place queries are evaluated; the web layer and the CLI call the engine.
"""
