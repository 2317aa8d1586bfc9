"""Files a user hands us: an RDF/XML DOCTYPE never reaches the parser (billion laughs).

pyoxigraph's RDF/XML parser expands the entities of a DOCTYPE without bound, wherever the
DOCTYPE appears; 762 bytes of nested entities made every command that reads files allocate
4.8 GB and abort. Each command runs in a subprocess capped at 1 GB of address space, so a
regression fails fast (the parser aborts) instead of taking the machine's memory.
"""

import io
import subprocess
import sys

import pyoxigraph as ox
import pytest

from smartcity_kg.errors import DoctypeRefused
from smartcity_kg.rdf.files import DoctypeGuard, load_file
from support.processes import run_bounded

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
ADDRESS_SPACE = 1 << 30  # bytes: a whole `load --into` fits; the expansion does not
DESCRIPTION = '<rdf:Description rdf:about="http://example.org/a"><rdf:value>{}</rdf:value>'


def billion_laughs() -> str:
    """Return ten nested entities, each ten of the one before: 10^9 "lol"s from under a kilobyte."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n' + "\n".join(entities) + "\n]>\n"
        f'<rdf:RDF xmlns:rdf="{RDF}">\n'
        + DESCRIPTION.format("&lol9;")
        + "</rdf:Description>\n</rdf:RDF>\n"
    )


def rdf_xml(body: str, prologue: str = "") -> str:
    return f'<?xml version="1.0"?>\n{prologue}<rdf:RDF xmlns:rdf="{RDF}">\n{body}\n</rdf:RDF>\n'


# The child caps itself before it imports anything (no preexec_fn: fork with threads).
CAPPED = (
    "import resource, runpy, sys; "
    f"resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE})); "
    "runpy.run_module('smartcity_kg.cli', run_name='__main__')"
)


def smartcity_kg(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the CLI capped; past `timeout` (a server that started) stop it and all it forked."""
    return run_bounded([sys.executable, "-c", CAPPED, *args], timeout)


@pytest.fixture
def bomb(tmp_path):
    path = tmp_path / "bomb.rdf"
    path.write_text(billion_laughs())
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["validate"],
        ["load", "--into", "{store}"],
        ["load", "--no-validate", "--into", "{store}"],
        ["coverage", "--with"],
        ["serve", "--port", "0", "--data"],
    ],
    ids=["validate", "load", "load-no-validate", "coverage-with", "serve-data"],
)
def test_every_command_refuses_a_billion_laughs_in_one_line(command, bomb, tmp_path):
    store = tmp_path / "kg"
    answer = smartcity_kg(*(arg.format(store=store) for arg in command), str(bomb))
    assert answer.returncode == 2, answer.stderr[-2000:]
    assert answer.stderr.count("\n") == 1
    assert answer.stderr.startswith(f"smartcity-kg: error: {bomb}:2: RDF/XML with a DOCTYPE")
    assert not store.exists() and not (tmp_path / "kg.loading").exists()


def test_a_doctype_inside_the_root_element_is_refused_too(tmp_path):
    # the parser reads a DOCTYPE's entities wherever it appears, so a look at the prologue
    # alone would let this one through
    path = tmp_path / "inside.rdf"
    body = '<!doctype x [<!ENTITY e "http://example.org/">]>' + DESCRIPTION.format("&e;")
    path.write_text(rdf_xml(body + "</rdf:Description>"))
    with pytest.raises(DoctypeRefused, match=r"inside\.rdf:3: RDF/XML with a DOCTYPE"):
        load_file(ox.Store(), path, "http://example.org/g")


def test_a_doctype_without_entities_is_refused_as_well(tmp_path):
    # chosen: RDF/XML needs no DTD, and telling a harmless DOCTYPE from another means
    # parsing DTD syntax; refusing every one keeps the rule simple to state and to check
    path = tmp_path / "plain-doctype.rdf"
    path.write_text(rdf_xml(DESCRIPTION.format("v") + "</rdf:Description>", "<!DOCTYPE rdf:RDF>\n"))
    with pytest.raises(DoctypeRefused):
        load_file(ox.Store(), path, "http://example.org/g")


def test_rdf_xml_without_a_doctype_still_loads(tmp_path):
    path = tmp_path / "plain.rdf"
    path.write_text(rdf_xml(DESCRIPTION.format("&lt;!DOCTYPE is text here") + "</rdf:Description>"))
    store = ox.Store()
    load_file(store, path, "http://example.org/g")
    assert [q.object.value for q in store] == ["<!DOCTYPE is text here"]


@pytest.mark.parametrize("cut", range(1, 9))
def test_a_doctype_cut_by_a_chunk_boundary_is_found(cut):
    text = b"<rdf:RDF>\n\n" + b"<!DOCTYPE x>"
    boundary = text.index(b"<!") + cut
    guard = DoctypeGuard(Chunks(text[:boundary], text[boundary:]), "cut.rdf")
    assert guard.readinto(bytearray(100)) == boundary  # the first part holds no DOCTYPE yet
    with pytest.raises(DoctypeRefused, match=r"cut\.rdf:3:"):
        guard.readinto(bytearray(100))


class Chunks(io.RawIOBase):
    """A raw reader that returns the given chunks one per read."""

    def __init__(self, *chunks: bytes):
        self._chunks = list(chunks)

    def readinto(self, buffer) -> int:
        chunk = self._chunks.pop(0) if self._chunks else b""
        buffer[: len(chunk)] = chunk
        return len(chunk)
