"""Choose a result format from `format=` or the Accept header (Werkzeug parses the q-values)."""

from flask import request

from smartcity_kg.errors import NotAcceptable
from smartcity_kg.rdf import formats
from smartcity_kg.rdf.formats import ResultFormat, ResultKind

HTML = "text/html"


def negotiate(kind: ResultKind, *, html: bool = False) -> ResultFormat | None:
    """Return the format to answer in; None means the client prefers the HTML page.

    `format=` overrides Accept, and naming a format of another kind is NotAcceptable. A missing
    or empty Accept header gets the kind's default.
    """
    fmt = requested_format(kind, html=html)
    return formats.check_kind(fmt, kind) if fmt else None


def requested_format(kind: ResultKind, *, html: bool = False) -> ResultFormat | None:
    """Return the format asked for, as `negotiate` does, but a `format=` of another kind too.

    For the views that run a query: the engine checks the format against the query's kind.
    """
    name = request.values.get("format")
    if name:
        return formats.by_name(name, kind)
    accept = request.accept_mimetypes
    if not accept:
        return formats.default_format(kind)
    offered = formats.offered_media_types(kind) + ([HTML] if html else [])
    best = accept.best_match(offered)
    if best is None:
        types = ", ".join(f.media_type for f in formats.formats_for(kind))
        raise NotAcceptable(
            f"none of the types in Accept: {request.headers.get('Accept')} is offered; "
            f"this query's results are available as {types}"
        )
    return None if best == HTML else formats.by_media_type(best, kind)
