"""The dataset's VoID and DCAT description, computed from the store and the dumps.

Only what a person must decide (title, licence, publisher, dates) is written by hand, in
`dataset-header.ttl`. Statistics come from SPARQL over the store, sizes and checksums from the
dump bytes actually served, the vocabularies and example resources from the data, so the
description cannot drift from what is published.

It comes in three parts, each computed when first asked for: the counts (VoID statistics of
the dataset and of each named graph), the dumps' sizes and checksums (which need every dump
serialised), and the outline, everything else: every IRI the description mentions is in the
outline, and the two others add only literals. Describing a resource needs the outline only.
"""

from functools import cache
from importlib import resources

import pyoxigraph as ox

from smartcity_kg.lazy import Lazy
from smartcity_kg.publish.dumps import Dumps, dump_files, triple_key
from smartcity_kg.rdf.vocab import DCAT, DCT, RDF, SPDX, VOID, XSD

IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
DESCRIPTION_PREFIXES = {"dcat": DCAT, "dct": DCT, "void": VOID, "spdx": SPDX, "xsd": XSD}
STATISTICS = ("triples", "entities", "classes", "properties", "distinctSubjects", "distinctObjects")

# ?space and ?terms are bound by substitution (they must be projected for that).
# {triples} is the triple pattern: the union of the graphs, or GRAPH ?g for one graph each.
STATISTICS_QUERY = """
SELECT ?space ?g (COUNT(*) AS ?triples) (COUNT(DISTINCT ?entity) AS ?entities)
       (COUNT(DISTINCT ?class) AS ?classes) (COUNT(DISTINCT ?p) AS ?properties)
       (COUNT(DISTINCT ?s) AS ?distinctSubjects) (COUNT(DISTINCT ?o) AS ?distinctObjects)
WHERE {
  { SELECT DISTINCT ?g ?s ?p ?o WHERE { {triples} } }
  BIND (IF(isIRI(?s) && STRSTARTS(STR(?s), STR(?space)), ?s, ?unbound) AS ?entity)
  BIND (IF(?p = <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>, ?o, ?unbound) AS ?class)
}
GROUP BY ?space ?g
"""
EXAMPLES_QUERY = """
SELECT ?terms ?space ?class (MIN(STR(?s)) AS ?example) WHERE {
  ?s a ?class .
  FILTER (isIRI(?s) && STRSTARTS(STR(?class), STR(?terms)) && STRSTARTS(STR(?s), STR(?space)))
}
GROUP BY ?terms ?space ?class
"""
TERMS_QUERY = "SELECT DISTINCT ?term WHERE { { ?s ?term ?o } UNION { ?s a ?term } }"
GRAPHS_QUERY = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"


def statistics(store: ox.Store, space: str, *, per_graph: bool = False) -> dict:
    """Return VoID statistics for the union of the graphs, or {graph IRI: statistics}."""
    pattern = "GRAPH ?g { ?s ?p ?o }" if per_graph else "?s ?p ?o"
    rows = store.query(
        STATISTICS_QUERY.replace("{triples}", pattern),
        use_default_graph_as_union=True,
        substitutions={ox.Variable("space"): ox.NamedNode(space)},
    )
    found = {
        row["g"].value if per_graph else None: {k: int(row[k].value) for k in STATISTICS}
        for row in rows
        if row["triples"] is not None and int(row["triples"].value)
    }
    return found if per_graph else found.get(None, dict.fromkeys(STATISTICS, 0))


