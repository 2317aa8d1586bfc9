"""The dumps: deterministic bytes, isomorphic to the store by another parser, gzip, export."""

import gzip
import io
import random
import subprocess
import sys
import threading
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from smartcity_kg.cli.commands import main
from smartcity_kg.publish import dumps as dumps_module
from smartcity_kg.publish.dumps import DUMP_FORMATS, Dumps, dump_name
from smartcity_kg.rdf import formats
from smartcity_kg.rdf.files import GraphSource, load_store, packaged_sources

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDFLIB_FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "rdfxml": "xml",
                  "nq": "nquads", "trig": "trig"}  # fmt: skip


@pytest.fixture(scope="module")
def store(packaged_graph):
    """The packaged graph in the store kind under test (conftest's SMARTCITY_KG_TEST_STORE)."""
    return packaged_graph


@pytest.fixture(scope="module")
def dumps(store):
    return Dumps(store)


def parse_rdflib(target, data: bytes, fmt: str):
    """Parse with rdflib, whose JSON-LD and quad parsers warn about its own deprecated classes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return target.parse(data=data, format=fmt)


def to_rdflib(term):
    """Convert a pyoxigraph term to rdflib without going through any serialiser."""
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == XSD_STRING:  # RDF 1.1: a simple literal is an xsd:string
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def store_graph(store, graph=None) -> rdflib.Graph:
    """Return the union of the store's graphs (or one graph) as an rdflib Graph."""
    result = rdflib.Graph()
    for quad in store.quads_for_pattern(None, None, None, graph):
        if not isinstance(quad.graph_name, ox.DefaultGraph) or graph is not None:
            result.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
    return result


@pytest.mark.parametrize("name", ["ttl", "nt", "jsonld", "rdfxml"])
def test_triple_dump_parsed_by_rdflib_is_isomorphic_to_the_union_of_the_store(store, dumps, name):
    fmt = formats.by_name(name)
    parsed = parse_rdflib(rdflib.Graph(), dumps.get(dump_name(fmt)).data, RDFLIB_FORMATS[name])
    expected = store_graph(store)
    assert len(parsed) == len(expected)
    assert isomorphic(parsed, expected)


@pytest.mark.parametrize("name", ["nq", "trig"])
def test_quad_dump_keeps_every_named_graph_isomorphic_to_the_store(store, dumps, name):
    fmt = formats.by_name(name)
    parsed = rdflib.Dataset()
    parse_rdflib(parsed, dumps.get(dump_name(fmt)).data, RDFLIB_FORMATS[name])
    graphs = sorted(g.value for g in store.named_graphs())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        parsed_graphs = sorted(str(g.identifier) for g in parsed.graphs() if len(g))
    assert parsed_graphs == graphs
    for iri in graphs:
        expected = store_graph(store, ox.NamedNode(iri))
        assert isomorphic(parsed.graph(rdflib.URIRef(iri)), expected), iri


def test_every_dump_is_the_same_bytes_when_the_files_load_in_another_order(dumps):
    reversed_sources = [GraphSource(s.iri, tuple(reversed(s.files)))
                        for s in reversed(packaged_sources())]  # fmt: skip
    again = Dumps(load_store(reversed_sources))
    for name in dumps.names():
        assert again.get(name).data == dumps.get(name).data, name


def test_turtle_is_the_same_bytes_in_a_fresh_process(dumps):
    code = "from smartcity_kg.cli.commands import main; main(['export', '--format', 'ttl'])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == dumps.get("smartcity-kg.ttl").data


def test_gzip_twin_holds_the_plain_bytes_with_no_timestamp_or_name(dumps):
    for name in DUMP_FORMATS:
        plain = dumps.get(dump_name(formats.by_name(name)))
        packed = dumps.get(plain.name + ".gz")
        assert gzip.decompress(packed.data) == plain.data
        assert packed.data[4:8] == b"\0\0\0\0"  # MTIME
        assert packed.data[3] & 0x08 == 0  # no FNAME
        assert packed.content_type == "application/gzip"


def test_turtle_groups_each_subject_once_with_its_type_first(dumps):
    text = dumps.get("smartcity-kg.ttl").data.decode()
    subjects = [line.split(" ", 1)[0] for line in text.splitlines()
                if line and not line.startswith(("\t", "@prefix"))]  # fmt: skip
    assert len(subjects) == len(set(subjects))
    assert "<https://w3id.org/smartcity-kr/institution/kaia> a " in text


def test_a_file_is_serialised_when_first_asked_for_with_only_its_plain_twin(store):
    fresh = Dumps(store)
    assert fresh.ready() == []
    fresh.get("smartcity-kg.trig.gz")
    assert fresh.ready() == ["smartcity-kg.trig", "smartcity-kg.trig.gz"]


def test_each_file_is_serialised_once_however_many_threads_ask_at_once(store, monkeypatch):
    calls = Counter()

    def counted(name, real):
        def call(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)

        return call

    for name in ("canonical_quads", "serialize", "gzip_bytes"):
        monkeypatch.setattr(dumps_module, name, counted(name, getattr(dumps_module, name)))
    fresh = Dumps(store)
    start = threading.Barrier(8)

    def fetch(seed: int) -> dict:
        names = fresh.names()
        random.Random(seed).shuffle(names)
        start.wait()
        return {name: fresh.get(name) for name in names}

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(fetch, range(8)))
    assert calls == {"canonical_quads": 1, "serialize": 6, "gzip_bytes": 6}
    for name in fresh.names():
        assert len({id(answer[name]) for answer in answers}) == 1, name


def test_unknown_download_name_is_not_found(dumps):
    from smartcity_kg.errors import NotFound

    with pytest.raises(NotFound, match=r"smartcity-kg\.ttl"):
        dumps.get("smartcity-kg.csv")


def test_export_writes_the_download_bytes_to_a_file(dumps, tmp_path):
    out = tmp_path / "graph.trig"
    assert main(["export", "--format", "trig", "--output", str(out)]) == 0
    assert out.read_bytes() == dumps.get("smartcity-kg.trig").data


def test_export_writes_to_standard_output(dumps, monkeypatch):
    buffer = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(buffer))
    assert main(["export", "--format", "nt"]) == 0
    assert buffer.getvalue() == dumps.get("smartcity-kg.nt").data


@pytest.mark.parametrize("bad", ["csv", "turtle", ""])
def test_export_refuses_a_bad_format_with_one_line_and_exit_2(bad, capsys):
    assert main(["export", "--format", bad]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "ttl, nt, jsonld, rdfxml, nq, trig" in err
