"""Answer with a query's result, as /sparql and the named queries both do.

One function, so that a named query is cached, compressed and marked exactly as the same query
sent to /sparql: ETag and 304, Cache-Control, Vary, the truncation headers and gzip.
"""

from flask import Response, g, request

from smartcity_kg.sparql.engine import QueryResult

CACHE_CONTROL = "public, max-age=300"
GZIP_MIN_BYTES = 1024
READS = ("GET", "HEAD")  # HEAD answers as GET does, without the body


def result_response(result: QueryResult) -> Response:
    """Build the response: ETag and 304, Cache-Control, Vary, truncation headers, gzip."""
    g.rows = result.rows
    g.flags = ["truncated"] * result.truncated + ["cached"] * result.cached
    gzip = len(result.body) >= GZIP_MIN_BYTES and request.accept_encodings["gzip"] > 0
    etag = result.etag + ("-gz" if gzip else "")
    if request.method in READS and request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = Response(result.gzipped if gzip else result.body)
        response.content_type = result.format.content_type
        if gzip:
            response.content_encoding = "gzip"
    response.set_etag(etag)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.vary.update(("Accept", "Accept-Encoding"))
    response.headers["SPARQL-Results-Rows"] = str(result.rows)
    if result.truncated:
        response.headers["SPARQL-Results-Truncated"] = "true"
        response.headers["SPARQL-Results-Limit"] = str(result.limit)
    return response
