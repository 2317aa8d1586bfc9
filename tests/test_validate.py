"""The shapes and `smartcity_kg.quality.shacl`: the shipped graph conforms, each rule catches it.

Each fixture under tests/fixtures/invalid/ holds only the few triples that break one rule and is
validated together with the packaged data files (validate_files takes the ontology on its own).
"""

from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
import rdflib
from rdflib.namespace import SH

from smartcity_kg.errors import DataSyntaxError, InputError
from smartcity_kg.paths import turtle_files
from smartcity_kg.quality.shacl import load_shapes, validate_files, validate_store

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://w3id.org/smartcity-kr/"
KISA_TASK = BASE + "task/kisa/cyber-security"

# fixture, focus resource, the sh:message it must produce there
BROKEN = [
    pytest.param(
        "task-without-duty",
        BASE + "task/kisa/example-without-duty",
        "An assigned task must serve at least one statutory duty (skg:servesDuty).",
        id="task-with-no-duty",
    ),
    pytest.param(
        "duty-not-in-article-19-4-2",
        KISA_TASK,
        "A task may only serve a statutory duty established by a subparagraph of Article 19-4(2) "
        f"of the Act; {BASE}duty/19-4-4-1 is not one.",
        id="duty-established-by-article-19-4-4",
    ),
    pytest.param(
        "duty-is-plain-concept",
        KISA_TASK,
        "A task may only serve a statutory duty established by a subparagraph of Article 19-4(2) "
        f"of the Act; {BASE}sector/cyber-security is not one.",
        id="duty-is-a-plain-skos-concept",
    ),
    pytest.param(
        "missing-korean-label",
        BASE + "programme/example-english-only",
        "Every resource needs a preferred label in Korean (skos:prefLabel with @ko).",
        id="missing-korean-label",
    ),
    pytest.param(
        "pref-label-also-alt-label",
        BASE + "sector/example-doubled",
        "A preferred label must not also be an alternative label (SKOS integrity condition S13).",
        id="pref-label-also-alt-label",
    ),
    pytest.param(
        "undesignated-institution",
        BASE + "task/auri/example",
        "A task must be assigned to an institution designated by a notice: the org:member of a "
        "skg:Designation whose dct:source is a skg:Notice.",
        id="institution-designated-by-no-notice",
    ),
    pytest.param(
        "task-with-two-institutions",
        KISA_TASK,
        "An assigned task must be assigned to exactly one institution (skg:assignedTo).",
        id="task-with-two-institutions",
    ),
    pytest.param(
        "malformed-date",
        BASE + "designation/kisa/malformed-date",
        "A designation date must be a valid xsd:date (YYYY-MM-DD).",
        id="malformed-date",
    ),
    pytest.param(
        "duty-without-mapping",
        KISA_TASK,
        "The duties a task serves (skg:servesDuty) must be exactly the duties of its duty mappings "
        "(skg:qualifiedDutyMapping/skg:mappedDuty).",
        id="served-duty-without-mapping",
    ),
]


def with_packaged_data(*fixtures: Path) -> list[Path]:
    """Return the packaged data files followed by `fixtures`."""
    return [*turtle_files("data"), *fixtures]


@pytest.fixture(scope="module")
def shipped_report(packaged_graph):
    return validate_store(packaged_graph)  # as /healthz validates the store it serves


def test_shipped_graph_conforms(shipped_report):
    assert shipped_report.conforms, shipped_report.to_text()


def test_shipped_graph_has_no_warnings(shipped_report):
    assert shipped_report.warnings == (), shipped_report.to_text()


def test_shapes_pass_shacl_shacl():
    pyshacl.validate(rdflib.Graph(), shacl_graph=load_shapes(), meta_shacl=True)


def test_shapes_use_only_terms_of_the_shacl_vocabulary():
    # SHACL-SHACL is open: a typo such as sh:shape would pass it and be ignored silently.
    shapes = load_shapes()
    used = {term for triple in shapes for term in triple if str(term).startswith(str(SH))}
    assert {str(term) for term in used if term not in SH} == set()


