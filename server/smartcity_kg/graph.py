"""Load the packaged Turtle files into a pyoxigraph store, one named graph per folder.

The default graph of every query is the union of the named graphs, so a query without
FROM sees the ontology, the data and the shapes together.
"""

import io
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .config import BASE_IRI
from .errors import DataSyntaxError, InputError
from .paths import turtle_files
from .progress import CountingReader

GRAPH_NAMES = ("ontology", "data", "shapes")


def graph_iri(name: str, base_iri: str = BASE_IRI) -> str:
    """Return the IRI of the named graph that holds one packaged folder."""
    return f"{base_iri}graph/{name}"


@dataclass(frozen=True)
class GraphSource:
    """A named graph and the files that fill it."""

    iri: str
    files: tuple[Path, ...]


def packaged_sources(base_iri: str = BASE_IRI) -> list[GraphSource]:
    """Return the shipped ontology, data and shapes as graph sources."""
    return [GraphSource(graph_iri(n, base_iri), tuple(turtle_files(n))) for n in GRAPH_NAMES]


def load_store(sources: Iterable[GraphSource] | None = None) -> ox.Store:
    """Return an in-memory store holding every source in its named graph."""
    store = ox.Store()
    for source in packaged_sources() if sources is None else sources:
        for path in source.files:
            load_file(store, path, source.iri)
    return store


def load_file(store: ox.Store, path: Path, graph: str, progress=None) -> None:
    """Load one RDF file into `graph`; a syntax error names the file and line, and loads nothing.

    `progress`, if given, is called with the size of each chunk read (for a progress bar).
    """
    fmt = rdf_format_for(path)
    with reading_errors(path):
        if progress is None:
            store.load(path=str(path), format=fmt, to_graph=ox.NamedNode(graph))
        else:
            with path.open("rb") as raw:
                reader = io.BufferedReader(CountingReader(raw, progress), 1 << 20)
                store.load(input=reader, format=fmt, to_graph=ox.NamedNode(graph))


@contextmanager
def reading_errors(path: Path):
    """Turn a parser's SyntaxError or an OSError into our errors, naming the file and line."""
    try:
        yield
    except SyntaxError as error:
        raise DataSyntaxError(str(path), error.lineno, error.msg) from None
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror or error}") from None


def rdf_format_for(path: Path) -> ox.RdfFormat:
    """Guess the RDF format from the file extension, as pyoxigraph names them."""
    fmt = ox.RdfFormat.from_extension(path.suffix.lstrip(".")) if path.suffix else None
    if fmt is None:
        raise InputError(f"{path}: unknown RDF file extension {path.suffix or '(none)'!r}")
    return fmt
