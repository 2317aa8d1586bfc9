"""The result format table (smartcity_kg.rdf.formats)."""

import pickle

import pyoxigraph as ox
import pytest

from smartcity_kg.errors import InputError, NotAcceptable
from smartcity_kg.rdf import formats
from smartcity_kg.rdf.formats import ResultKind


def test_defaults_are_sparql_json_and_turtle():
    assert formats.default_format(ResultKind.SOLUTIONS).media_type == (
        "application/sparql-results+json"
    )
    assert formats.default_format(ResultKind.GRAPH).media_type == "text/turtle"


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("json", "application/sparql-results+json"),
        ("xml", "application/sparql-results+xml"),
        ("csv", "text/csv"),
        ("tsv", "text/tab-separated-values"),
        ("ttl", "text/turtle"),
        ("nt", "application/n-triples"),
        ("jsonld", "application/ld+json"),
        ("rdfxml", "application/rdf+xml"),
        ("nq", "application/n-quads"),
        ("trig", "application/trig"),
    ],
)
def test_every_short_name_resolves_to_its_media_type(name, media_type):
    fmt = formats.by_name(name)
    assert fmt.media_type == media_type
    assert formats.by_media_type(media_type) is fmt
    assert formats.by_extension(fmt.extension) is fmt


def test_the_table_agrees_with_pyoxigraph_media_types():
    for fmt in formats.FORMATS:
        assert fmt.oxigraph.media_type.split(";")[0] == fmt.media_type


def test_result_format_iris_are_w3c_format_iris():
    for fmt in formats.FORMATS:
        assert fmt.iri.startswith("http://www.w3.org/ns/formats/")


def test_unknown_short_name_is_an_input_error_listing_known_names():
    with pytest.raises(InputError, match="known formats: json, xml"):
        formats.by_name("yaml")


def test_media_type_lookup_ignores_parameters_and_respects_kind():
    assert formats.by_media_type("text/csv; charset=utf-8").name == "csv"
    assert formats.by_media_type("application/json", ResultKind.SOLUTIONS).name == "json"
    assert formats.by_media_type("text/csv", ResultKind.GRAPH) is None


def test_text_formats_declare_utf8():
    assert formats.by_name("csv").content_type == "text/csv; charset=utf-8"
    assert formats.by_name("json").content_type == "application/sparql-results+json"


def test_check_kind_refuses_a_graph_format_for_solutions():
    with pytest.raises(NotAcceptable, match="json, xml, csv, tsv"):
        formats.check_kind(formats.by_name("ttl"), ResultKind.SOLUTIONS)


def test_offered_media_types_put_canonical_types_before_aliases():
    offered = formats.offered_media_types(ResultKind.SOLUTIONS)
    assert offered[0] == "application/sparql-results+json"
    assert offered.index("application/json") > offered.index("text/tab-separated-values")


def test_formats_use_the_matching_pyoxigraph_kind():
    for fmt in formats.formats_for(ResultKind.GRAPH):
        assert isinstance(fmt.oxigraph, ox.RdfFormat)
    for fmt in formats.formats_for(ResultKind.SOLUTIONS):
        assert isinstance(fmt.oxigraph, ox.QueryResultsFormat)


def test_nicknames_resolve_by_the_kind_of_result():
    assert formats.by_name("xml", ResultKind.GRAPH).name == "rdfxml"
    assert formats.by_name("xml", ResultKind.SOLUTIONS).name == "xml"
    assert formats.by_name("xml").name == "xml"
    assert formats.by_name("json", ResultKind.GRAPH).name == "jsonld"
    assert formats.by_name("turtle").name == "ttl"
    assert formats.by_name("csv", ResultKind.GRAPH).name == "csv"  # check_kind then refuses it


def test_extensions_and_iris_are_pyoxigraphs_but_for_json_ld():
    for fmt in formats.FORMATS:
        assert fmt.extension == fmt.oxigraph.file_extension
        if fmt.oxigraph != ox.RdfFormat.JSON_LD:  # pyoxigraph: .../ns/formats/data/JSON-LD
            assert fmt.iri == fmt.oxigraph.iri
    assert formats.by_name("jsonld").iri == "http://www.w3.org/ns/formats/JSON-LD"


def test_pyoxigraph_reads_every_alias_as_the_same_format():
    for fmt in formats.FORMATS:
        for alias in fmt.aliases:
            assert type(fmt.oxigraph).from_media_type(alias) == fmt.oxigraph, alias


def test_media_types_pyoxigraph_knows_but_we_do_not_offer_stay_unknown():
    assert ox.RdfFormat.from_media_type("text/plain") == ox.RdfFormat.N_TRIPLES
    assert formats.by_media_type("text/plain") is None


def test_a_format_pickles_as_the_same_table_entry():
    # pyoxigraph's own format objects cannot be pickled; a worker's job carries ours
    with pytest.raises(TypeError):
        pickle.dumps(ox.RdfFormat.TURTLE)
    for fmt in formats.FORMATS:
        assert pickle.loads(pickle.dumps(fmt)) is fmt
