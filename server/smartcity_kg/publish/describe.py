"""The description of one resource: what a client gets when it dereferences an IRI we mint.

A description holds the resource's own triples (with any blank nodes they lead to), the
triples that point at it (with the blank nodes they come from, such as `rdf:Statement`
annotations), and the labels of everything it links to, so a client can show it without a
second request. One document describes a slash IRI together with its hash IRIs
(`task/…#duty-3` lives in the document of `task/…`), as Cool URIs have it.

The `Describer` works on an in-memory `pyoxigraph.Dataset` (lookups by subject and object, no
SPARQL), built once per process from the store plus the outline of the dataset description, so
the IRIs of the dataset, its distributions and named graphs resolve like any other. What is
costly to compute about a document (the counts and checksums of the dataset description) comes
from `deferred`, asked only when that document is described.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from smartcity_kg.errors import NotFound
from smartcity_kg.lazy import Lazy
from smartcity_kg.publish.dumps import triple_key
from smartcity_kg.rdf.vocab import RDFS, SKOS

LABELS = (ox.NamedNode(SKOS + "prefLabel"), ox.NamedNode(RDFS + "label"))
VERSION_IRI = ox.NamedNode("http://www.w3.org/2002/07/owl#versionIRI")


@dataclass(frozen=True)
class Description:
    """The triples served for one document, and the resources it is about."""

    document: str  # the IRI without fragment, which the document describes
    resources: tuple[str, ...]  # the document IRI (if used) and its hash IRIs
    triples: tuple[ox.Triple, ...]


Deferred = Callable[[str], Iterable[ox.Triple]]


class Describer:
    """Describe any IRI under `base_iri` that the store uses; built once, read many times.

    `deferred(document)` returns more triples about the document's own resources, computed
    only when that document is described; they may name no IRI that `quads` do not.
    """

    def __init__(self, quads: Iterable[ox.Quad], base_iri: str, deferred: Deferred | None = None):
        self.dataset = ox.Dataset(quads)
        self.base = base_iri
        self._deferred = deferred or _nothing
        self._documents = Lazy(self._index)

    @classmethod
    def over(
        cls,
        store: ox.Store,
        extra: Iterable[ox.Triple],
        base_iri: str,
        deferred: Deferred | None = None,
    ) -> "Describer":
        """Describe the store's quads plus `extra` triples (the dataset description's outline)."""
        quads = list(store) + [ox.Quad(t.subject, t.predicate, t.object) for t in extra]
        return cls(quads, base_iri, deferred)

    @property
    def documents(self) -> dict[str, tuple[str, ...]]:
        """Return {document IRI: resources it describes} for every IRI under the base."""
        return self._documents.get()

    def _index(self) -> dict[str, tuple[str, ...]]:
        terms = set()  # distinct terms first: hashing a term is cheaper than reading its IRI
        for quad in self.dataset:
            terms.update((quad.subject, quad.predicate, quad.object, quad.graph_name))
        found: dict[str, set[str]] = {}
        for term in terms:
            if isinstance(term, ox.NamedNode) and term.value.startswith(self.base):
                found.setdefault(term.value.split("#", 1)[0], set()).add(term.value)
        return {doc: tuple(sorted(iris)) for doc, iris in sorted(found.items())}

    def version_of(self, iri: str) -> str | None:
        """Return the ontology whose version IRI is `iri`, or None."""
        try:
            node = ox.NamedNode(iri)
        except ValueError:  # a request path with a space or a NUL: not an IRI, so not ours
            return None
        for quad in self.dataset.quads_for_object(node):
            if quad.predicate == VERSION_IRI and isinstance(quad.subject, ox.NamedNode):
                return quad.subject.value
        return None

    def describe(self, iri: str) -> Description:
        """Return the description of the document `iri` (fragment ignored), or raise NotFound."""
        document = iri.split("#", 1)[0]
        resources = self.documents.get(document)
        if not resources:
            raise NotFound(f"{document} is not a resource of this dataset")
        nodes = [ox.NamedNode(r) for r in resources]
        own = self._closure(t for node in nodes for t in self._outgoing(node))
        own += self._deferred(document)
        incoming = [t for node in nodes for t in self._incoming(node)]
        incoming += self._closure(
            t.subject for t in incoming if isinstance(t.subject, ox.BlankNode)
        )
        triples = set(own) | set(incoming)
        triples |= set(self.labels(_linked(triples) - set(nodes)))
        return Description(document, resources, tuple(sorted(triples, key=triple_key)))

    def labels(self, nodes: Iterable[ox.NamedNode]) -> list[ox.Triple]:
        """Return the label triples (skos:prefLabel, rdfs:label) of `nodes`."""
        return [
            quad.triple
            for node in nodes
            for label in LABELS
            for quad in self.dataset.quads_for_subject(node)
            if quad.predicate == label
        ]

    def objects(self, subject, predicate: ox.NamedNode) -> list:
        """Return the distinct objects of (subject, predicate), in a stable order."""
        found = {
            q.object for q in self.dataset.quads_for_subject(subject) if q.predicate == predicate
        }
        return sorted(found, key=str)

    def subjects(self, predicate: ox.NamedNode, obj) -> list:
        """Return the distinct subjects of (predicate, object), in a stable order."""
        found = {q.subject for q in self.dataset.quads_for_object(obj) if q.predicate == predicate}
        return sorted(found, key=str)

    def _outgoing(self, node) -> set[ox.Triple]:
        return {q.triple for q in self.dataset.quads_for_subject(node)}

    def _incoming(self, node) -> set[ox.Triple]:
        return {q.triple for q in self.dataset.quads_for_object(node)}

    def _closure(self, start: Iterable) -> list[ox.Triple]:
        """Return the triples of the start terms and of every blank node they lead to."""
        found: set[ox.Triple] = set()
        pending = list(start)
        seen: set = set()
        while pending:
            item = pending.pop()
            triples = {item} if isinstance(item, ox.Triple) else self._outgoing(item)
            for triple in triples - found:
                found.add(triple)
                if isinstance(triple.object, ox.BlankNode) and triple.object not in seen:
                    seen.add(triple.object)
                    pending.append(triple.object)
        return list(found)


def _nothing(document: str) -> list[ox.Triple]:
    return []


def _linked(triples: Iterable[ox.Triple]) -> set[ox.NamedNode]:
    """Return every IRI a set of triples mentions: subjects, predicates and objects."""
    return {
        term
        for t in triples
        for term in (t.subject, t.predicate, t.object)
        if isinstance(term, ox.NamedNode)
    }