@pytest.mark.parametrize("shapes_file", turtle_files("shapes"), ids=lambda path: path.name)
def test_each_shapes_file_describes_itself(shapes_file):
    graph = rdflib.Graph().parse(shapes_file, format="turtle")
    (header,) = graph.subjects(rdflib.RDF.type, rdflib.OWL.Ontology)
    assert graph.value(header, rdflib.DCTERMS.title) is not None
    assert graph.value(header, rdflib.DCTERMS.description) is not None


@pytest.mark.parametrize(("fixture", "focus", "message"), BROKEN)
def test_broken_copy_fails_with_the_rules_message(fixture, focus, message):
    report = validate_files(with_packaged_data(FIXTURES / "invalid" / f"{fixture}.ttl"))
    assert not report.conforms
    messages = [r.message for r in report.by_focus().get(focus, ()) if r.severity == "Violation"]
    assert message in messages, report.to_text()


def test_warnings_alone_conform():
    report = validate_files(with_packaged_data(FIXTURES / "valid" / "statement-without-source.ttl"))
    assert report.conforms
    assert [r.message for r in report.warnings] == [
        "A statement annotation should cite at least one source (dct:source)."
    ]


def test_malformed_date_is_reported_with_its_value_and_path():
    report = validate_files(with_packaged_data(FIXTURES / "invalid" / "malformed-date.ttl"))
    (result,) = report.violations
    assert (result.path, result.value) == ("skg:designationDate", '"2023-13-45"^^xsd:date')
    assert result.shape == "skgsh:DesignationShape"


def test_text_report_groups_results_under_their_resource():
    report = validate_files(with_packaged_data(FIXTURES / "invalid" / "duty-without-mapping.ttl"))
    lines = report.to_text().splitlines()
    assert lines[0].startswith("Validation does not conform: 1 violation(s)")
    assert lines[2] == KISA_TASK
    assert lines[3].startswith("  Violation: The duties a task serves")


def test_turtle_report_is_a_shacl_validation_report():
    report = validate_files(with_packaged_data(FIXTURES / "invalid" / "malformed-date.ttl"))
    store = ox.Store()
    store.load(report.to_turtle().encode(), format=ox.RdfFormat.TURTLE)
    conforms = store.query(
        "PREFIX sh: <http://www.w3.org/ns/shacl#> "
        "ASK { ?report a sh:ValidationReport ; sh:conforms false ; sh:result ?result }"
    )
    assert bool(conforms)


def test_files_are_validated_with_the_ontology_but_without_the_packaged_data():
    # The fixture's task names an institution and duties only the packaged data describes.
    report = validate_files([FIXTURES / "invalid" / "undesignated-institution.ttl"])
    messages = {r.message for r in report.violations}
    assert "A task must be assigned to a skg:SupportingInstitution." in messages


def test_triples_in_a_named_graph_of_a_quad_file_are_validated_too(tmp_path):
    # The task of the invalid fixture, moved into a graph of its own in a TriG file.
    turtle = (FIXTURES / "invalid" / "task-without-duty.ttl").read_text(encoding="utf-8")
    head, body = turtle.split("\n\n<task/", 1)
    trig = tmp_path / "task-in-a-graph.trig"
    trig.write_text(f"{head}\n\n<graph/elsewhere> {{\n<task/{body}}}\n", encoding="utf-8")
    data = [*turtle_files("data"), trig]
    report = validate_files(data)
    focus = {r.focus for r in report.violations}
    assert BASE + "task/kisa/example-without-duty" in focus


def test_syntax_error_names_the_file_and_line():
    path = FIXTURES / "invalid" / "syntax-error.ttl"
    with pytest.raises(DataSyntaxError) as caught:
        validate_files([path])
    assert (caught.value.path, caught.value.line) == (str(path), 7)
    assert caught.value.message.startswith(f"{path}:7: ")


def test_missing_file_is_an_input_error_naming_it(tmp_path):
    path = tmp_path / "absent.ttl"
    with pytest.raises(InputError, match=r"absent\.ttl: cannot read"):
        validate_files([path])
