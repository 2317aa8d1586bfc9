"""The named-query API and the query page through the Flask test client (web.queries, .pages)."""

import json
import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from smartcity_kg.config import Config
from smartcity_kg.errors import QueryFileError
from smartcity_kg.sparql.catalog import load_catalog
from smartcity_kg.sparql.engine import QueryEngine
from smartcity_kg.web import create_app, state

KAIA = "https://w3id.org/smartcity-kr/institution/kaia"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def engine(packaged_store):
    with packaged_store.engine(workers=1) as engine:
        yield engine


@pytest.fixture(scope="module")
def client(engine):
    return create_app(engine.config, engine=engine).test_client()


def rows(response) -> list[dict]:
    return response.get_json(force=True)["results"]["bindings"]


# --- GET /queries ------------------------------------------------------------------------------


def test_list_is_json_by_default(client):
    response = client.get("/queries")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    listed = {q["name"]: q for q in response.get_json()["queries"]}
    assert set(listed) == set(load_catalog())
    tasks = listed["list-tasks"]
    assert tasks["title"] == "Assigned tasks"
    assert tasks["form"] == "SELECT"
    assert tasks["params"] == [
        {"name": "institution", "type": "iri", "default": None,
         "description": tasks["params"][0]["description"]}
    ]  # fmt: skip
    assert tasks["query"].startswith("#+ title: Assigned tasks")
    assert "Accept" in response.headers["Vary"]


def test_list_is_html_for_browsers(client):
    response = client.get("/queries", headers=HTML)
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for query in load_catalog().values():
        assert f'href="/?name={query.name}"' in page
    assert 'href="/queries/describe-resource?format=ttl"' in page
    assert 'href="/queries/list-tasks?format=csv"' in page


def test_list_format_parameter_overrides_accept(client):
    assert client.get("/queries?format=json", headers=HTML).mimetype == "application/json"
    assert client.get("/queries?format=html").mimetype == "text/html"


def test_list_refuses_an_unsatisfiable_accept(client):
    response = client.get("/queries", headers={"Accept": "text/csv"})
    assert response.status_code == 406
    assert "application/json" in response.get_data(as_text=True)


# --- GET /queries/<name> -----------------------------------------------------------------------


def test_run_with_defaults_answers_sparql_json(client):
    response = client.get("/queries/list-tasks")
    assert response.status_code == 200
    assert response.mimetype == "application/sparql-results+json"
    assert len(rows(response)) == int(response.headers["SPARQL-Results-Rows"]) > 0


def test_run_binds_a_parameter(client):
    everything = rows(client.get("/queries/list-tasks"))
    kaia = rows(client.get("/queries/list-tasks", query_string={"institution": KAIA}))
    assert 0 < len(kaia) < len(everything)
    assert {r["institution"]["value"] for r in kaia} == {KAIA}


def test_empty_parameter_counts_as_not_given(client):
    everything = rows(client.get("/queries/list-tasks"))
    assert rows(client.get("/queries/list-tasks?institution=")) == everything


