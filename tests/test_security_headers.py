"""Security headers on pages, nosniff on everything, CORS without credentials."""

import pytest

HTML = {"Accept": "text/html"}
PAGES = ["/", "/sparql", "/queries", "/coverage", "/downloads", "/def.html",
         "/institution/kaia.html", "/queries/list-institutions", "/no/such/thing"]  # fmt: skip
OTHERS = [("/sparql?query=ASK%7B%7D", {}), ("/queries", {"Accept": "application/json"}),
          ("/institution/kaia.ttl", {}), ("/downloads/smartcity-kg.ttl", {}),
          ("/context.jsonld", {}), ("/static/query.js", {}), ("/healthz", {}),
          ("/no/such/thing", {"Accept": "text/plain"})]  # fmt: skip


@pytest.fixture(scope="module")
def client(packaged_client):
    return packaged_client


@pytest.mark.parametrize("path", PAGES)
def test_html_pages_carry_a_strict_content_security_policy(client, path):
    response = client.get(path, headers=HTML)
    assert response.mimetype == "text/html"
    policy = dict(
        directive.strip().split(" ", 1) for directive in
        response.headers["Content-Security-Policy"].split(";")
    )  # fmt: skip
    assert policy["script-src"] == "'self'" and "unsafe-inline" not in str(policy)
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_inline_script_style_or_handlers(client, path):
    """What the policy forbids must not be in the pages (the browser test checks it too)."""
    html = client.get(path, headers=HTML).get_data(as_text=True).lower()
    for script in html.split("<script")[1:]:
        assert " src=" in script.split(">")[0] or 'type="application/json"' in script
    assert "<style" not in html and " style=" not in html
    assert "javascript:" not in html and " onclick=" not in html and " onload=" not in html


@pytest.mark.parametrize(("path", "headers"), OTHERS)
def test_every_response_says_nosniff(client, path, headers):
    with client.get(path, headers=headers) as response:
        assert response.status_code in (200, 404)
        assert response.headers["X-Content-Type-Options"] == "nosniff"


CORS_PATHS = ["/sparql?query=ASK%7B%7D", "/queries/list-institutions", "/institution/kaia.ttl",
              "/downloads/smartcity-kg.ttl", "/.well-known/void", "/no/such/thing"]  # fmt: skip


@pytest.mark.parametrize("path", CORS_PATHS)
def test_cors_allows_any_origin_without_credentials(client, path):
    response = client.get(path, headers={"Origin": "https://elsewhere.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("path", CORS_PATHS)
def test_cors_preflight_is_answered(client, path):
    response = client.options(path, headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})  # fmt: skip
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in response.headers
