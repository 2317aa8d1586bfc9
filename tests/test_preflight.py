"""Refusing data before it is served: which file, which node, which shape."""

from pathlib import Path

import pytest

from smartcity_kg.errors import ValidationFailed
from smartcity_kg.quality.preflight import check_served_data
from smartcity_kg.rdf.files import file_sources, load_store

INVALID = Path(__file__).parent / "fixtures" / "invalid"


def served(*paths: Path):
    sources = file_sources(paths)
    return load_store(sources), sources


def test_the_file_holding_the_failing_node_is_named(tmp_path):
    fine = tmp_path / "fine.nt"
    fine.write_text('<http://ex/a> <http://ex/p> "x" .\n')
    bad = INVALID / "task-without-duty.ttl"
    with pytest.raises(ValidationFailed) as caught:
        check_served_data(*served(fine, bad))
    message = caught.value.message
    assert message.startswith(f"{bad}: does not conform to the shapes")
    assert "4 violation(s)" in message and "fails skgsh:AssignedTaskShape" in message
    assert "\n" not in message and caught.value.exit_code == 1


def test_triples_in_a_named_graph_of_a_quad_file_are_checked_too(tmp_path):
    lines = (INVALID / "task-without-duty.ttl").read_text().splitlines()
    directives = [line for line in lines if line.startswith("@")]
    body = [line for line in lines if not line.startswith(("@", "#"))]
    trig = tmp_path / "hidden.trig"
    trig.write_text("\n".join([*directives, "<http://ex/g> {", *body, "}"]) + "\n")
    with pytest.raises(ValidationFailed, match=r"hidden\.trig: does not conform"):
        check_served_data(*served(trig))


def test_foreign_data_that_breaks_no_shape_is_served(w3c_graphs_nq):
    assert check_served_data(*served(w3c_graphs_nq)) is True


def test_a_store_not_loaded_here_is_not_checked():
    assert check_served_data(object(), None) is None
