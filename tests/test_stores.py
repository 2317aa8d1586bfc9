"""Stores: in memory, on disk (`load --into DIR`, read-only) and remote (`load --into URL`)."""

import json
import os
import re
import socket
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from smartcity_kg.cli.commands import main
from smartcity_kg.errors import InputError, QueryTimeout, StoreUnavailable, ValidationFailed
from smartcity_kg.loading import load_into
from smartcity_kg.publish.dumps import Dumps
from smartcity_kg.quality.preflight import check_served_data
from smartcity_kg.rdf.files import load_store
from smartcity_kg.store.local import LOAD_RECORD, ReadOnlyStore, open_store, shapes_digest
from smartcity_kg.store.remote import RemoteStore, bind_values, graph_store_url
from smartcity_kg.web.state import state

MARKER = '<http://example.org/marker> <http://example.org/says> "loaded once" .\n'
ASK_MARKER = 'ASK { <http://example.org/marker> <http://example.org/says> "loaded once" }'
INSERT = "INSERT DATA { GRAPH <http://example.org/g> { <http://x/s> <http://x/p> <http://x/o> } }"


@pytest.fixture(scope="module")
def memory_nquads() -> bytes:
    return Dumps(load_store()).get("smartcity-kg.nq").data


@pytest.fixture(scope="module")
def disk_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("stores") / "kg"
    load_into(str(path))
    return path


def test_memory_is_the_embedded_store_loaded_from_the_packaged_files():
    assert isinstance(open_store("memory"), ox.Store)
    assert len(open_store("memory")) == len(load_store())


def test_directory_store_holds_exactly_the_packaged_graph(disk_store, memory_nquads):
    store = open_store(str(disk_store))
    assert isinstance(store, ReadOnlyStore)
    assert Dumps(store).get("smartcity-kg.nq").data == memory_nquads


def test_a_directory_without_a_store_says_to_load_it_first(tmp_path):
    with pytest.raises(InputError, match=r"run 'smartcity-kg load --into .*' first"):
        open_store(str(tmp_path / "missing"))


def test_data_files_cannot_be_served_from_a_directory_store(disk_store):
    from smartcity_kg.rdf.files import file_sources

    with pytest.raises(InputError, match="load --into"):
        open_store(str(disk_store), file_sources([disk_store / "CURRENT"]))


def test_load_refuses_an_existing_store_without_replace(disk_store, capsys):
    assert main(["load", "--into", str(disk_store)]) == 2
    assert "--replace" in capsys.readouterr().err


