"""RDF and SPARQL text, before any store: reading files, formats, and reading a query's text.

Nothing here opens a store, runs a query or speaks HTTP.
"""
