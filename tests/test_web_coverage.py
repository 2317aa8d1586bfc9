"""The /coverage page and its CSV downloads, through the Flask test client."""

import csv
import io
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

BASE = "https://w3id.org/smartcity-kr/"


@pytest.fixture(scope="module")
def app(store_app):
    return store_app


@pytest.fixture
def client(app):
    return app.test_client()  # a fresh client per test: no language cookie carried over


class Cells(HTMLParser):
    """Collect each element with an id (and the links inside the matrix cells)."""

    def __init__(self):
        super().__init__()
        self.links: dict[str, list[dict]] = {}
        self.classes: dict[str, str] = {}
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.classes[attrs["id"]] = attrs.get("class") or ""
            if tag == "td":
                self._cell = attrs["id"]
        if tag == "a" and self._cell:
            self.links.setdefault(self._cell, []).append(attrs)

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None


def parse(html: str) -> Cells:
    parser = Cells()
    parser.feed(html)
    return parser


def test_page_shows_the_gaps_and_the_matrix(client):
    response = client.get("/coverage?lang=en")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    html = response.get_data(as_text=True)
    cells = parse(html)
    assert "gap" in cells.classes["duty-4"].split() and "gap" in cells.classes["duty-8"].split()
    assert "covered" in cells.classes["duty-6"].split()
    assert "ambiguous" in cells.classes["duty-3"].split()
    assert {k for k in cells.classes if k.startswith("cell-")} == {
        f"cell-{s}-{c}"
        for s in (
            "energy",
            "environment",
            "safety",
            "living",
            "transportation",
            "healthcare",
            "education",
            "cyber-security",
        )
        for c in ("sejong", "busan")
    }
    assert "<script" not in html
    assert re.search(r'href="[^"]*/static/coverage\.css"', html)


def test_a_matrix_cell_links_to_its_task_and_to_its_query(client):
    cells = parse(client.get("/coverage?lang=en").get_data(as_text=True))
    links = cells.links["cell-energy-sejong"]
    tasks = [a["href"] for a in links if "task" in a.get("class", "")]
    assert tasks == ["/task/lh/sectors-sejong"]
    [query] = [a["href"] for a in links if "query" in a.get("class", "")]
    url = urlsplit(query)
    assert url.path == "/"
    assert parse_qs(url.query) == {
        "name": ["coverage-by-city"],
        "sector": [BASE + "sector/energy"],
        "city": [BASE + "city/sejong"],
    }


def test_the_cell_query_returns_exactly_the_tasks_behind_the_cell(client):
    response = client.get(
        "/queries/coverage-by-duty",
        query_string={"duty": BASE + "duty/19-4-2-7", "format": "csv"},
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {r["task"] for r in rows} == {
        BASE + "task/krihs/smart-city-certification",
        BASE + "task/kict/smart-city-service-certification",
    }


def test_korean_page_by_parameter_and_by_accept_language(client):
    by_param = client.get("/coverage?lang=ko").get_data(as_text=True)
    assert "시범도시별 분야" in by_param and "공백" in by_param
    fresh = client.application.test_client()
    by_header = fresh.get("/coverage", headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"})
    assert "시범도시별 분야" in by_header.get_data(as_text=True)
    assert "Accept-Language" in by_header.headers["Vary"]
    english = fresh.get("/coverage", headers={"Accept-Language": "en"})
    assert "Sectors by pilot city" in english.get_data(as_text=True)


@pytest.mark.parametrize("view", ["duty", "institution", "city", "programme", "overlap"])
def test_each_table_downloads_as_csv(client, view):
    response = client.get(f"/coverage/{view}.csv?lang=en")
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert f'filename="coverage-{view}-en.csv"' in response.headers["Content-Disposition"]
    header = next(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert header[0] == "iri"


def test_duty_csv_marks_the_gaps(client):
    rows = list(csv.DictReader(io.StringIO(client.get("/coverage/duty.csv?lang=en").text)))
    assert [r["#"] for r in rows if r["Status"] == "GAP"] == ["4", "8"]


def test_unknown_table_is_404_with_a_message(client):
    response = client.get("/coverage/sectors.csv", headers={"Accept": "text/plain"})
    assert response.status_code == 404
    assert "no coverage table 'sectors'" in response.get_data(as_text=True)