class DatasetDescription:
    """VoID and DCAT about the store and its dumps; each part computed once, on first use."""

    def __init__(self, store: ox.Store, dumps: Dumps, base_iri: str):
        self._store = store
        self._dumps = dumps
        self.base = base_iri
        self.iri = base_iri + "dataset"
        self._graphs = Lazy(self._named_graphs)
        self._outline = Lazy(self._draw_outline)
        self._counts = Lazy(self._count)
        self._dump_figures = Lazy(self._measure_dumps)
        self._triples = Lazy(self._assemble)

    def triples(self) -> list[ox.Triple]:
        """Return the whole description: the outline, the counts and the dumps' figures."""
        return self._triples.get()

    def outline(self) -> list[ox.Triple]:
        """Return the description less its counts, sizes and checksums (all literals).

        The hand-written header, the subsets, links, distributions and service: every IRI the
        description mentions is here, and nothing here needs a dump serialised.
        """
        return self._outline.get()

    def figures(self, document: str) -> list[ox.Triple]:
        """Return the computed literals about the resources of `document` (an IRI without '#').

        Counts for the dataset and for each named graph; for the dataset, also the size and
        checksum of every dump, so only describing the dataset itself serialises the dumps.
        """
        found = []
        if document == self.iri or document in self._graphs.get():
            found += self._counts.get()
        if document == self.iri:
            found += self._dump_figures.get()
        return [t for t in found if t.subject.value.split("#", 1)[0] == document]

    def _assemble(self) -> list[ox.Triple]:
        found = self.outline() + self._counts.get() + self._dump_figures.get()
        return sorted(set(found), key=triple_key)

    def _draw_outline(self) -> list[ox.Triple]:
        found = header_triples(self.base) + self._subsets() + self._links()
        return found + self._distributions() + self._service()

    def _named_graphs(self) -> list[str]:
        """Return the IRIs of the named graphs that hold a triple, in IRI order."""
        rows = self._store.query(GRAPHS_QUERY, use_default_graph_as_union=True)
        return sorted(row["g"].value for row in rows)

    def _subsets(self) -> list[ox.Triple]:
        dataset = ox.NamedNode(self.iri)
        found = []
        for graph in self._graphs.get():
            subset = ox.NamedNode(graph)
            found += [
                _t(dataset, VOID + "subset", subset),
                _t(subset, RDF + "type", VOID + "Dataset"),
            ]
        return found

    def _count(self) -> list[ox.Triple]:
        """Return the VoID statistics of the dataset and of each named graph."""
        found = _stat_triples(ox.NamedNode(self.iri), statistics(self._store, self.base))
        for graph, stats in statistics(self._store, self.base, per_graph=True).items():
            found += _stat_triples(ox.NamedNode(graph), stats)
        return found

    def _links(self) -> list[ox.Triple]:
        dataset = ox.NamedNode(self.iri)
        found = [
            _t(dataset, VOID + "uriSpace", ox.Literal(self.base)),
            _t(dataset, VOID + "sparqlEndpoint", ox.NamedNode(self.base + "sparql")),
        ]
        found += [_t(dataset, VOID + "vocabulary", ox.NamedNode(v)) for v in self.vocabularies()]
        found += [_t(dataset, VOID + "exampleResource", ox.NamedNode(e)) for e in self.examples()]
        return found

    def vocabularies(self) -> list[str]:
        """Return the namespace of every property and class the data uses."""
        terms = self._store.query(TERMS_QUERY, use_default_graph_as_union=True)
        return sorted({namespace(row["term"].value) for row in terms})

    def examples(self) -> list[str]:
        """Return one resource (the first by IRI) of each class the ontology defines."""
        rows = self._store.query(
            EXAMPLES_QUERY,
            use_default_graph_as_union=True,
            substitutions={
                ox.Variable("terms"): ox.NamedNode(self.base + "def#"),
                ox.Variable("space"): ox.NamedNode(self.base),
            },
        )
        return sorted({row["example"].value for row in rows})

    def _distributions(self) -> list[ox.Triple]:
        """Describe every dump but its size and checksum, which need it written."""
        dataset = ox.NamedNode(self.iri)
        found = []
        for name, (fmt, gzipped) in dump_files().items():
            dist, checksum = _distribution(self.iri, name)
            url = ox.NamedNode(f"{self.base}downloads/{name}")
            media = IANA_MEDIA_TYPES + fmt.media_type
            title = format_title(fmt) + (" (gzip)" if gzipped else "")
            found += [
                _t(dataset, DCAT + "distribution", dist),
                _t(dataset, VOID + "dataDump", url),
                _t(dist, RDF + "type", DCAT + "Distribution"),
                _t(dist, DCT + "title", ox.Literal(title, language="en")),
                _t(dist, DCT + "format", ox.NamedNode(fmt.iri)),
                _t(dist, DCAT + "mediaType", ox.NamedNode(media)),
                _t(dist, DCAT + "downloadURL", url),
                _t(dist, DCAT + "accessURL", ox.NamedNode(self.base + "downloads")),
                _t(dist, SPDX + "checksum", checksum),
                _t(checksum, RDF + "type", SPDX + "Checksum"),
                _t(checksum, SPDX + "algorithm", SPDX + "checksumAlgorithm_sha256"),
                _t(dist, DCT + "license", ox.NamedNode(self._license())),
            ]
            if gzipped:
                found.append(
                    _t(dist, DCAT + "compressFormat", IANA_MEDIA_TYPES + "application/gzip")
                )
        return found

    def _measure_dumps(self) -> list[ox.Triple]:
        """Return every dump's size and checksum: this serialises every dump."""
        found = []
        for dump in self._dumps.all():
            dist, checksum = _distribution(self.iri, dump.name)
            found += [
                _t(dist, DCAT + "byteSize", _typed(dump.size, "nonNegativeInteger")),
                _t(checksum, SPDX + "checksumValue", _typed(dump.sha256, "hexBinary")),
            ]
        return found

    def _service(self) -> list[ox.Triple]:
        """Describe the SPARQL endpoint, whose plain GET answers with its service description."""
        service = ox.NamedNode(self.iri + "#sparql")
        endpoint = ox.NamedNode(self.base + "sparql")
        return [
            _t(service, RDF + "type", DCAT + "DataService"),
            _t(service, DCT + "title", ox.Literal("SPARQL 1.1 endpoint", language="en")),
            _t(service, DCAT + "endpointURL", endpoint),
            _t(service, DCAT + "endpointDescription", endpoint),
            _t(service, DCAT + "servesDataset", ox.NamedNode(self.iri)),
            _t(service, DCT + "conformsTo", "https://www.w3.org/TR/sparql11-protocol/"),
        ]

    def _license(self) -> str:
        return next(t.object.value for t in header_triples(self.base)
                    if t.predicate.value == DCT + "license")  # fmt: skip


