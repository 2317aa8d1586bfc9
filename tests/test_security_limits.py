"""Limits: request body, query length, result rows, time, and the per-client rate limit."""

import threading

import pytest

from smartcity_kg.config import Config, from_env
from smartcity_kg.errors import InputError
from smartcity_kg.web import create_app
from smartcity_kg.web.security import RateLimiter

REMOTE = {"REMOTE_ADDR": "203.0.113.7"}
SLOW = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture(scope="module")
def engine(packaged_store):
    with packaged_store.engine(workers=1, timeout=1) as engine:
        yield engine


def client_for(engine, **settings):
    config = Config(workers=1, timeout=1, store=engine.config.store, **settings)
    engine.config = config  # the engine's own limits follow the app's for each test
    return create_app(config, engine=engine).test_client()


def test_body_over_the_limit_is_413(engine):
    client = client_for(engine, max_body_bytes=1000)
    response = client.post("/sparql", data=b"#" * 2000, content_type="application/sparql-query")
    assert response.status_code == 413


def test_query_over_the_length_limit_is_413(engine):
    client = client_for(engine, max_query_length=100)
    response = client.get("/sparql", query_string={"query": "ASK {}" + " " * 200})
    assert response.status_code == 413 and "limit is 100" in response.text


def test_rows_over_the_limit_are_cut_and_marked(engine):
    client = client_for(engine, max_rows=3)
    response = client.get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o }"})
    assert response.status_code == 200
    assert len(response.json["results"]["bindings"]) == 3
    assert response.headers["SPARQL-Results-Truncated"] == "true"


def test_query_past_the_time_limit_is_503(engine):
    client = client_for(engine, cache_bytes=0)
    response = client.get("/sparql", query_string={"query": SLOW})
    assert response.status_code == 503 and "time limit" in response.text


def test_rate_limit_answers_429_with_retry_after(engine):
    client = client_for(engine, rate_limit=3)
    statuses = [client.get("/queries", environ_base=REMOTE).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    response = client.get("/queries", environ_base=REMOTE)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert response.mimetype == "text/plain" and "rate limit" in response.text
    other = {"REMOTE_ADDR": "198.51.100.1"}
    assert client.get("/queries", environ_base=other).status_code == 200  # per client


def test_rate_limit_is_off_by_default(engine):
    client = client_for(engine)
    assert all(client.get("/queries", environ_base=REMOTE).status_code == 200 for _ in range(30))


def test_loopback_is_exempt_unless_enabled(engine):
    client = client_for(engine, rate_limit=2)
    assert all(client.get("/queries").status_code == 200 for _ in range(5))  # 127.0.0.1
    client = client_for(engine, rate_limit=2, rate_limit_loopback=True)
    assert [client.get("/queries").status_code for _ in range(3)] == [200, 200, 429]


def test_forwarded_for_is_believed_only_behind_a_trusted_proxy(engine):
    spoofed = {"X-Forwarded-For": "192.0.2.99"}
    client = client_for(engine, rate_limit=2)
    statuses = [client.get("/queries", environ_base=REMOTE, headers={
        "X-Forwarded-For": f"192.0.2.{i}"}).status_code for i in range(3)]  # fmt: skip
    assert statuses == [200, 200, 429]  # a changing header does not reset the count
    client = client_for(engine, rate_limit=2, trusted_proxies=1)
    for _ in range(2):
        assert client.get("/queries", environ_base=REMOTE, headers=spoofed).status_code == 200
    assert client.get("/queries", environ_base=REMOTE, headers=spoofed).status_code == 429
    other = {"X-Forwarded-For": "192.0.2.100"}
    assert client.get("/queries", environ_base=REMOTE, headers=other).status_code == 200


def test_healthz_is_not_rate_limited(engine):
    client = client_for(engine, rate_limit=1)
    assert all(client.get("/healthz", environ_base=REMOTE).status_code == 200 for _ in range(3))


def test_token_bucket_refills_evenly():
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])  # one a second, a burst of 60
    assert all(limiter.take("a") == 0 for _ in range(60))
    assert limiter.take("a") == 1
    now[0] += 1.0
    assert limiter.take("a") == 0
    assert limiter.take("a") == 1


def test_many_clients_keep_memory_bounded_and_the_recent_ones_limited(monkeypatch):
    monkeypatch.setattr(RateLimiter, "MAX_CLIENTS", 100)
    limiter = RateLimiter(2, clock=lambda: 0.0)
    assert limiter.take("busy") == 0 and limiter.take("busy") == 0
    for n in range(1000):  # many addresses, each still within its burst
        assert limiter.take(f"10.0.{n // 250}.{n % 250}") == 0
        assert limiter.take("busy") > 0  # seen on every request: never dropped, still limited
    assert len(limiter) == 100


def test_token_bucket_is_thread_safe():
    limiter = RateLimiter(1000, clock=lambda: 0.0)
    allowed = []

    def spend():
        allowed.extend(limiter.take("a") == 0 for _ in range(250))

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 1000


def test_rate_limit_settings_come_from_the_environment():
    config = from_env({"SMARTCITY_KG_RATE_LIMIT": "120", "SMARTCITY_KG_RATE_LIMIT_LOOPBACK": "yes",
                       "SMARTCITY_KG_TRUSTED_PROXIES": "1"})  # fmt: skip
    assert (config.rate_limit, config.rate_limit_loopback, config.trusted_proxies) == (120, True, 1)
    with pytest.raises(InputError, match="RATE_LIMIT_LOOPBACK"):
        from_env({"SMARTCITY_KG_RATE_LIMIT_LOOPBACK": "maybe"})
    with pytest.raises(InputError, match="rate_limit"):
        Config(rate_limit=-1)
