"""A resource page in real Chromium against a real `smartcity-kg serve` on a loopback port."""

import pytest

from smartcity_kg.config import BASE_IRI

pytestmark = [pytest.mark.browser, pytest.mark.server]
SKG = BASE_IRI + "def#"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def task(packaged_graph):
    """A task with its labels and its institution's labels, read from the data."""
    query = f"""
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?task ?en ?ko ?inst ?inst_en ?inst_ko WHERE {{
          ?task a <{SKG}AssignedTask> ; <{SKG}assignedTo> ?inst ;
                skos:prefLabel ?en , ?ko .
          ?inst skos:prefLabel ?inst_en , ?inst_ko .
          FILTER (lang(?en) = "en" && lang(?ko) = "ko")
          FILTER (lang(?inst_en) = "en" && lang(?inst_ko) = "ko")
        }} ORDER BY ?task LIMIT 1"""
    row = next(iter(packaged_graph.query(query, use_default_graph_as_union=True)))
    return {name: row[name].value for name in ("task", "en", "ko", "inst", "inst_en", "inst_ko")}


def test_resource_page_shows_both_languages_links_and_switches(page, packaged_sparql_server, task):
    page.set_default_timeout(TIMEOUT_MS)
    page.set_extra_http_headers({"Accept-Language": "en"})
    url = packaged_sparql_server.base + "/" + task["task"][len(BASE_IRI) :]
    page.goto(url)
    assert page.url.endswith(".html")  # the IRI answered 303 to its HTML document
    assert page.locator("h1").inner_text() == task["en"]
    assert page.locator(".other-title[lang=ko]").inner_text() == task["ko"]

    page.get_by_role("link", name="한국어").click()
    page.wait_for_url("**lang=ko")
    assert page.locator("h1").inner_text() == task["ko"]
    assert page.locator(".other-title[lang=en]").inner_text() == task["en"]

    page.locator(".task .institution a").click()
    page.wait_for_url("**/" + task["inst"][len(BASE_IRI) :] + ".html")
    assert page.locator("h1").inner_text() == task["inst_ko"]  # the switch is remembered

    page.get_by_role("link", name="English").click()
    page.wait_for_url("**lang=en")
    assert page.locator("h1").inner_text() == task["inst_en"]
