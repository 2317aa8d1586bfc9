"""The benchmark's graph generator (bench/generate.py): deterministic, sized, conforming."""

import importlib.util
from pathlib import Path

import pyoxigraph as ox
import pytest

from smartcity_kg.quality import shacl as validate
from smartcity_kg.rdf.files import load_file

GENERATOR = Path(__file__).resolve().parents[1] / "bench" / "generate.py"
SIZE = 5_000


def load_generator():
    spec = importlib.util.spec_from_file_location("bench_generate", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = load_generator()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seed-1")
    generate.generate(SIZE, 1, folder)
    return folder


def contents(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_same_seed_writes_the_same_bytes(generated, tmp_path):
    generate.generate(SIZE, 1, tmp_path)
    assert contents(tmp_path) == contents(generated)


def test_another_seed_writes_other_bytes(generated, tmp_path):
    generate.generate(SIZE, 2, tmp_path)
    assert contents(tmp_path)["synthetic.nt"] != contents(generated)["synthetic.nt"]


def test_graph_holds_the_requested_triples_within_ten_percent(generated):
    store = ox.Store()
    for path in generate.data_files(generated):
        load_file(store, path, "urn:example:data")
    assert 0.9 * SIZE <= len(store) <= 1.1 * SIZE


def test_synthetic_part_is_most_of_a_large_graph(tmp_path):
    result = generate.generate(20_000, 1, tmp_path)
    synthetic = sum(1 for _ in ox.parse(path=str(tmp_path / "synthetic.nt")))
    assert synthetic > 0.8 * result.triples


def test_generated_graph_conforms_to_the_shapes(generated):
    report = validate.validate_files(generate.data_files(generated))
    assert report.conforms, report.to_text()[:2000]
    assert not report.warnings, report.to_text()[:2000]
