"""Where the graph lives: in memory, an on-disk Oxigraph store, or a remote SPARQL endpoint.

Opens and reads stores; loading them is `smartcity_kg.loading`, above this and the checks.
"""
