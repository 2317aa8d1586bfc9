"""Everything published about one immutable store, each part computed once, on first use.

The dumps, the VoID/DCAT description, the describer and the JSON-LD context share one store;
the web app keeps one `Publication` per process and the CLI builds its own. Describing a
resource builds the describer over the store and the description's outline only: the dumps
are serialised when one is downloaded or when the dataset's own description (which states
their sizes and checksums) is asked for.
"""

from datetime import UTC, datetime
from functools import partial

import pyoxigraph as ox

from smartcity_kg.lazy import Lazy
from smartcity_kg.publish.context import context_bytes
from smartcity_kg.publish.describe import Describer
from smartcity_kg.publish.dumps import Dumps, prefixes, serialize_triples, triple_key
from smartcity_kg.publish.void import DESCRIPTION_PREFIXES, DatasetDescription, header_triples
from smartcity_kg.rdf.vocab import DCT


class Publication:
    """The published forms of `store`, whose IRIs start with `base_iri`."""

    def __init__(self, store: ox.Store, base_iri: str):
        self.store = store
        self.base = base_iri
        self.dumps = Dumps(store)  # these two compute nothing until asked
        self.description = DatasetDescription(store, self.dumps, base_iri)
        self._describer = Lazy(self._build_describer)
        self._context = Lazy(partial(context_bytes, store))

    @property
    def describer(self) -> Describer:
        return self._describer.get()

    @property
    def context(self) -> bytes:
        return self._context.get()

    @property
    def modified(self) -> datetime:
        """Return the dataset's dct:modified (from its header) as an aware datetime."""
        dates = [
            t.object.value
            for t in header_triples(self.base)
            if t.subject.value == self.description.iri and t.predicate.value == DCT + "modified"
        ]
        return datetime.fromisoformat(max(dates)).replace(tzinfo=UTC)

    def _build_describer(self) -> Describer:
        outline = self.description.outline()
        return Describer.over(self.store, outline, self.base, self.description.figures)


def serialize_description(triples, fmt: ox.RdfFormat) -> bytes:
    """Write a description's triples in `fmt`; quad formats put them in the default graph."""
    ordered = sorted(triples, key=triple_key)
    if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
        quads = [ox.Quad(t.subject, t.predicate, t.object) for t in ordered]
        return ox.serialize(quads, format=fmt, prefixes={**prefixes(), **DESCRIPTION_PREFIXES})
    return serialize_triples(ordered, fmt, DESCRIPTION_PREFIXES)
