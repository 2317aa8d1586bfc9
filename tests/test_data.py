"""The shipped data against what an independent reader of the seed text expects.

The expected counts below were worked out by reading the seed (the smartcity.go.kr page the
project started from, kept verbatim in tests/fixtures/seed/), never from the data files.
Institutions are found by the name the seed gives them, which the data keeps as a label.
Every Turtle file parses, and every quality check returns no rows.
"""

from pathlib import Path

import pyoxigraph as ox
import pytest

from smartcity_kg.paths import package_dir, turtle_files
from smartcity_kg.rdf.files import graph_iri, load_file, load_store

SEED = Path(__file__).parent / "fixtures" / "seed" / "smart-city-supporting-institutions.txt"
CHECKS = sorted((package_dir("queries") / "checks").glob("*-violation.rq"))
CHECK_FIXTURES = Path(__file__).parent / "fixtures" / "invalid" / "checks"
PREFIXES = """
PREFIX skg:  <https://w3id.org/smartcity-kr/def#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX eli:  <http://data.europa.eu/eli/ontology#>
PREFIX org:  <http://www.w3.org/ns/org#>
PREFIX dct:  <http://purl.org/dc/terms/>
"""

# Each institution of the notice of 31 January 2023, by its name in the seed, and its bullets.
TASKS_PER_INSTITUTION = {
    "(g) Smart City Association": 5,
    "Homeland Research Institute": 1,
    "Korea Institute of Construction Technology": 1,
    "Korea Agency for Infrastructure Technology Advancement (KAIA)": 5,
    "Korea Information Technology Agency": 2,
    "Korea Land & Housing Corporation": 3,
    "Korea Land Information Corporation": 1,
    "Korea Water Resources Corporation": 2,
    "Korea Internet & Security Agency": 1,
    "Korea Transport Institute": 1,
    "Korea Telecommunication Industry Promotion Agency": 1,
    "Korea Education and Research Information Service": 1,
    "Korea Trade-Investment Promotion Agency": 1,
    "Korea Overseas Infrastructure and Urban Development Support Corporation": 1,
}
# (institution in the seed, the city its bullets say "limited to"): number of such bullets
CITY_LIMITED_TASKS = {
    ("Korea Land & Housing Corporation", "Sejong City"): 3,
    ("Korea Land Information Corporation", "Busan"): 1,
    ("Korea Water Resources Corporation", "Busan"): 2,
}


@pytest.fixture(scope="module")
def store(packaged_graph):
    """The packaged graph in the store kind under test (conftest's SMARTCITY_KG_TEST_STORE)."""
    return packaged_graph


def select(store: ox.Store, query: str) -> list[tuple]:
    """Run a SELECT over the union of the named graphs; return rows of plain values."""
    rows = store.query(PREFIXES + query, use_default_graph_as_union=True)
    return [tuple(term.value if term is not None else None for term in row) for row in rows]


def count(store: ox.Store, query: str) -> int:
    ((value,),) = select(store, query)
    return int(value)


def seed_bullets_by_institution() -> dict[str, int]:
    """Count the seed's task bullets under each institution heading of the notice's table."""
    table = SEED.read_text(encoding="utf-8").split("main tasks\n", 2)[-1]
    counts: dict[str, int] = {}
    heading = None
    for line in (line.strip() for line in table.splitlines()):
        if line.startswith("•"):
            counts[heading] += 1
        elif line:
            heading = line
            counts[heading] = 0
    return counts


def test_expected_counts_agree_with_the_seed_text():
    assert seed_bullets_by_institution() == TASKS_PER_INSTITUTION
    assert sum(TASKS_PER_INSTITUTION.values()) == 26


def test_notice_lists_14_institutions(store):
    assigned = (
        "SELECT (COUNT(DISTINCT ?i) AS ?n) { ?t skg:assignedByNotice ?notice ; skg:assignedTo ?i }"
    )
    designated = """SELECT (COUNT(DISTINCT ?i) AS ?n) {
        ?d a skg:Designation ; org:member ?i ; dct:source ?notice . ?notice a skg:Notice }"""
    assert count(store, assigned) == 14
    assert count(store, designated) == 14


def test_nine_statutory_duties(store):
    assert count(store, "SELECT (COUNT(DISTINCT ?d) AS ?n) { ?d a skg:StatutoryDuty }") == 9


