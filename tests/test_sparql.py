"""The tokenizer-level inspection of SPARQL texts (smartcity_kg.rdf.sparql_text)."""

import pytest

from smartcity_kg.errors import QueryRefused, UpdateRefused
from smartcity_kg.rdf import sparql_text
from smartcity_kg.rdf.formats import ResultKind
from smartcity_kg.rdf.sparql_text import QueryForm, check_allowed, inspect, tokenize


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
    one = sparql_text.shape_digest("SELECT ?a { ?a ?b ?c . ?d ?e ?f } # flood-1")
    two = sparql_text.shape_digest("SELECT  ?x {\n ?x ?y ?z . ?u ?v ?w }  # flood-2")
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
    assert sparql_text.shape_digest(
        "SELECT ?a { ?a ?b ?c . ?d ?e ?f }"
    ) != sparql_text.shape_digest(other)


def test_where_groups_are_the_query_pattern_and_each_subquery():
    text = (
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o "
        "{ SELECT ?s (EXISTS { ?s ?q '{' } AS ?e) WHERE { ?s ?p2 ?o2 } } "
        "{ SELECT * { ?x ?y ?z } } }"
    )
    starts = sparql_text.where_group_starts(text)
    assert [text[start - 12 : start] for start in starts] == [
        "?o } WHERE {",
        " ?e) WHERE {",
        "{ SELECT * {",
    ]


@pytest.mark.parametrize(
    "text",
    [
        r"SELECT * WHERE { BIND(<http://x/\u0041#> AS ?a) SERVICE <http://127.0.0.1:9/> {} }",
        r"SELECT * WHERE { BIND(<http://x/\u0041'> AS ?a) SERVICE <http://127.0.0.1:9/> {} }",
        "PREFIX x: <http://x/\\u0041#>\nSELECT * { SERVICE <http://127.0.0.1:9/> {} }",
        # decoded before the grammar (SPARQL 1.1, 19.2), \u000A ends the comment
        r"SELECT * WHERE { ?s ?p ?o } # \u000A SERVICE <http://127.0.0.1:9/> {}",
    ],
)
def test_codepoint_escapes_do_not_hide_service(text):
    assert inspect(text).service


def test_codepoint_escapes_do_not_hide_nesting():
    text = r"SELECT * WHERE { BIND(<http://x/\u0041#> AS ?a) " + "{" * 3000 + "}" * 3001
    with pytest.raises(QueryRefused, match="3001 levels"):
        check_allowed(inspect(text))


@pytest.mark.parametrize(
    ("text", "decoded"),
    [
        (r"<http://x/\u0041>", "<http://x/A>"),
        (r"'\U0001F600'", "'\U0001f600'"),
        (r"\\u0041", r"\\u0041"),  # an escaped backslash, then plain text
        (r"\u00G1 \u0041", r"\u00G1 A"),  # an escape that is not hex stays, with what it took
        (r"\uD800", r"\uD800"),  # a surrogate names no character
        ("no escapes", "no escapes"),
    ],
)
def test_decode_escapes_reads_codepoints_as_sparql_1_1_does(text, decoded):
    assert sparql_text.decode_escapes(text) == decoded


@pytest.mark.parametrize(
    "text",
    [
        "PREFIX service: <http://ex/service/> SELECT * { GRAPH service:g { ?s ?p ?o } }",
        "PREFIX service: <http://ex/service/> SELECT * FROM service:g { ?s ?p ?o }",
        "PREFIX service: <http://ex/service/> SELECT * FROM NAMED service:g { ?s ?p ?o }",
    ],
)
def test_a_prefix_named_service_naming_a_graph_is_not_service(text):
    assert not inspect(text).service


def test_a_prefix_named_service_opening_a_group_is_service():
    text = "PREFIX : <http://127.0.0.1:9/> SELECT * { ?s ?p ?o service:x { ?a ?b ?c } }"
    assert inspect(text).service


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ('VERSION "1.2" SELECT * { ?s ?p ?o }', QueryForm.SELECT),
        ("VERSION '1.2' PREFIX ex: <http://ex/> CONSTRUCT WHERE { ?s ?p ?o }", QueryForm.CONSTRUCT),
    ],
)
def test_sparql_1_2_version_declaration_is_part_of_the_prologue(text, form):
    assert inspect(text).form is form


def test_version_before_an_update_is_still_refused_as_an_update():
    with pytest.raises(UpdateRefused):
        check_allowed(inspect('VERSION "1.2" INSERT DATA { <a:b> <a:c> <a:d> }'))


XSD = "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> "


@pytest.mark.parametrize(
    "text",
    [
        XSD + "SELECT * { VALUES ?d { " + " ".join(['"2020-01-01"^^xsd:date'] * 600) + " } }",
        "SELECT * { VALUES ?n { " + " ".join(["-1"] * 600) + " } }",
        "SELECT * { VALUES (?n ?m) { " + " ".join(["(-1 +2)"] * 600) + " } }",
        "SELECT * { FILTER(?n IN (" + ", ".join(["-1"] * 600) + ")) }",
        "SELECT * { ?s ?p ?o } ORDER BY " + " ".join(["?o"] * 10) + " " + "#-" * 600,
    ],
)
def test_datatypes_signs_and_values_are_not_chaining_operators(text):
    check_allowed(inspect(text))


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * { FILTER(" + " - ".join(["1"] * 600) + ") }",
        "SELECT * { ?s " + "^".join(["<a:p>"] * 600) + " ?o }",
        "SELECT * { " + " UNION ".join(["{}"] * 600) + " }",
    ],
)
def test_real_operator_chains_are_still_counted(text):
    with pytest.raises(QueryRefused, match="chains"):
        check_allowed(inspect(text))


def test_shape_ignores_literal_values_and_the_iris_a_filter_compares_with():
    flood = 'SELECT (COUNT(*) AS ?n) {{ ?a ?b ?c . ?d ?e ?f FILTER(?c != "{}" && ?a != <{}>) }}'
    one = sparql_text.shape_digest(flood.format("x1", "http://ex/1"))
    two = sparql_text.shape_digest(flood.format("another value", "http://ex/2"))
    assert one == two
    assert sparql_text.shape_digest("SELECT * { ?s ?p 12 }") == sparql_text.shape_digest(
        "SELECT * { ?s ?p 'a'@ko }"
    )


def test_shape_keeps_iris_outside_filters():
    one = sparql_text.shape_digest("SELECT * { ?s <http://ex/p> ?o FILTER(?o = <http://ex/a>) }")
    two = sparql_text.shape_digest("SELECT * { ?s <http://ex/q> ?o FILTER(?o = <http://ex/b>) }")
    assert one != two


def test_shape_keeping_values_tells_queries_with_other_literals_apart():
    one = 'SELECT (STRLEN(REPLACE(?x, "", ?x)) AS ?n) { BIND("aaaa" AS ?x) } # one'
    two = 'SELECT  (STRLEN(REPLACE(?y, "", ?y)) AS ?n) { BIND("aaaa" AS ?y) }'
    other = 'SELECT (STRLEN(REPLACE(?x, "", ?x)) AS ?n) { BIND("a" AS ?x) }'
    assert sparql_text.shape_digest(one, keep_values=True) == sparql_text.shape_digest(
        two, keep_values=True
    )
    assert sparql_text.shape_digest(one, keep_values=True) != sparql_text.shape_digest(
        other, keep_values=True
    )
    assert sparql_text.shape_digest(one) == sparql_text.shape_digest(other)