@pytest.mark.parametrize(
    ("accept", "mimetype"),
    [("text/csv", "text/csv"), ("text/tab-separated-values", "text/tab-separated-values"),
     ("application/sparql-results+xml", "application/sparql-results+xml")],
)  # fmt: skip
def test_run_negotiates_like_the_endpoint(client, accept, mimetype):
    response = client.get("/queries/list-duties", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == mimetype


def test_format_parameter_picks_the_format(client):
    response = client.get("/queries/list-duties?format=csv")
    assert response.mimetype == "text/csv"
    assert response.get_data(as_text=True).splitlines()[0].startswith("notation,duty,")


def test_describe_answers_turtle_about_the_given_iri(client):
    iri = "https://w3id.org/smartcity-kr/duty/19-4-2-4"
    response = client.get("/queries/describe-resource", query_string={"iri": iri})
    assert response.mimetype == "text/turtle"
    assert f"<{iri}>" in response.get_data(as_text=True)


def test_describe_refuses_a_solutions_format(client):
    response = client.get("/queries/describe-resource?format=csv")
    assert response.status_code == 406
    assert "ttl" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query_string", "named"),
    [({"institution": "not an iri"}, "parameter 'institution'"),
     ({"institution": "kaia"}, "parameter 'institution'"),
     ({"nope": "1"}, "no parameter 'nope'"),
     ("institution=http://x/a&institution=http://x/b", "parameter 'institution' is given 2 times")],
)  # fmt: skip
def test_bad_parameter_is_400_naming_it(client, query_string, named):
    response = client.get("/queries/list-tasks", query_string=query_string)
    assert response.status_code == 400
    assert named in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_bad_parameter_error_is_json_when_asked(client):
    response = client.get(
        "/queries/tasks-by-duty?duty=19-4-2-1", headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert "parameter 'duty'" in response.get_json()["error"]["message"]


def test_unknown_query_is_404_listing_the_catalogue(client):
    response = client.get("/queries/list-everything")
    assert response.status_code == 404
    assert "list-tasks" in response.get_data(as_text=True)


def test_browser_gets_the_query_page_for_a_named_query(client):
    response = client.get("/queries/list-tasks", query_string={"institution": KAIA}, headers=HTML)
    assert response.mimetype == "text/html"
    data = page_data(response)
    assert data["initial"] == {"name": "list-tasks", "values": {"institution": KAIA}}


def test_truncated_result_says_so(engine):
    config = replace(engine.config, max_rows=3)
    with QueryEngine(config, store=engine.store) as small:
        response = create_app(config, engine=small).test_client().get("/queries/list-duties")
    assert response.headers["SPARQL-Results-Truncated"] == "true"
    assert response.headers["SPARQL-Results-Limit"] == "3"
    assert len(rows(response)) == 3


# --- pages -------------------------------------------------------------------------------------


def links(response) -> dict[str, str]:
    """Return the Link header's targets by relation."""
    found = re.findall(r'<([^>]*)>; rel="(\w+)"', response.headers.get("Link", ""))
    return {rel: url for url, rel in found}


def test_a_paged_query_answers_its_first_page_and_links_the_next(client):
    first = client.get("/queries/coverage-by-institution")  # 108 rows on the shipped graph
    assert len(rows(first)) == 100
    assert links(first) == {"next": "/queries/coverage-by-institution?limit=100&offset=100"}
    assert "Link" in first.headers["Access-Control-Expose-Headers"]  # scripts may follow it
    rest = client.get(links(first)["next"])
    assert 0 < len(rows(rest)) < 100
    assert links(rest) == {"prev": "/queries/coverage-by-institution?limit=100&offset=0"}
    everything = rows(client.get("/queries/coverage-by-institution?limit=1000"))
    assert rows(first) + rows(rest) == everything


def test_limit_and_offset_pick_the_rows(client):
    everything = rows(client.get("/queries/list-unverified-claims?limit=1000"))
    assert len(everything) > 10
    page = client.get("/queries/list-unverified-claims?limit=4&offset=6")
    assert rows(page) == everything[6:10]
    assert links(page) == {
        "next": "/queries/list-unverified-claims?limit=4&offset=10",
        "prev": "/queries/list-unverified-claims?limit=4&offset=2",
    }
    assert not links(client.get("/queries/list-unverified-claims?limit=1000"))


def test_page_links_keep_the_other_parameters(client):
    response = client.get("/queries/list-tasks", query_string={"institution": KAIA, "limit": "2",
                                                               "format": "csv"})  # fmt: skip
    assert response.mimetype == "text/csv"
    assert links(response)["next"] == (
        "/queries/list-tasks?institution=https%3A%2F%2Fw3id.org%2Fsmartcity-kr%2Finstitution"
        "%2Fkaia&format=csv&limit=2&offset=2"
    )


def test_a_page_over_the_row_limit_is_cut_and_links_on(engine):
    config = replace(engine.config, max_rows=3)
    with QueryEngine(config, store=engine.store) as small:
        client = create_app(config, engine=small).test_client()
        response = client.get("/queries/list-tasks")
        assert len(rows(response)) == 3
        assert response.headers["SPARQL-Results-Truncated"] == "true"
        assert links(response)["next"] == "/queries/list-tasks?limit=3&offset=3"
        following = client.get(links(response)["next"])
        assert "SPARQL-Results-Truncated" not in following.headers
        assert len(rows(following)) == 3 and rows(following) != rows(response)
        assert client.get("/queries/list-tasks?limit=4").status_code == 400


@pytest.mark.parametrize(
    ("query_string", "message"),
    [("limit=0", "limit must be a whole number from 1 to 10000, got '0'"),
     ("limit=many", "limit must be a whole number from 1 to 10000"),
     ("offset=-5", "offset must be a whole number from 0 to"),
     ("limit=5&limit=6", "parameter 'limit' is given 2 times")],
)  # fmt: skip
def test_a_bad_page_is_400_saying_what_is_wrong(client, query_string, message):
    response = client.get(f"/queries/list-tasks?{query_string}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_a_query_that_is_not_paged_refuses_a_limit(client):
    response = client.get("/queries/list-duties?limit=5", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert "is not paged" in response.get_json()["error"]["message"]
    assert "Link" not in client.get("/queries/list-duties").headers


def test_list_gives_the_page_size(client):
    listed = {q["name"]: q for q in client.get("/queries").get_json()["queries"]}
    assert listed["list-tasks"]["page"] == 100
    assert listed["list-duties"]["page"] is None
    page = client.get("/queries", headers=HTML).get_data(as_text=True)
    assert "Paged: 100 rows a page by default" in page
    assert f"<code>limit=</code> (1 to {Config().max_rows})" in page


def test_broken_query_file_stops_the_app_naming_it(engine, tmp_path, monkeypatch):
    (tmp_path / "broken-query.rq").write_text("#+ title: T\n#+ summary: S\nASK {}\n")
    monkeypatch.setattr(state, "load_catalog", lambda: load_catalog(tmp_path))
    with pytest.raises(QueryFileError, match=r"broken-query\.rq:2: unknown header key 'summary'"):
        create_app(engine.config, engine=engine)


# --- the query page ----------------------------------------------------------------------------


class Tags(HTMLParser):
    """Collect start tags with their attributes."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(response) -> list[tuple[str, dict]]:
    parser = Tags()
    parser.feed(response.get_data(as_text=True))
    return parser.tags


def page_data(response) -> dict:
    page = response.get_data(as_text=True)
    block = re.search(r'<script type="application/json" id="query-page-data">(.*?)</script>', page)
    return json.loads(block.group(1))


def test_page_prefills_the_dataset_prefixes(client):
    page = client.get("/").get_data(as_text=True)
    assert re.search(r"PREFIX skg: +&lt;https://w3id.org/smartcity-kr/def#&gt;", page)
    assert re.search(r"PREFIX eli: +&lt;http://data.europa.eu/eli/ontology#&gt;", page)


def test_page_offers_every_named_query(client):
    options = [a.get("value") for tag, a in tags(client.get("/")) if tag == "option"]
    assert options == ["", *load_catalog()]


def test_page_gives_the_script_its_configuration(client):
    data = page_data(client.get("/"))
    assert data["baseIri"] == Config().base_iri
    assert data["endpoint"] == "/sparql"
    assert {f["name"] for f in data["formats"]} >= {"json", "csv", "tsv", "ttl"}
    assert [q["name"] for q in data["catalogue"]] == list(load_catalog())


def test_page_has_no_inline_script_and_no_outside_resource(client):
    found = tags(client.get("/"))
    for tag, attributes in found:
        assert not any(name.startswith("on") for name in attributes), (tag, attributes)
        assert "style" not in attributes, (tag, attributes)
        for name in ("src", "href", "action"):
            if name in attributes:
                assert attributes[name].startswith("/"), (tag, attributes)
    scripts = [a for tag, a in found if tag == "script"]
    assert scripts and all("src" in a or a.get("type") == "application/json" for a in scripts)


def test_page_prefills_the_editor_from_query(client):
    query = "DESCRIBE <https://w3id.org/smartcity-kr/institution/kaia>"
    page = client.get("/", query_string={"query": query}).get_data(as_text=True)
    assert "DESCRIBE &lt;https://w3id.org/smartcity-kr/institution/kaia&gt;</textarea>" in page


def test_page_prefills_a_named_query_and_its_values(client):
    response = client.get("/?name=tasks-by-duty&duty=https://w3id.org/smartcity-kr/duty/19-4-2-1")
    selected = [a["value"] for tag, a in tags(response) if tag == "option" and "selected" in a]
    assert selected == ["tasks-by-duty"]
    assert page_data(response)["initial"]["values"] == {
        "duty": "https://w3id.org/smartcity-kr/duty/19-4-2-1"
    }


def test_page_for_an_unknown_name_is_404_with_the_message(client):
    response = client.get("/?name=no-such-query")
    assert response.status_code == 404
    assert "no named query &#39;no-such-query&#39;" in response.get_data(as_text=True)


def test_endpoint_shows_the_page_to_browsers(client):
    response = client.get("/sparql", headers=HTML)
    assert response.mimetype == "text/html"
    assert 'id="query-page"' in response.get_data(as_text=True)


def test_static_files_are_served(client):
    for path in ("/static/query.js", "/static/query.css", "/static/site.css"):
        response = client.get(path)
        assert response.status_code == 200, path
        response.close()
