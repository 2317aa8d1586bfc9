"""Descriptions of single resources and the page models built from them."""

import pyoxigraph as ox
import pytest

from smartcity_kg.config import BASE_IRI
from smartcity_kg.errors import NotFound
from smartcity_kg.publish.describe import Describer
from smartcity_kg.publish.page import Viewer
from smartcity_kg.publish.publication import Publication
from smartcity_kg.web.linked_data import split_extension

SKG = BASE_IRI + "def#"
SKOS_PREF = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
BYTE_SIZE = ox.NamedNode("http://www.w3.org/ns/dcat#byteSize")
VOID_TRIPLES = ox.NamedNode("http://rdfs.org/ns/void#triples")


@pytest.fixture(scope="module")
def publication(packaged_graph):
    return Publication(packaged_graph, BASE_IRI)


@pytest.fixture(scope="module")
def describer(publication):
    return publication.describer


def first(store, query: str) -> str:
    return next(iter(store.query(query, use_default_graph_as_union=True)))[0].value


def a_task(publication) -> str:
    return first(publication.store, f"SELECT ?t {{ ?t a <{SKG}AssignedTask> }} ORDER BY ?t LIMIT 1")


def test_description_holds_own_hash_incoming_and_linked_labels(publication, describer):
    task = ox.NamedNode(a_task(publication))
    triples = set(describer.describe(task.value).triples)
    own = {q.triple for q in publication.store.quads_for_pattern(task, None, None)}
    assert own <= triples
    mappings = [t.object for t in own if t.predicate.value == SKG + "qualifiedDutyMapping"]
    assert mappings and all("#" in m.value for m in mappings)
    for mapping in mappings:  # the hash resources live in the task's document
        assert {
            q.triple for q in publication.store.quads_for_pattern(mapping, None, None)
        } <= triples
    (institution,) = [t.object for t in own if t.predicate.value == SKG + "assignedTo"]
    labels = {q.triple for q in publication.store.quads_for_pattern(institution, SKOS_PREF, None)}
    assert labels and labels <= triples
    incoming = {q.triple for q in publication.store.quads_for_pattern(None, None, task)}
    assert incoming <= triples


def test_incoming_annotation_brings_its_blank_node(publication, describer):
    query = """SELECT ?x { ?b <http://www.w3.org/1999/02/22-rdf-syntax-ns#subject> ?x
                           FILTER isIRI(?x) } ORDER BY ?x LIMIT 1"""
    row = next(iter(publication.store.query(query, use_default_graph_as_union=True)))
    triples = describer.describe(row["x"].value).triples
    annotations = [t for t in triples if isinstance(t.subject, ox.BlankNode)]
    assert len({t.predicate for t in annotations}) >= 3


def test_unknown_iri_is_not_found(describer):
    with pytest.raises(NotFound, match="institution/no-such-body"):
        describer.describe(BASE_IRI + "institution/no-such-body")


def test_version_iri_leads_to_the_ontology(publication, describer):
    owl = "http://www.w3.org/2002/07/owl#"
    version = first(publication.store, f"SELECT ?v {{ <{BASE_IRI}def> <{owl}versionIRI> ?v }}")
    assert describer.version_of(version) == BASE_IRI + "def"


def test_dataset_and_named_graph_iris_are_described(describer):
    for iri in ("dataset", "graph/data", "graph/ontology"):
        assert describer.describe(BASE_IRI + iri).triples, iri


def test_describing_resources_serialises_no_dump_until_the_dataset_is_described(packaged_graph):
    fresh = Publication(packaged_graph, BASE_IRI)
    kaia = fresh.describer.describe(BASE_IRI + "institution/kaia")
    assert kaia.triples and fresh.dumps.ready() == []
    graph = fresh.describer.describe(BASE_IRI + "graph/data")
    assert [t for t in graph.triples if t.predicate == VOID_TRIPLES]  # counted, still no dump
    assert fresh.dumps.ready() == []
    dataset = fresh.describer.describe(BASE_IRI + "dataset")
    assert fresh.dumps.ready() == fresh.dumps.names()
    sizes = [t for t in dataset.triples if t.predicate == BYTE_SIZE]
    assert len(sizes) == len(fresh.dumps.names()) == 12


def test_every_document_is_described_as_over_the_whole_dataset_description(publication):
    quads = list(publication.store)  # one list, so both describers share its blank nodes
    description = publication.description
    whole = Describer(quads + as_quads(description.triples()), BASE_IRI)
    lazy = Describer(quads + as_quads(description.outline()), BASE_IRI, description.figures)
    assert lazy.documents == whole.documents
    for document in whole.documents:
        assert lazy.describe(document) == whole.describe(document), document


def as_quads(triples) -> list[ox.Quad]:
    return [ox.Quad(t.subject, t.predicate, t.object) for t in triples]


def test_no_described_iri_looks_like_a_document_url(describer):
    subjects = {q.subject.value for q in describer.dataset if isinstance(q.subject, ox.NamedNode)}
    described = [s for s in subjects if s.startswith(BASE_IRI)]
    assert len(described) > 200
    assert [s for s in described if split_extension(s[len(BASE_IRI) :])[1]] == []


def test_task_view_has_institution_duties_with_reasons_and_source_sentence(publication, describer):
    task = a_task(publication)
    view = Viewer(describer, "en").view(describer.describe(task))
    assert len(view.institutions) == 1 and view.institutions[0].href.startswith("/institution/")
    assert view.duties and all(d.reason and d.reason.text for d in view.duties)
    assert view.source_sentences and view.source_sentences[0].text


def test_provision_view_has_its_text_and_parts_in_order(publication, describer):
    paragraph = first(publication.store, f"""
        SELECT ?p {{ ?p <http://data.europa.eu/eli/ontology#has_part> ?s .
                     ?d <{SKG}establishedBy> ?s }} LIMIT 1""")  # fmt: skip
    view = Viewer(describer, "ko").view(describer.describe(paragraph))
    assert view.provision.text and view.provision.text.lang == "ko"
    numbers = [p.link.href.rsplit("_", 1)[1] for p in view.provision.parts]
    assert numbers == sorted(numbers, key=int) and len(numbers) > 1
    assert view.serving_tasks  # the tasks that serve the duties its items establish


def test_labels_follow_the_language(publication, describer):
    task = a_task(publication)
    english = Viewer(describer, "en").view(describer.describe(task)).sections[0]
    korean = Viewer(describer, "ko").view(describer.describe(task)).sections[0]
    assert english.title_lang == "en" and korean.title_lang == "ko"
    assert english.title != korean.title
    assert [t.lang for t in english.other_titles] == ["ko"]
