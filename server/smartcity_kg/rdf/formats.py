"""The one table of result formats: short name, pyoxigraph format, media type aliases.

Content negotiation, the `format=` parameter, downloads and the CLI all look formats up here,
so a format is added once. Two kinds exist: SPARQL query results (SELECT, ASK) and RDF graphs
(CONSTRUCT, DESCRIBE, the service description). Within a kind the first format is the default.
Media types, file extensions and format IRIs are pyoxigraph's own (`ox.RdfFormat.TURTLE.media_type`
and so on); the table adds only what pyoxigraph has no word for: our short names, the other names
clients send, and the one IRI pyoxigraph spells otherwise.
"""

from dataclasses import dataclass, field
from enum import Enum

import pyoxigraph as ox

from smartcity_kg.errors import InputError, NotAcceptable

W3C_FORMATS = "http://www.w3.org/ns/formats/"


class ResultKind(Enum):
    """What a query returns, which decides the formats it can be written in."""

    SOLUTIONS = "solutions"  # SELECT and ASK
    GRAPH = "graph"  # CONSTRUCT and DESCRIBE


@dataclass(frozen=True, eq=False)
class ResultFormat:
    """One serialisation: how clients name it and how pyoxigraph writes it.

    The formats are the entries of FORMATS: equal means the same entry (and hashing is cheap,
    for cache keys). A format pickles as its name and unpickles as the same entry, so a worker's
    job and reply carry it whole (pyoxigraph's format objects cannot be pickled themselves).
    """

    name: str  # short name for `format=` and the CLI
    oxigraph: ox.RdfFormat | ox.QueryResultsFormat
    # Other media types clients send for the same thing. pyoxigraph's from_media_type reads
    # them too, but cannot list them, and negotiation must offer each one by name.
    aliases: tuple[str, ...] = ()
    nicknames: tuple[str, ...] = ()  # other short names clients (SPARQLWrapper) send
    # Derived from `oxigraph`, so that they are never restated:
    kind: ResultKind = field(init=False)
    media_type: str = field(init=False)  # without parameters (pyoxigraph's CSV says charset)
    extension: str = field(init=False)
    iri: str = field(init=False)  # W3C formats IRI, for sd:resultFormat

    def __post_init__(self):
        graph = isinstance(self.oxigraph, ox.RdfFormat)
        derived = {
            "kind": ResultKind.GRAPH if graph else ResultKind.SOLUTIONS,
            "media_type": self.oxigraph.media_type.split(";", 1)[0].strip(),
            "extension": self.oxigraph.file_extension,
            "iri": _IRIS.get(self.oxigraph, self.oxigraph.iri),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    def __reduce__(self):
        return _named, (self.name,)

    @property
    def content_type(self) -> str:
        """Return the Content-Type header value; text formats say they are UTF-8."""
        if self.media_type.startswith("text/"):
            return f"{self.media_type}; charset=utf-8"
        return self.media_type


_Q, _R = ox.QueryResultsFormat, ox.RdfFormat

# pyoxigraph 0.5 names JSON-LD https://www.w3.org/ns/formats/data/JSON-LD, which the W3C
# formats namespace (and so sd:resultFormat's readers) does not define.
_IRIS = {_R.JSON_LD: W3C_FORMATS + "JSON-LD"}

FORMATS: tuple[ResultFormat, ...] = (
    ResultFormat("json", _Q.JSON, ("application/json",), ("srj",)),
    ResultFormat("xml", _Q.XML, ("application/xml", "text/xml"), ("srx",)),
    ResultFormat("csv", _Q.CSV),
    ResultFormat("tsv", _Q.TSV),
    ResultFormat("ttl", _R.TURTLE, ("application/x-turtle",), ("turtle",)),
    ResultFormat("nt", _R.N_TRIPLES, (), ("ntriples", "n-triples")),
    ResultFormat("jsonld", _R.JSON_LD, (), ("json-ld", "json")),
    ResultFormat("rdfxml", _R.RDF_XML, (), ("rdf", "rdf+xml", "xml")),
    ResultFormat("nq", _R.N_QUADS, (), ("nquads", "n-quads")),
    ResultFormat("trig", _R.TRIG),
)

_BY_NAME = {f.name: f for f in FORMATS}
_BY_EXTENSION = {f.extension: f for f in FORMATS}


def _named(name: str) -> ResultFormat:
    """Return the table's format called `name` exactly (how a pickled format comes back)."""
    return _BY_NAME[name]


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
