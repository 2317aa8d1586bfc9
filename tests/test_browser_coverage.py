"""The coverage page in a real Chromium (Playwright) against a real `smartcity-kg serve`.

The server is conftest's session-wide `packaged_sparql_server` (a `smartcity-kg serve` process
on a free loopback port); Chromium is Debian's, never a downloaded one.
"""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.server]

BASE = "https://w3id.org/smartcity-kr/"
TIMEOUT_MS = 20_000


@pytest.fixture
def server(packaged_sparql_server):
    return packaged_sparql_server


def open_coverage(page, server, lang: str = "en"):
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{server.base}/coverage?lang={lang}")
    return page


def test_the_matrix_renders_with_every_sector_and_city(page, server):
    open_coverage(page, server)
    matrix = page.locator("table.matrix")
    assert matrix.is_visible()
    assert matrix.locator("thead th").all_inner_texts() == ["Sector", "Busan", "Sejong"]
    assert matrix.locator("tbody tr").count() == 8
    box = page.locator("#cell-energy-sejong").bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0
    assert page.locator("#cell-energy-sejong a.task").inner_text() == "LH"
    assert page.locator("#cell-energy-busan a.task").inner_text() == "K-water"


def test_a_gap_is_visibly_marked(page, server):
    open_coverage(page, server)
    gap_row = page.locator("#duty-4")
    assert gap_row.locator(".badge.gap").inner_text() == "GAP"
    covered_row = page.locator("#duty-6")
    gap_colour = gap_row.locator("td.cell").first.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    plain_colour = covered_row.locator("td.cell").first.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    assert gap_colour != plain_colour  # the stylesheet loaded and paints the gap row
    border = gap_row.locator(".badge.gap").evaluate("e => getComputedStyle(e).borderTopStyle")
    assert border == "solid"
    summary = page.locator("dd.gap-list .gap-label").all_inner_texts()
    assert [s.split(".")[0] for s in summary] == ["4", "8"]


def test_a_matrix_cell_link_leads_to_the_right_task(page, server):
    open_coverage(page, server)
    page.locator("#cell-transportation-busan a.task").click()
    page.wait_for_url("**/task/koti/transportation.html")
    assert "Transportation sector of the national pilot smart cities" in page.title()


def test_a_heatmap_cell_links_to_its_tasks_and_its_query(page, server):
    open_coverage(page, server)
    row = page.locator("#duty-7")
    links = row.locator("a.task")
    hrefs = sorted(links.nth(n).get_attribute("href") for n in range(links.count()))
    assert hrefs == [
        "/task/kict/smart-city-service-certification",
        "/task/krihs/smart-city-certification",
    ]
    row.locator("a.count").first.click()
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#picker").input_value() == "coverage-by-duty"
    assert page.locator("[name=duty]").input_value() == BASE + "duty/19-4-2-7"


def test_the_page_reads_in_korean(page, server):
    open_coverage(page, server, "ko")
    assert page.locator("#matrix h2").inner_text() == "시범도시별 분야"
    assert page.locator("#duty-8 .badge.gap").inner_text() == "공백"
