"""The `serve` command's wiring: data sources, gunicorn settings, error reporting."""

from pathlib import Path

from smartcity_kg import cli
from smartcity_kg.engine import QueryEngine
from smartcity_kg.serve import GunicornServer, file_sources
from smartcity_kg.web import create_app


def test_data_files_become_graphs_named_by_their_uri(stores, tmp_path, w3c_graphs_nq):
    triples = tmp_path / "x.ttl"
    triples.write_text("<http://ex/a> <http://ex/p> 1 .\n")
    sources = file_sources([triples, w3c_graphs_nq])
    assert sources[0].iri == triples.resolve().as_uri()
    with stores.of_files([triples, w3c_graphs_nq]).engine() as engine:  # as --data or load --into
        graphs = {g.value for g in engine.store.named_graphs()}
    assert triples.resolve().as_uri() in graphs  # triples: the file's graph
    assert "http://kasei.us/2009/09/sparql/data/data1.rdf" in graphs  # quads keep theirs


def test_a_missing_data_file_is_one_line_and_exit_code_2(capsys, tmp_path):
    missing = tmp_path / "absent.ttl"
    assert cli.main(["serve", "--data", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("smartcity-kg: error: ") and str(missing) in err
    assert err.count("\n") == 1


def test_gunicorn_application_takes_the_settings_it_knows(w3c_graphs_nq):
    with QueryEngine(sources=file_sources([Path(w3c_graphs_nq)])) as engine:
        app = create_app(engine=engine)
        server = GunicornServer(app, {"bind": "127.0.0.1:1", "threads": 3, "no_such": 1})
        assert server.cfg.threads == 3 and server.cfg.bind == ["127.0.0.1:1"]
        assert server.load() is app
