"""The tokenizer-level inspection of SPARQL texts (smartcity_kg.sparql)."""

import pytest

from smartcity_kg import sparql
from smartcity_kg.errors import QueryRefused
from smartcity_kg.formats import ResultKind
from smartcity_kg.sparql import QueryForm, UpdateRefused, check_allowed, inspect, tokenize


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("SELECT * { ?s ?p ?o }", QueryForm.SELECT),
        ("select * { ?s ?p ?o }", QueryForm.SELECT),
        ("ASK {}", QueryForm.ASK),
        ("CONSTRUCT WHERE { ?s ?p ?o }", QueryForm.CONSTRUCT),
        ("DESCRIBE <http://example.org/>", QueryForm.DESCRIBE),
        ("BASE <http://x/> PREFIX ex: <http://ex/> PREFIX : <y:> ASK {}", QueryForm.ASK),
        ("# SELECT in a comment\nCONSTRUCT {} WHERE {}", QueryForm.CONSTRUCT),
    ],
)
def test_inspect_finds_the_query_form_after_the_prologue(text, form):
    assert inspect(text).form is form


def test_query_forms_map_to_result_kinds():
    assert QueryForm.SELECT.kind is ResultKind.SOLUTIONS
    assert QueryForm.ASK.kind is ResultKind.SOLUTIONS
    assert QueryForm.CONSTRUCT.kind is ResultKind.GRAPH
    assert QueryForm.DESCRIBE.kind is ResultKind.GRAPH


def test_inspect_leaves_unrecognised_text_to_the_parser():
    info = inspect("garbage { }")
    assert info.form is None and not info.update and info.kind is None


@pytest.mark.parametrize(
    "text",
    [
        "INSERT DATA { <a:b> <a:c> <a:d> }",
        "PREFIX ex: <http://ex/> DELETE WHERE { ?s ?p ?o }",
        "load <http://example.org/data.ttl>",
        "CLEAR ALL",
        "DROP GRAPH <a:g>",
        "WITH <a:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "CREATE GRAPH <a:g>",
        "COPY <a:g> TO <a:h>",
    ],
)
def test_updates_are_detected_and_refused_with_403(text):
    info = inspect(text)
    assert info.update
    with pytest.raises(UpdateRefused) as caught:
        check_allowed(info)
    assert caught.value.http_status == 403
    assert "read-only" in caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
        "SELECT * { service silent <http://x/> { ?s ?p ?o } }",
        "SELECT * { SERVICE ?endpoint { ?s ?p ?o } }",
        "SELECT * { ?s ?p ?o . SERVICE<http://x/>{} }",
        "SELECT * { ?s ?p 1.SERVICE <http://x/> {} }",  # integer, dot, keyword
        "SELECT * { ?s ?p true.SERVICE <http://x/> {} }",
        "SELECT * { ?s ?p ?o.SERVICE <http://x/> {} }",
        'SELECT * { ?s ?p "x"@en.SERVICE <http://x/> {} }',
        "PREFIX r: <http://x/> SELECT * { SERVICEr:{} }",  # pyoxigraph needs no word boundary
        "PREFIX : <http://x/> SELECT * { SERVICE:x # comment\n {} }",
        "SELECT * { SERVICESILENT<http://x/>{} }",
    ],
)
def test_service_is_detected_wherever_the_grammar_reads_the_keyword(text):
    info = inspect(text)
    assert info.service
    with pytest.raises(QueryRefused) as caught:
        check_allowed(info)
    assert caught.value.http_status == 400
    assert "SERVICE" in caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        "SELECT ?service WHERE { ?service ?p ?o }",
        "SELECT $service WHERE { $service ?p ?o }",
        "SELECT * WHERE { <http://ex/SERVICE> ?p ?o }",
        "PREFIX ex: <http://ex/> SELECT * WHERE { ex:service ?p ?o }",
        "PREFIX service: <http://ex/> SELECT * WHERE { service:x ?p ?o }",
        "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://x/>",
        'SELECT * WHERE { ?s ?p "SERVICE <http://x/> {}" }',
        "SELECT * WHERE { ?s ?p '''multi\nline SERVICE ' '' ''' }",
        'SELECT * WHERE { ?s ?p "x"@service }',
        r"PREFIX ex: <http://ex/> SELECT * WHERE { ex:a\.service ?p ?o }",
        "SELECT * WHERE { _:b.service ?p ?o }",
        'SELECT * WHERE { ?s ?p "unterminated SERVICE <http://x/> }',
    ],
)
def test_service_lookalikes_are_not_false_alarms(text):
    info = inspect(text)
    assert not info.service
    check_allowed(info)


def test_from_and_from_named_are_reported_as_a_dataset_clause():
    assert inspect("SELECT * FROM <a:g> { ?s ?p ?o }").dataset
    assert inspect("SELECT * FROM NAMED <a:g> { GRAPH ?g { ?s ?p ?o } }").dataset
    assert not inspect("SELECT ?from { ?from <http://ex/FROM> 'FROM' }").dataset


def test_tokenize_skips_comments_and_keeps_iris_whole():
    tokens = list(tokenize("SELECT ?x # note\n{ ?x <http://ex/a#b> 1.5 }"))
    assert [(t.kind, t.text) for t in tokens] == [
        ("word", "SELECT"),
        ("var", "?x"),
        ("punct", "{"),
        ("var", "?x"),
        ("iri", "<http://ex/a#b>"),
        ("number", "1.5"),
        ("punct", "}"),
    ]


def test_less_than_with_spaces_is_not_an_iri():
    kinds = [t.kind for t in tokenize("FILTER(?a < ?b && ?c > 2)")]
    assert "iri" not in kinds


def test_shape_ignores_comments_spacing_and_variable_names():
    one = sparql.shape_digest("SELECT ?a { ?a ?b ?c . ?d ?e ?f } # flood-1")
    two = sparql.shape_digest("SELECT  ?x {\n ?x ?y ?z . ?u ?v ?w }  # flood-2")
    assert one == two


@pytest.mark.parametrize(
    "other",
    [
        "SELECT ?a { ?a ?b ?a . ?d ?e ?f }",  # a variable used twice is a different join
        "SELECT ?a { ?a <http://ex/p> ?c . ?d ?e ?f }",
        "SELECT ?a { ?a ?b '?c' . ?d ?e ?f }",  # a string is not a variable
        "SELECT ?a { ?a ?b ?c . ?d ?e ?f } LIMIT 1",
    ],
)
def test_shape_tells_different_queries_apart(other):
    assert sparql.shape_digest("SELECT ?a { ?a ?b ?c . ?d ?e ?f }") != sparql.shape_digest(other)


def test_where_groups_are_the_query_pattern_and_each_subquery():
    text = (
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o "
        "{ SELECT ?s (EXISTS { ?s ?q '{' } AS ?e) WHERE { ?s ?p2 ?o2 } } "
        "{ SELECT * { ?x ?y ?z } } }"
    )
    starts = sparql.where_group_starts(text)
    assert [text[start - 12 : start] for start in starts] == [
        "?o } WHERE {",
        " ?e) WHERE {",
        "{ SELECT * {",
    ]
