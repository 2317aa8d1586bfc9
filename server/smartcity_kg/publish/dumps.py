"""The whole store as downloadable files, byte for byte the same for the same data.

pyoxigraph writes triples in the order it is given them and labels blank nodes as they were
parsed (randomly, per load). So the quads are first canonicalised (blank nodes relabelled from
the graph's shape) and then sorted, subject by subject with `rdf:type` first. Gzip runs with
mtime 0 and no file name, so compressed bytes are as stable as the plain ones. The store is
immutable while serving: `Dumps` computes each file once, when it is first asked for, so a
process that never serves a download never pays for one.

Turtle and TriG declare the prefixes of the packaged ontology and data files but no `@base`:
pyoxigraph would relativise every https IRI against it (`<//sws.geonames.org/…>`), which is
valid but surprising in a file meant to be read and diffed.
"""

import gzip
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, partial

import pyoxigraph as ox

from smartcity_kg.errors import InputError, NotFound
from smartcity_kg.lazy import Lazy
from smartcity_kg.rdf import formats
from smartcity_kg.rdf.formats import ResultFormat
from smartcity_kg.rdf.vocab import RDF_TYPE
from smartcity_kg.sparql.catalog import dataset_prefixes

STEM = "smartcity-kg"
DUMP_FORMATS = ("ttl", "nt", "jsonld", "rdfxml", "nq", "trig")  # names in the formats table
QUAD_FORMATS = (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG)
GZIP = "application/gzip"


@dataclass(frozen=True)
class Dump:
    """One download: its file name, format, bytes and checksum."""

    name: str
    format: ResultFormat
    gzipped: bool
    data: bytes
    sha256: str = field(init=False)  # hex, of the bytes served; hashed once, with the bytes

    def __post_init__(self):
        object.__setattr__(self, "sha256", hashlib.sha256(self.data).hexdigest())

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def content_type(self) -> str:
        """Return the Content-Type: gzip files are served as gzip, not as content-encoded RDF."""
        return GZIP if self.gzipped else self.format.content_type


def dump_name(fmt: ResultFormat, gzipped: bool = False) -> str:
    """Return the stable file name of a dump, e.g. smartcity-kg.ttl or smartcity-kg.nq.gz."""
    return f"{STEM}.{fmt.extension}" + (".gz" if gzipped else "")


@cache
def dump_files() -> dict[str, tuple[ResultFormat, bool]]:
    """Return every download's file name with its format and whether it is gzipped."""
    found = {}
    for name in DUMP_FORMATS:
        fmt = formats.by_name(name)
        for gzipped in (False, True):
            found[dump_name(fmt, gzipped)] = (fmt, gzipped)
    return found


def dump_format(name: str) -> ResultFormat:
    """Return the format of a dump by short name; anything else is an InputError."""
    if name not in DUMP_FORMATS:
        raise InputError(
            f"unknown export format {name!r}; choose one of: {', '.join(DUMP_FORMATS)}"
        )
    return formats.by_name(name)


class Dumps:
    """Every dump of one store, each serialised (and gzipped) on first use, once per process.

    Cheap to make: nothing is read from the store until a file, its size or its checksum is
    asked for; then only that file (and, for a gzipped one, its plain twin) is written.
    """

    def __init__(self, store: ox.Store):
        self._quads = Lazy(partial(canonical_quads, store))
        self._files = {
            name: Lazy(partial(self._build, name, fmt, gzipped))
            for name, (fmt, gzipped) in dump_files().items()
        }

    def names(self) -> list[str]:
        """Return every file name, each plain file followed by its gzipped twin."""
        return list(self._files)

    def get(self, name: str) -> Dump:
        """Return the dump called `name`, serialising it on first use."""
        if name not in self._files:
            raise NotFound(f"no download called {name!r}; available: {', '.join(self.names())}")
        return self._files[name].get()

    def all(self) -> list[Dump]:
        return [self.get(name) for name in self.names()]

    def ready(self) -> list[str]:
        """Return the names of the files serialised so far, in the order of `names`."""
        return [name for name, file in self._files.items() if file.ready()]

    def for_format(self, fmt: ResultFormat) -> bytes:
        """Return the plain bytes of the dump in `fmt` (for the CLI's export)."""
        return self.get(dump_name(fmt)).data

    def _build(self, name: str, fmt: ResultFormat, gzipped: bool) -> Dump:
        if gzipped:
            return Dump(name, fmt, True, gzip_bytes(self.get(dump_name(fmt)).data))
        return Dump(name, fmt, False, serialize(self._quads.get(), fmt.oxigraph))


def canonical_quads(store: ox.Store) -> list[ox.Quad]:
    """Return the store's quads with canonical blank node labels, in a stable order."""
    dataset = ox.Dataset(store)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return sorted(dataset, key=lambda q: (str(q.graph_name), *triple_key(q.triple)))


def triple_key(triple: ox.Triple) -> tuple:
    """Sort key: subjects in IRI order (blank nodes last), `rdf:type` first within a subject."""
    return (str(triple.subject), triple.predicate != RDF_TYPE, str(triple.predicate),
            str(triple.object))  # fmt: skip


def sorted_triples(quads: Iterable[ox.Quad]) -> list[ox.Triple]:
    """Return the distinct triples of `quads` (the union of their graphs), sorted."""
    return sorted({q.triple for q in quads}, key=triple_key)


def serialize(quads: list[ox.Quad], fmt: ox.RdfFormat) -> bytes:
    """Write `quads` deterministically: quad formats keep graphs, the others merge them."""
    if fmt in QUAD_FORMATS:
        return ox.serialize(quads, format=fmt, prefixes=prefixes())
    return serialize_triples(sorted_triples(quads), fmt)


def serialize_triples(
    triples: list[ox.Triple], fmt: ox.RdfFormat, extra_prefixes: dict[str, str] | None = None
) -> bytes:
    """Write triples in the order given, with the packaged prefixes where the format has them."""
    return ox.serialize(triples, format=fmt, prefixes={**prefixes(), **(extra_prefixes or {})})


def gzip_bytes(data: bytes) -> bytes:
    """Compress with a zero timestamp and no file name, so equal input gives equal output."""
    return gzip.compress(data, compresslevel=9, mtime=0)


@cache
def prefixes() -> dict[str, str]:
    """Return the prefixes the packaged Turtle files declare (the catalogue's table), once."""
    return dataset_prefixes()