def test_26_task_bullets(store):
    assert count(store, "SELECT (COUNT(DISTINCT ?t) AS ?n) { ?t a skg:AssignedTask }") == 26


@pytest.mark.parametrize(("seed_name", "expected"), TASKS_PER_INSTITUTION.items())
def test_tasks_per_institution(store, seed_name, expected):
    query = f"""SELECT (COUNT(DISTINCT ?task) AS ?n) {{
        ?institution skos:prefLabel|skos:altLabel|skg:acronym ?label .
        FILTER (STR(?label) = {ox.Literal(seed_name)})
        ?task a skg:AssignedTask ; skg:assignedTo ?institution }}"""
    assert count(store, query) == expected


def test_city_limited_tasks(store):
    rows = select(
        store,
        """SELECT ?institutionLabel ?cityLabel (COUNT(DISTINCT ?task) AS ?n) {
            ?task skg:limitedToCity ?city ; skg:assignedTo ?institution .
            ?institution skos:prefLabel|skos:altLabel ?institutionLabel .
            ?city skos:prefLabel|skos:altLabel ?cityLabel .
            FILTER (langMatches(lang(?institutionLabel), "en"))
            FILTER (langMatches(lang(?cityLabel), "en"))
        } GROUP BY ?institutionLabel ?cityLabel""",
    )
    found = {(institution, city): int(n) for institution, city, n in rows}
    assert {key: found.get(key) for key in CITY_LIMITED_TASKS} == CITY_LIMITED_TASKS
    limited = "SELECT (COUNT(DISTINCT ?t) AS ?n) { ?t skg:limitedToCity ?city }"
    assert count(store, limited) == sum(CITY_LIMITED_TASKS.values())


def test_every_task_has_both_labels_and_one_source_sentence_from_the_seed(store):
    seed = SEED.read_text(encoding="utf-8")
    rows = select(
        store,
        """SELECT ?task ?sentence {
            ?task a skg:AssignedTask ; skg:sourceSentence ?sentence .
            FILTER EXISTS { ?task skos:prefLabel ?en FILTER (lang(?en) = "en") }
            FILTER EXISTS { ?task skos:prefLabel ?ko FILTER (lang(?ko) = "ko") }
        }""",
    )
    assert len({task for task, _ in rows}) == len(rows) == 26
    assert [task for task, sentence in rows if sentence not in seed] == []


def test_article_19_4_has_five_paragraphs_and_paragraph_2_nine_subparagraphs(store):
    paragraphs = """SELECT (COUNT(DISTINCT ?p) AS ?n) {
        ?article eli:number "19-4" . ?p eli:is_part_of ?article }"""
    items = """SELECT (COUNT(DISTINCT ?s) AS ?n) {
        ?article eli:number "19-4" . ?p eli:is_part_of ?article ; eli:number "2" .
        ?s eli:is_part_of ?p }"""
    assert count(store, paragraphs) == 5
    assert count(store, items) == 9


@pytest.mark.parametrize(
    "path",
    [path for folder in ("ontology", "data", "shapes") for path in turtle_files(folder)],
    ids=lambda path: f"{path.parent.name}/{path.name}",
)
def test_turtle_file_parses(path):
    store = ox.Store()
    load_file(store, path, graph_iri("test"))
    assert len(store) > 0


def test_there_are_quality_checks():
    assert len(CHECKS) >= 5


@pytest.mark.parametrize("check", CHECKS, ids=lambda path: path.stem)
def test_quality_check_returns_no_rows(store, check):
    rows = list(store.query(check.read_text(encoding="utf-8"), use_default_graph_as_union=True))
    assert [[str(term) for term in row] for row in rows] == []


@pytest.mark.parametrize("check", CHECKS, ids=lambda path: path.stem)
def test_quality_check_finds_the_problem_its_fixture_plants(check):
    store = load_store()
    load_file(store, CHECK_FIXTURES / f"{check.stem}.ttl", graph_iri("data"))
    rows = list(store.query(check.read_text(encoding="utf-8"), use_default_graph_as_union=True))
    assert len(rows) >= 1


@pytest.mark.parametrize("check", CHECKS, ids=lambda path: path.stem)
def test_quality_check_has_a_header_saying_what_it_checks(check):
    lines = check.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#+ title: ")
    assert lines[1].startswith("#+ description: ")
