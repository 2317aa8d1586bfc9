"""Coverage analysis: which duties, sectors and cities the assigned tasks reach, from named queries.

Reads a store through the query catalogue; knows nothing of HTTP or the terminal but how to
render its own results (tables, words, the report formats).
"""
