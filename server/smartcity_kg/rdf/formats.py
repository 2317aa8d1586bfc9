"""The one table of result formats: short name, media type, pyoxigraph format, file extension.

Content negotiation, the `format=` parameter, downloads and the CLI all look formats up here,
so a format is added once. Two kinds exist: SPARQL query results (SELECT, ASK) and RDF graphs
(CONSTRUCT, DESCRIBE, the service description). Within a kind the first format is the default.
"""

from dataclasses import dataclass
from enum import Enum

import pyoxigraph as ox

from smartcity_kg.errors import InputError, NotAcceptable

W3C_FORMATS = "http://www.w3.org/ns/formats/"


class ResultKind(Enum):
    """What a query returns, which decides the formats it can be written in."""

    SOLUTIONS = "solutions"  # SELECT and ASK
    GRAPH = "graph"  # CONSTRUCT and DESCRIBE


@dataclass(frozen=True)
class ResultFormat:
    """One serialisation: how clients name it and how pyoxigraph writes it."""

    name: str  # short name for `format=` and the CLI
    media_type: str
    kind: ResultKind
    oxigraph: ox.RdfFormat | ox.QueryResultsFormat
    extension: str
    iri: str  # W3C formats IRI, for sd:resultFormat
    aliases: tuple[str, ...] = ()  # other media types clients send for the same thing
    nicknames: tuple[str, ...] = ()  # other short names clients (SPARQLWrapper) send

    @property
    def content_type(self) -> str:
        """Return the Content-Type header value; text formats say they are UTF-8."""
        if self.media_type.startswith("text/"):
            return f"{self.media_type}; charset=utf-8"
        return self.media_type


_S, _G = ResultKind.SOLUTIONS, ResultKind.GRAPH
_Q, _R = ox.QueryResultsFormat, ox.RdfFormat

FORMATS: tuple[ResultFormat, ...] = (
    ResultFormat("json", "application/sparql-results+json", _S, _Q.JSON, "srj",
                 W3C_FORMATS + "SPARQL_Results_JSON", ("application/json",), ("srj",)),
    ResultFormat("xml", "application/sparql-results+xml", _S, _Q.XML, "srx",
                 W3C_FORMATS + "SPARQL_Results_XML", ("application/xml", "text/xml"), ("srx",)),
    ResultFormat("csv", "text/csv", _S, _Q.CSV, "csv", W3C_FORMATS + "SPARQL_Results_CSV"),
    ResultFormat("tsv", "text/tab-separated-values", _S, _Q.TSV, "tsv",
                 W3C_FORMATS + "SPARQL_Results_TSV"),
    ResultFormat("ttl", "text/turtle", _G, _R.TURTLE, "ttl", W3C_FORMATS + "Turtle",
                 ("application/x-turtle",), ("turtle",)),
    ResultFormat("nt", "application/n-triples", _G, _R.N_TRIPLES, "nt",
                 W3C_FORMATS + "N-Triples", (), ("ntriples", "n-triples")),
    ResultFormat("jsonld", "application/ld+json", _G, _R.JSON_LD, "jsonld",
                 W3C_FORMATS + "JSON-LD", (), ("json-ld", "json")),
    ResultFormat("rdfxml", "application/rdf+xml", _G, _R.RDF_XML, "rdf",
                 W3C_FORMATS + "RDF_XML", (), ("rdf", "rdf+xml", "xml")),
    ResultFormat("nq", "application/n-quads", _G, _R.N_QUADS, "nq", W3C_FORMATS + "N-Quads",
                 (), ("nquads", "n-quads")),
    ResultFormat("trig", "application/trig", _G, _R.TRIG, "trig", W3C_FORMATS + "TriG"),
)  # fmt: skip

_BY_NAME = {f.name: f for f in FORMATS}
_BY_EXTENSION = {f.extension: f for f in FORMATS}


def formats_for(kind: ResultKind) -> list[ResultFormat]:
    """Return the formats a result of `kind` can be written in, the default first."""
    return [f for f in FORMATS if f.kind is kind]


def default_format(kind: ResultKind) -> ResultFormat:
    """Return the format used when the client expresses no preference."""
    return formats_for(kind)[0]


def by_name(name: str, kind: ResultKind | None = None) -> ResultFormat:
    """Return the format named `name` (as in `format=ttl`), preferring formats of `kind`.

    Nicknames let `format=xml` mean RDF/XML for a CONSTRUCT and SPARQL XML for a SELECT.
    """
    key = name.strip().lower()
    if key in _BY_NAME and (kind is None or _BY_NAME[key].kind is kind):
        return _BY_NAME[key]
    for fmt in formats_for(kind) if kind else FORMATS:
        if key in fmt.nicknames:
            return fmt
    if key in _BY_NAME:
        return _BY_NAME[key]
    raise InputError(f"unknown format {name!r}; known formats: {', '.join(_BY_NAME)}")


def by_extension(extension: str) -> ResultFormat | None:
    """Return the format written to files ending in `extension`, or None."""
    return _BY_EXTENSION.get(extension.lstrip(".").lower())


def by_media_type(media_type: str, kind: ResultKind | None = None) -> ResultFormat | None:
    """Return the format for a media type or one of its aliases (parameters ignored), or None."""
    bare = media_type.split(";", 1)[0].strip().lower()
    for fmt in FORMATS:
        if (kind is None or fmt.kind is kind) and bare in (fmt.media_type, *fmt.aliases):
            return fmt
    return None


def offered_media_types(kind: ResultKind) -> list[str]:
    """Return every media type accepted for `kind`, canonical types first, for negotiation."""
    formats = formats_for(kind)
    return [f.media_type for f in formats] + [a for f in formats for a in f.aliases]


def check_kind(fmt: ResultFormat, kind: ResultKind) -> ResultFormat:
    """Return `fmt` if a result of `kind` can be written in it, else raise NotAcceptable."""
    if fmt.kind is not kind:
        names = ", ".join(f.name for f in formats_for(kind))
        raise NotAcceptable(
            f"format {fmt.name!r} cannot hold {kind.value} results; choose one of: {names}"
        )
    return fmt
