"""VoID and DCAT computed from the store, and the JSON-LD context built from the ontology."""

import hashlib
import json
import warnings

import pyoxigraph as ox
import pytest
import rdflib

from smartcity_kg.config import BASE_IRI
from smartcity_kg.publish.context import build_context
from smartcity_kg.publish.dumps import Dumps, triple_key
from smartcity_kg.publish.void import DatasetDescription
from smartcity_kg.rdf.vocab import DCAT, SPDX, VOID

DATASET = ox.NamedNode(BASE_IRI + "dataset")


@pytest.fixture(scope="module")
def store(packaged_graph):
    """The packaged graph in the store kind under test (conftest's SMARTCITY_KG_TEST_STORE)."""
    return packaged_graph


@pytest.fixture(scope="module")
def description(store):
    return DatasetDescription(store, Dumps(store), BASE_IRI)


def stated(description, subject, predicate) -> list:
    return [t.object for t in description.triples()
            if t.subject == subject and t.predicate.value == predicate]  # fmt: skip


def count(store, pattern: str, what: str = "*") -> int:
    """Count with a query written independently of the one publish/void.py runs."""
    query = f"SELECT (COUNT({what}) AS ?n) WHERE {{ {pattern} }}"
    return int(next(iter(store.query(query, use_default_graph_as_union=True)))["n"].value)


def test_void_statistics_of_the_whole_dataset_equal_sparql_counts(store, description):
    expected = {
        "triples": count(store, "SELECT DISTINCT ?s ?p ?o { ?s ?p ?o }"),
        "classes": count(store, "?s a ?c", "DISTINCT ?c"),
        "properties": count(store, "?s ?p ?o", "DISTINCT ?p"),
        "distinctSubjects": count(store, "?s ?p ?o", "DISTINCT ?s"),
        "distinctObjects": count(store, "?s ?p ?o", "DISTINCT ?o"),
        "entities": count(
            store, f'?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{BASE_IRI}"))', "DISTINCT ?s"
        ),
    }
    for name, value in expected.items():
        assert [int(v.value) for v in stated(description, DATASET, VOID + name)] == [value], name
    assert expected["triples"] > 1000


def test_each_named_graph_is_a_subset_with_its_own_counts(store, description):
    subsets = stated(description, DATASET, VOID + "subset")
    graphs = [g for g in store.named_graphs()]
    assert sorted(s.value for s in subsets) == sorted(g.value for g in graphs)
    for graph in graphs:
        triples = count(store, f"GRAPH <{graph.value}> {{ ?s ?p ?o }}")
        classes = count(store, f"GRAPH <{graph.value}> {{ ?s a ?c }}", "DISTINCT ?c")
        assert [int(v.value) for v in stated(description, graph, VOID + "triples")] == [triples]
        assert [int(v.value) for v in stated(description, graph, VOID + "classes")] == [classes]


def test_every_distribution_states_media_type_size_and_the_checksum_of_its_bytes(
    store, description
):
    dumps = Dumps(store)
    distributions = stated(description, DATASET, DCAT + "distribution")
    assert len(distributions) == len(dumps.names()) == 12
    for dist in distributions:
        (url,) = stated(description, dist, DCAT + "downloadURL")
        dump = dumps.get(url.value.rsplit("/", 1)[1])
        (size,) = stated(description, dist, DCAT + "byteSize")
        (checksum,) = stated(description, dist, SPDX + "checksum")
        (value,) = stated(description, checksum, SPDX + "checksumValue")
        assert int(size.value) == len(dump.data)
        assert value.value == hashlib.sha256(dump.data).hexdigest()
        assert stated(description, dist, DCAT + "mediaType")


def test_header_fields_and_links_are_present(description):
    dct = "http://purl.org/dc/terms/"
    for field in ("title", "description", "license", "publisher", "issued", "modified"):
        assert stated(description, DATASET, dct + field), field
    assert [v.value for v in stated(description, DATASET, VOID + "uriSpace")] == [BASE_IRI]
    assert ox.NamedNode(BASE_IRI + "def#") in stated(description, DATASET, VOID + "vocabulary")
    examples = stated(description, DATASET, VOID + "exampleResource")
    assert examples and all(e.value.startswith(BASE_IRI) for e in examples)


def test_sparql_service_points_to_its_service_description(description):
    services = [t.subject for t in description.triples()
                if t.object == ox.NamedNode(DCAT + "DataService")]  # fmt: skip
    (service,) = services
    assert stated(description, service, DCAT + "endpointURL") == [ox.NamedNode(BASE_IRI + "sparql")]
    assert stated(description, service, DCAT + "endpointDescription")
    assert stated(description, service, DCAT + "servesDataset") == [DATASET]


def test_the_outline_and_each_documents_figures_make_the_whole_description(description):
    whole = description.triples()
    documents = {t.subject.value.split("#", 1)[0] for t in whole}
    assert BASE_IRI + "graph/data" in documents
    figures = [t for document in documents for t in description.figures(document)]
    assert sorted(set(description.outline() + figures), key=triple_key) == whole
    assert all(isinstance(t.object, ox.Literal) for t in figures)  # so they name no new IRI
    assert description.figures(BASE_IRI + "institution/kaia") == []


def test_a_description_computes_nothing_until_asked_and_the_outline_needs_no_dump(store):
    dumps = Dumps(store)
    description = DatasetDescription(store, dumps, BASE_IRI)
    assert description.outline() and dumps.ready() == []
    assert description.figures(BASE_IRI + "graph/ontology") and dumps.ready() == []
    assert description.figures(BASE_IRI + "dataset") and dumps.ready() == dumps.names()


def test_context_gives_every_ontology_term_a_key_that_expands_to_it(store):
    context = build_context(store)
    terms = [row["t"].value for row in store.query(
        "SELECT ?t { ?t <http://www.w3.org/2000/01/rdf-schema#isDefinedBy> ?o }",
        use_default_graph_as_union=True)]  # fmt: skip
    assert len(terms) > 20
    for iri in terms:
        key = iri.rsplit("#", 1)[1]
        document = {**context, "@id": "http://example.org/s", key: "http://example.org/o"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            graph = rdflib.Graph().parse(data=json.dumps(document), format="json-ld")
        predicates = {str(p) for _, p, _ in graph}
        classes = {str(o) for _, _, o in graph}
        assert iri in predicates or iri in classes or key[0].isupper(), iri


def test_context_types_values_from_the_ontology(store):
    context = build_context(store)["@context"]
    assert context["assignedTo"] == {"@id": "skg:assignedTo", "@type": "@id"}
    assert context["mappingReason"]["@container"] == "@language"
    assert context["designationDate"]["@type"] == "xsd:date"
    assert "path" not in context  # SHACL terms of the shapes graph are not data vocabulary
