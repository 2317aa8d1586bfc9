"""Path traversal on every route that takes a name: refused, never a file outside the package."""

import pytest

SECRETS = (b"root:", b"[build-system]", b"import ", b"SMARTCITY_KG", b"PRIVATE KEY")
NAMES = ["../../../../etc/passwd", "..%2f..%2f..%2fetc%2fpasswd", "%2e%2e/%2e%2e/etc/passwd",
         "%2e%2e%2f%2e%2e%2fpyproject.toml", "..%5c..%5cpyproject.toml", "..\\..\\pyproject.toml",
         "%252e%252e%252fpyproject.toml", "....//....//etc/passwd", "%00", "x%00.ttl",
         "/etc/passwd", "%2fetc%2fpasswd", "..%c0%af..%c0%afetc%c0%afpasswd", "."]  # fmt: skip
PREFIXES = ["/downloads/", "/queries/", "/queries/..%2fchecks%2f", "/coverage/", "/static/",
            "/institution/", "/def/", "/"]  # fmt: skip


@pytest.fixture(scope="module")
def client(packaged_client):
    return packaged_client


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("prefix", PREFIXES)
def test_traversal_is_refused(client, prefix, name):
    response = client.get(prefix + name)
    assert response.status_code in (400, 404, 405), (prefix + name, response.status_code)
    body = response.get_data()
    assert not any(secret in body for secret in SECRETS)


@pytest.mark.parametrize("suffix", ["", ".csv", ".html", ".ttl"])
def test_traversal_with_an_extension_is_refused(client, suffix):
    for prefix in PREFIXES:
        response = client.get(prefix + "..%2f..%2fpyproject" + suffix)
        assert response.status_code in (400, 404), (prefix, suffix, response.status_code)


def test_named_queries_outside_the_catalogue_are_not_run(client):
    """`queries/checks/*.rq` exist in the package but are not public named queries."""
    for path in ("/queries/checks/task-without-duty-violation", "/queries/..%2fchecks%2fx"):
        assert client.get(path, headers={"Accept": "application/json"}).status_code == 404


def test_downloads_serve_only_the_listed_dumps(client):
    listed = client.get("/downloads/SHA256SUMS").get_data(as_text=True).split()[1::2]
    assert listed, "no dumps listed"
    for name in listed:
        assert client.get(f"/downloads/{name}").status_code == 200
    for name in ("../SHA256SUMS", "smartcity-kg.ttl/..", "SMARTCITY-KG.TTL", "smartcity-kg"):
        assert client.get(f"/downloads/{name}").status_code == 404


def test_static_files_stay_in_the_static_folder(client):
    with client.get("/static/site.css") as response:
        assert response.status_code == 200
    for path in ("/static/../__init__.py", "/static/..%2f__init__.py", "/static/%2e%2e/web.py",
                 "/static/..%5c__init__.py", "/static//etc/passwd"):  # fmt: skip
        response = client.get(path)
        assert response.status_code in (400, 404), path
        assert b"import" not in response.get_data()
