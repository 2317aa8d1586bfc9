"""Load the packaged Turtle files into a pyoxigraph store, one named graph per folder.

The default graph of every query is the union of the named graphs, so a query without
FROM sees the ontology, the data and the shapes together.
"""

import io
import re
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from smartcity_kg.config import BASE_IRI
from smartcity_kg.errors import DataSyntaxError, DoctypeRefused, InputError
from smartcity_kg.paths import turtle_files
from smartcity_kg.progress import CountingReader

GRAPH_NAMES = ("ontology", "data", "shapes")
# pyoxigraph's RDF/XML parser reads the entities of a DOCTYPE wherever one appears (inside the
# root element too, in any letter case) and expands them without bound: 762 bytes of nested
# entities ask for 4.8 GB. No DOCTYPE may reach it, so none is read.
DOCTYPE = re.compile(rb"<!doctype", re.IGNORECASE)


def check_no_doctype(body: bytes, fmt: ox.RdfFormat | None, where: str) -> None:
    """Raise DoctypeRefused if `body` is RDF/XML with a DOCTYPE (a whole answer, not a file)."""
    if fmt == ox.RdfFormat.RDF_XML and (found := DOCTYPE.search(body)):
        raise DoctypeRefused(where, body.count(b"\n", 0, found.start()) + 1)


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


def file_sources(paths: Iterable[Path]) -> list[GraphSource]:
    """Return sources for `--data` files: triples go to a graph named by the file's URI.

    Quad files (N-Quads, TriG) keep the graphs they name.
    """
    return [GraphSource(Path(p).resolve().as_uri(), (Path(p),)) for p in paths]


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
    with reading_errors(path), rdf_input(path, fmt, progress) as reader:
        store.load(input=reader, format=fmt, to_graph=ox.NamedNode(graph), base_iri=base_of(path))


def base_of(path: Path) -> str:
    """Return what relative IRIs in a file (`<>`, `<#x>`) resolve against: the file's own IRI."""
    return Path(path).resolve().as_uri()


@contextmanager
def rdf_input(path: Path, fmt: ox.RdfFormat, progress=None):
    """Open `path` for pyoxigraph's parser (every file read goes through here).

    RDF/XML passes through a DoctypeGuard on its way, so the parser never sees a DOCTYPE.
    Call inside `reading_errors(path)`.
    """
    with path.open("rb") as raw:
        reader = CountingReader(raw, progress)
        if fmt == ox.RdfFormat.RDF_XML:
            reader = DoctypeGuard(reader, path)
        yield io.BufferedReader(reader, 1 << 20)


class DoctypeGuard(io.RawIOBase):
    """A raw reader that raises DoctypeRefused before passing on the bytes of a DOCTYPE.

    It checks each chunk as the parser reads it: one pass over the file, a few bytes kept
    between chunks, so a file of any size costs no extra reading or memory.
    """

    KEEP = len(DOCTYPE.pattern) - 1  # a DOCTYPE cut by a chunk boundary is found in the next

    def __init__(self, raw, path: Path):
        self._raw = raw
        self._path = path
        self._tail = b""
        self._line = 1  # the line the kept tail starts on

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._raw.readinto(buffer)
        if count:
            self._check(bytes(memoryview(buffer)[:count]))
        return count

    def _check(self, chunk: bytes) -> None:
        window = self._tail + chunk
        found = DOCTYPE.search(window)
        if found:
            line = self._line + window.count(b"\n", 0, found.start())
            raise DoctypeRefused(str(self._path), line)
        cut = max(0, len(window) - self.KEEP)
        self._line += window.count(b"\n", 0, cut)
        self._tail = window[cut:]


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
