"""Every kind of page under its Content-Security-Policy in a real Chromium: no violation.

A page that needed inline script or style would report a violation (and stop working), so
each page is loaded, checked for reports, and the query page is made to run a query.
"""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.server]

TIMEOUT_MS = 20_000
PAGES = ["/", "/sparql", "/queries", "/queries/list-tasks", "/coverage", "/coverage?lang=ko",
         "/downloads", "/def", "/institution/kaia", "/no/such/thing"]  # fmt: skip
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture
def watched(page):
    """The page, with every CSP violation and console error it reports collected."""
    page.set_default_timeout(TIMEOUT_MS)
    page.add_init_script(RECORD_VIOLATIONS)
    messages = []
    page.on("console", lambda message: messages.append((message.type, message.text)))
    page.on("pageerror", lambda error: messages.append(("pageerror", str(error))))
    return page, messages


def violations(page, messages) -> list[str]:
    reported = page.evaluate("window.__violations || []")
    console = [text for kind, text in messages if "Content Security Policy" in text]
    errors = [text for kind, text in messages if kind == "pageerror"]
    return reported + console + errors


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_under_its_policy_without_a_violation(watched, packaged_sparql_server, path):
    page, messages = watched
    response = page.goto(packaged_sparql_server.base + path)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("load")
    assert violations(page, messages) == []
    assert page.evaluate("getComputedStyle(document.querySelector('.site-header')).display")


def test_query_page_runs_a_query_under_its_policy(watched, packaged_sparql_server):
    page, messages = watched
    page.goto(packaged_sparql_server.base + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.select_option("#picker", "list-tasks")
    page.click("#run")
    page.wait_for_selector("#results-table")
    assert page.locator("#results-table tbody tr").count() > 0
    page.fill("#editor", "CONSTRUCT WHERE { ?s a ?t } LIMIT 3")
    page.click("#run")
    page.wait_for_selector("#results-turtle, #results-table")
    assert violations(page, messages) == []


def test_an_inline_script_would_be_reported(watched, packaged_sparql_server):
    """The watch works: a script injected into the page is blocked and reported."""
    page, messages = watched
    page.goto(packaged_sparql_server.base + "/queries")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = true'; document.body.append(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran === undefined")
    assert any("script-src" in v for v in violations(page, messages))