def test_load_never_replaces_a_directory_that_is_not_a_store(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("keep me")
    assert main(["load", "--into", str(tmp_path), "--replace"]) == 2
    assert "not an Oxigraph store" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_a_failed_load_leaves_the_old_store_in_place(tmp_path, capsys):
    good, bad, store = tmp_path / "good.nt", tmp_path / "bad.nt", tmp_path / "kg"
    good.write_text(MARKER)
    bad.write_text("<http://x/s> <http://x/p> .\n")
    assert main(["load", "--into", str(store), str(good)]) == 0
    assert main(["load", "--into", str(store), "--replace", str(bad)]) == 2
    assert "bad.nt:1" in capsys.readouterr().err
    assert open_store(str(store)).query(ASK_MARKER, use_default_graph_as_union=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.nt", "good.nt", "kg"]


def test_the_directory_store_is_opened_read_only(disk_store):
    before = len(open_store(str(disk_store)))
    with pytest.raises(RuntimeError, match="read-write"):
        ox.Store.read_only(str(disk_store)).update(INSERT)
    assert len(open_store(str(disk_store))) == before


def test_serve_store_dir_answers_and_a_restart_does_not_reload(tmp_path, sparql_server_factory):
    marker = tmp_path / "marker.nt"
    marker.write_text(MARKER)
    store = tmp_path / "kg"
    assert main(["load", "--into", str(store), str(marker)]) == 0
    marker.unlink()  # a server that reloaded files could no longer find the marker
    for _ in range(2):
        server = sparql_server_factory("--store", str(store), "--no-validate")
        answer = requests.get(server.endpoint, params={"query": ASK_MARKER},
                              headers={"Accept": "application/sparql-results+json"})  # fmt: skip
        assert answer.json()["boolean"] is True
        server.stop()


def test_http_workers_each_run_their_own_query_workers_and_all_stop(
    disk_store, sparql_server_factory
):
    server = sparql_server_factory("--store", str(disk_store), "--http-workers", "2",
                                   "--workers", "1")  # fmt: skip
    deadline = time.monotonic() + 20
    while len(server.descendants()) < 6 and time.monotonic() < deadline:
        time.sleep(0.2)
    processes = server.descendants()
    assert len(processes) == 6  # two HTTP workers, each with a query worker and a fast lane
    assert requests.get(server.endpoint, params={"query": "ASK {}"}).status_code == 200
    server.stop()
    assert not [pid for pid in processes if os.path.exists(f"/proc/{pid}")]


# --- a real Oxigraph server as the store --------------------------------------------------------


def test_remote_store_holds_exactly_the_packaged_graph(oxigraph_packaged, memory_nquads):
    store = open_store(oxigraph_packaged.query_url)
    assert isinstance(store, RemoteStore)
    assert Dumps(store).get("smartcity-kg.nq").data == memory_nquads


def test_loading_into_a_url_again_replaces_each_graph(oxigraph_packaged, capsys):
    assert main(["load", "--into", oxigraph_packaged.query_url]) == 0  # /query means /store
    assert len(RemoteStore(oxigraph_packaged.query_url)) == len(load_store())
    summary = capsys.readouterr().out  # a remote store is not asked to count: the bytes sent
    assert re.fullmatch(rf"loaded \d+ files \([\d.]+ MB\) into {oxigraph_packaged.query_url} "
                        r"in [\d.]+ s\n", summary)  # fmt: skip


def test_serve_store_url_gives_the_same_pages_as_the_embedded_store(
    oxigraph_packaged, sparql_server_factory
):
    from smartcity_kg.config import Config
    from smartcity_kg.web import create_app

    server = sparql_server_factory("--store", oxigraph_packaged.query_url)
    app = create_app(Config(workers=1))
    try:
        for path, accept in (("/dataset", "text/turtle"), ("/coverage", "text/html")):
            remote = requests.get(server.base + path, headers={"Accept": accept})
            embedded = app.test_client().get(
                path, headers={"Accept": accept}, follow_redirects=True
            )
            assert (remote.status_code, remote.content) == (200, embedded.data), path
    finally:
        state(app).engine.close()


def test_an_unreachable_store_is_store_unavailable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/query"
    with pytest.raises(StoreUnavailable, match="cannot reach"):
        RemoteStore(url).query("ASK {}")


def test_a_store_that_does_not_answer_in_time_is_a_query_timeout():
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/query"
        with pytest.raises(QueryTimeout, match=r"0\.5 s"):
            RemoteStore(url, timeout=0.5).query("ASK {}")


def test_a_remote_query_past_the_limit_is_a_query_timeout_from_the_engine():
    from smartcity_kg.config import Config
    from smartcity_kg.sparql.engine import QueryEngine

    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/query"
        with QueryEngine(Config(store=url, timeout=1, workers=1)) as engine:
            started = time.monotonic()
            with pytest.raises(QueryTimeout):
                engine.run("ASK { ?s ?p ?o }")
            assert time.monotonic() - started < 5


def test_safety_checks_run_before_anything_is_sent(loopback_listener):
    from smartcity_kg.config import Config
    from smartcity_kg.errors import QueryRefused
    from smartcity_kg.sparql.engine import QueryEngine

    with QueryEngine(Config(store=loopback_listener.url, workers=1)) as engine:
        for refused in (INSERT, "SELECT * { SERVICE <http://x/> { ?s ?p ?o } }"):
            with pytest.raises(QueryRefused):
                engine.run(refused)
    assert loopback_listener.connections == []


def test_substitutions_are_bound_by_values_at_the_start_of_the_group():
    query = 'SELECT ?s WHERE { BIND ("{" AS ?x) ?s ?p ?o }'
    bound = bind_values(query, {ox.Variable("p"): ox.NamedNode("http://x/p")})
    assert bound == 'SELECT ?s WHERE { VALUES (?p) { (<http://x/p>) }  BIND ("{" AS ?x) ?s ?p ?o }'


def test_construct_binds_in_its_where_group_not_its_template():
    query = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"
    bound = bind_values(query, {ox.Variable("g"): ox.NamedNode("http://x/g")})
    assert bound.startswith("CONSTRUCT { ?s ?p ?o } WHERE { VALUES (?g) { (<http://x/g>) } ")


def test_graph_store_url_follows_oxigraph_query_to_store():
    assert graph_store_url("http://h:7878/query") == "http://h:7878/store"
    assert graph_store_url("http://h:3030/ds/data") == "http://h:3030/ds/data"


INVALID_TASK = Path(__file__).parent / "fixtures" / "invalid" / "task-without-duty.ttl"


def test_load_refuses_data_that_breaks_the_shapes_and_writes_nothing(tmp_path, capsys):
    store = tmp_path / "kg"
    assert main(["load", "--into", str(store), str(INVALID_TASK)]) == 1
    err = capsys.readouterr().err
    assert "task-without-duty.ttl: does not conform to the shapes" in err
    assert len(err.strip().splitlines()) == 1
    assert not store.exists()


def test_a_validated_directory_is_served_without_validating_again(disk_store):
    record = open_store(str(disk_store)).load_record()
    assert record["validated"] is True and record["shapes"] == shapes_digest()
    assert check_served_data(open_store(str(disk_store)), None) is True


def test_serve_refuses_a_directory_loaded_without_validation(tmp_path, capsys):
    store = tmp_path / "kg"
    assert main(["load", "--into", str(store), "--no-validate", str(INVALID_TASK)]) == 0
    assert main(["serve", "--store", str(store), "--port", "1"]) == 1
    err = capsys.readouterr().err
    assert f"{store}: was loaded with --no-validate, refusing to serve it unchecked" in err
    with pytest.raises(ValidationFailed, match="serve it with --no-validate"):
        check_served_data(open_store(str(store)), None)


def test_serve_refuses_a_directory_validated_against_other_shapes(tmp_path):
    store = tmp_path / "kg"
    load_into(str(store))
    record = json.loads((store / LOAD_RECORD).read_text())
    (store / LOAD_RECORD).write_text(json.dumps({**record, "shapes": "0" * 64}))
    with pytest.raises(ValidationFailed, match="validated against other shapes"):
        check_served_data(open_store(str(store)), None)
    (store / LOAD_RECORD).unlink()
    with pytest.raises(ValidationFailed, match="without a record of validation"):
        check_served_data(open_store(str(store)), None)
