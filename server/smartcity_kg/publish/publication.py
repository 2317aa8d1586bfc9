"""Everything published about one immutable store, computed once, on first use.

The dumps, the VoID/DCAT description (which needs the dumps' checksums), the describer (which
needs the description, so the dataset's own IRIs resolve) and the JSON-LD context share one
store; the web app keeps one `Publication` per process and the CLI builds its own.
"""

from datetime import UTC, datetime
from functools import cached_property

import pyoxigraph as ox

from smartcity_kg.publish.context import context_bytes
from smartcity_kg.publish.describe import Describer
from smartcity_kg.publish.dumps import Dumps, prefixes, serialize_triples, triple_key
from smartcity_kg.publish.void import DESCRIPTION_PREFIXES, DatasetDescription
from smartcity_kg.rdf.vocab import DCT


class Publication:
    """The published forms of `store`, whose IRIs start with `base_iri`."""

    def __init__(self, store: ox.Store, base_iri: str):
        self.store = store
        self.base = base_iri

    @cached_property
    def dumps(self) -> Dumps:
        return Dumps(self.store)

    @cached_property
    def description(self) -> DatasetDescription:
        return DatasetDescription(self.store, self.dumps, self.base)

    @cached_property
    def describer(self) -> Describer:
        return Describer.over(self.store, self.description.triples(), self.base)

    @cached_property
    def context(self) -> bytes:
        return context_bytes(self.store)

    @cached_property
    def modified(self) -> datetime:
        """Return the dataset's dct:modified (from its header) as an aware datetime."""
        dates = [
            t.object.value
            for t in self.description.triples()
            if t.subject.value == self.description.iri and t.predicate.value == DCT + "modified"
        ]
        return datetime.fromisoformat(max(dates)).replace(tzinfo=UTC)


def serialize_description(triples, fmt: ox.RdfFormat) -> bytes:
    """Write a description's triples in `fmt`; quad formats put them in the default graph."""
    ordered = sorted(triples, key=triple_key)
    if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
        quads = [ox.Quad(t.subject, t.predicate, t.object) for t in ordered]
        return ox.serialize(quads, format=fmt, prefixes={**prefixes(), **DESCRIPTION_PREFIXES})
    return serialize_triples(ordered, fmt, DESCRIPTION_PREFIXES)