@cache
def header_triples(base_iri: str) -> list[ox.Triple]:
    """Return the hand-written header, relative IRIs resolved against `base_iri`."""
    text = (resources.files(__package__) / "dataset-header.ttl").read_bytes()
    return [q.triple for q in ox.parse(text, format=ox.RdfFormat.TURTLE, base_iri=base_iri)]


def format_title(fmt) -> str:
    """Return a format's human name from its W3C formats IRI (RDF_XML reads RDF/XML)."""
    return fmt.iri.rsplit("/", 1)[-1].replace("_", "/")


def namespace(iri: str) -> str:
    """Return the namespace of a term: its IRI up to the last '#' or '/' (or ':' in `urn:x:y`).

    Every IRI has a scheme, so the namespace is never empty: foreign data naming a term
    `<vbscript:x>` gets `vbscript:`, not a page that fails.
    """
    cut = max(iri.rfind("#"), iri.rfind("/"))
    if cut < 0:
        cut = iri.rfind(":")
    return iri[: cut + 1]


def _distribution(dataset: str, name: str) -> tuple[ox.NamedNode, ox.NamedNode]:
    """Return the IRIs of the distribution of the dump `name` and of its checksum."""
    dist = f"{dataset}#dist-{name.split('.', 1)[1].replace('.', '-')}"
    return ox.NamedNode(dist), ox.NamedNode(dist + "-sha256")


def _stat_triples(subject: ox.NamedNode, stats: dict) -> list[ox.Triple]:
    return [_t(subject, VOID + name, _typed(value, "integer")) for name, value in stats.items()]


def _typed(value, datatype: str) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + datatype))


def _t(subject, predicate: str, obj) -> ox.Triple:
    """Build a triple; a str object is an IRI."""
    obj = ox.NamedNode(obj) if isinstance(obj, str) else obj
    return ox.Triple(subject, ox.NamedNode(predicate), obj)
