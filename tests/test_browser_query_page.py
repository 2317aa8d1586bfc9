"""The query page in a real Chromium (Playwright) against a real `smartcity-kg serve` process."""

from urllib.parse import urlsplit

import pytest
import requests

pytestmark = [pytest.mark.browser, pytest.mark.server]

BASE_IRI = "https://w3id.org/smartcity-kr/"
KAIA = BASE_IRI + "institution/kaia"
TIMEOUT_MS = 20_000


@pytest.fixture
def server(packaged_sparql_server):
    return packaged_sparql_server


def open_page(page, url: str):
    """Open `url` and wait until query.js has wired the page."""
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    return page


def run_and_wait(page, selector: str = "#results-table, #results-turtle, #error:not([hidden])"):
    page.click("#run")
    page.wait_for_selector(selector)


def expected_rows(server, name: str, **params) -> list[dict]:
    response = requests.get(f"{server.base}/queries/{name}", params=params, timeout=30)
    return response.json()["results"]["bindings"]


def test_pick_a_named_query_run_it_and_see_the_table(page, server):
    open_page(page, server.base + "/")
    page.select_option("#picker", "list-tasks")
    assert page.input_value("#editor").startswith("#+ title: Assigned tasks")
    assert page.is_visible("#param-institution")
    run_and_wait(page, "#results-table")
    headers = page.locator("#results-table thead th").all_inner_texts()
    assert headers[:3] == ["institution", "institutionName", "bullet"]
    rows = page.locator("#results-table tbody tr")
    assert rows.count() == len(expected_rows(server, "list-tasks")) > 0
    assert page.inner_text("#status").startswith(f"{rows.count()} results")
    assert page.get_attribute("#downloads a:text-is('csv')", "href") == (
        "/queries/list-tasks?format=csv"
    )


def test_a_parameter_narrows_the_table(page, server):
    open_page(page, server.base + "/")
    page.select_option("#picker", "list-tasks")
    page.fill("#param-institution", KAIA)
    page.press("#param-institution", "Enter")  # submits the form
    page.wait_for_selector("#results-table")
    first_column = page.locator("#results-table tbody tr td:first-child a")
    assert first_column.count() == len(expected_rows(server, "list-tasks", institution=KAIA))
    assert set(first_column.evaluate_all("links => links.map(a => a.title)")) == {KAIA}
    assert "institution=" in page.url and "name=list-tasks" in page.url  # shareable


def test_follow_an_iri_to_its_resource_page(page, server):
    open_page(page, server.base + "/?name=list-institutions")
    run_and_wait(page, "#results-table")
    link = page.locator("#results-table tbody tr:first-child td:first-child a")
    iri = link.get_attribute("title")
    assert iri.startswith(BASE_IRI + "institution/")
    path = "/" + iri.removeprefix(BASE_IRI)
    assert link.get_attribute("href") == path
    with page.expect_navigation():
        link.click()
    assert urlsplit(page.url).path.startswith(path)
    assert iri in page.content()


def test_a_broken_query_shows_its_error_at_the_editor(page, server):
    open_page(page, server.base + "/")
    page.fill("#editor", "SELECT ?x\nWHERE { ?x }")
    run_and_wait(page, "#error:not([hidden])")
    message = page.inner_text("#error")
    assert "400" in message and "syntax error at line 2" in message
    assert page.get_attribute("#editor", "aria-invalid") == "true"
    assert page.locator("#results-table").count() == 0
    assert page.is_hidden("#downloads")


def test_ctrl_enter_runs_the_query(page, server):
    open_page(page, server.base + "/")
    assert page.is_hidden("#params")  # your own query has no parameters
    page.fill("#editor", 'SELECT ?greeting WHERE { BIND ("안녕" AS ?greeting) }')
    page.press("#editor", "Control+Enter")
    page.wait_for_selector("#results-table")
    assert page.locator("#results-table tbody td").all_inner_texts() == ["안녕"]


def test_a_bad_parameter_is_shown_at_its_input(page, server):
    open_page(page, server.base + "/?name=tasks-by-duty")
    page.fill("#param-duty", "duty 9")
    run_and_wait(page, "#error:not([hidden])")
    assert "parameter 'duty'" in page.inner_text("#param-duty-error")
    assert page.get_attribute("#param-duty", "aria-invalid") == "true"


def test_the_editor_is_prefilled_from_query(page, server):
    query = f"DESCRIBE <{KAIA}>"
    open_page(page, f"{server.base}/?query={requests.utils.quote(query)}")
    assert page.input_value("#editor") == query
    run_and_wait(page, "#results-turtle")
    assert page.get_attribute(f"#results-turtle a:text-is('{KAIA}')", "href") == (
        "/institution/kaia"
    )
    assert page.get_attribute("#downloads a:text-is('ttl')", "href").startswith("/sparql?query=")


def test_a_named_query_and_its_values_are_prefilled_from_the_url(page, server):
    duty = BASE_IRI + "duty/19-4-2-1"
    open_page(page, f"{server.base}/?name=tasks-by-duty&duty={duty}")
    assert page.input_value("#picker") == "tasks-by-duty"
    assert page.input_value("#param-duty") == duty
    assert page.input_value("#editor").startswith("#+ title: Tasks by statutory duty")


def test_editing_a_named_query_runs_it_as_text(page, server):
    open_page(page, server.base + "/?name=list-duties")
    page.fill("#editor", page.input_value("#editor") + "LIMIT 2\n")
    assert page.is_visible("#edited-note")
    run_and_wait(page, "#results-table")
    assert page.locator("#results-table tbody tr").count() == 2


def test_downloads_hold_the_result(page, server):
    open_page(page, server.base + "/?name=list-duties")
    run_and_wait(page, "#results-table")
    with page.expect_download() as download:
        page.click("#downloads a:text-is('csv')")
    path = download.value.path()
    with open(path, encoding="utf-8") as saved:
        assert saved.readline().startswith("notation,duty,")


def test_the_page_needs_nothing_from_outside_and_no_inline_code(page, server):
    origin = server.base
    requested, problems = [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))

    def strict_csp(route):
        response = route.fetch()
        headers = {**response.headers, "content-security-policy": "default-src 'self'"}
        route.fulfill(response=response, headers=headers)

    page.route("**/*", strict_csp)
    open_page(page, origin + "/?name=list-designations")
    run_and_wait(page, "#results-table")
    assert all(url.startswith(origin + "/") for url in requested), requested
    assert problems == []


# --- limits: servers with a small row limit and a short time limit ------------------------------


def test_a_truncated_result_is_marked(page, sparql_server_factory, monkeypatch):
    monkeypatch.setenv("SMARTCITY_KG_MAX_ROWS", "3")
    server = sparql_server_factory()
    open_page(page, server.base + "/?name=list-tasks")
    run_and_wait(page, "#results-table")
    assert page.locator("#results-table tbody tr").count() == 3
    assert page.is_visible("#truncated")
    assert "cut at 3 rows" in page.inner_text("#truncated")


def test_a_timeout_is_shown_as_an_error(page, sparql_server_factory, monkeypatch):
    monkeypatch.setenv("SMARTCITY_KG_TIMEOUT", "1")
    server = sparql_server_factory()
    open_page(page, server.base + "/")
    page.fill("#editor", "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")
    run_and_wait(page, "#error:not([hidden])")
    message = page.inner_text("#error")
    assert "503" in message and "time limit" in message
    assert page.is_hidden("#truncated")
    assert page.locator("#results-table").count() == 0
