"""Validate the graph against the packaged SHACL shapes and report the results by resource.

pySHACL works on rdflib graphs, so the data and the ontology leave the pyoxigraph store as
N-Triples bytes, parsed once each. Every file is read by pyoxigraph first, so a syntax error
names the file and line however the file came in. The ontology is pySHACL's `ont_graph` and
inference is off: sh:class and sh:targetClass already follow rdfs:subClassOf in the mixed-in
ontology, while RDFS inference would type every skg:servesDuty value as a skg:StatutoryDuty
(the property's range) and so hide the very errors the core rule is there to find.

Severity decides conformance: violations fail, warnings are reported but do not.
"""

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import rdflib
from rdflib import RDF, BNode, Namespace, URIRef
from rdflib.collection import Collection

from smartcity_kg.paths import turtle_files
from smartcity_kg.rdf.files import graph_iri, load_file

SH = Namespace("http://www.w3.org/ns/shacl#")
PREFIXES = {
    "skg": "https://w3id.org/smartcity-kr/def#",
    "skgsh": "https://w3id.org/smartcity-kr/shapes#",
    "eli": "http://data.europa.eu/eli/ontology#",
    "org": "http://www.w3.org/ns/org#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dct": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "sh": str(SH),
}
SEVERITIES = ("Violation", "Warning", "Info")


@dataclass(frozen=True)
class Result:
    """One SHACL result, its terms written as Turtle (IRIs of the focus resource in full)."""

    focus: str
    severity: str  # Violation, Warning or Info
    message: str
    path: str | None
    value: str | None
    shape: str  # the named shape the result comes from, e.g. skgsh:AssignedTaskShape
    component: str  # the SHACL constraint component, e.g. sh:MinCountConstraintComponent


@dataclass(frozen=True)
class Report:
    """The outcome of one validation: results, and the SHACL report graph behind them."""

    results: tuple[Result, ...]
    graph: rdflib.Graph = field(repr=False, compare=False)

    @property
    def conforms(self) -> bool:
        """True when no result is a violation; warnings alone do not fail."""
        return not self.violations

    @property
    def violations(self) -> tuple[Result, ...]:
        return tuple(r for r in self.results if r.severity == "Violation")

    @property
    def warnings(self) -> tuple[Result, ...]:
        return tuple(r for r in self.results if r.severity == "Warning")

    def by_focus(self) -> dict[str, tuple[Result, ...]]:
        """Group the results by focus resource, in a stable order."""
        groups: dict[str, list[Result]] = {}
        for result in self.results:
            groups.setdefault(result.focus, []).append(result)
        return {focus: tuple(results) for focus, results in groups.items()}

    def to_text(self) -> str:
        """Return a report for people: a summary line, then each resource and its results."""
        verdict = "conforms" if self.conforms else "does not conform"
        lines = [
            f"Validation {verdict}: {len(self.violations)} violation(s), "
            f"{len(self.warnings)} warning(s) on {len(self.by_focus())} resource(s)."
        ]
        for focus, results in self.by_focus().items():
            lines += ["", focus]
            for result in results:
                lines.append(f"  {result.severity}: {result.message}")
                details = [("path", result.path), ("value", result.value), ("shape", result.shape)]
                lines += [f"      {name}: {text}" for name, text in details if text]
        return "\n".join(lines) + "\n"

    def to_turtle(self) -> str:
        """Return the SHACL validation report graph as Turtle."""
        return self.graph.serialize(format="turtle")


def validate_files(paths: Iterable[Path], progress=None) -> Report:
    """Validate the given RDF files together with the packaged ontology (not the packaged data).

    To check an addition to the shipped graph, pass the packaged data files along with it.
    `progress` is called with the size of each chunk of the files read.
    """
    scratch = ox.Store()
    for path in paths:
        load_file(scratch, Path(path), graph_iri("data"), progress)
    return validate_store(as_data_store(scratch))


def as_data_store(store: ox.Store) -> ox.Store:
    """Return the packaged ontology plus every triple of `store`, all of them as data.

    A quad file (TriG, N-Quads) keeps its own named graphs when loaded; flattening them into
    the data graph means no triple can slip past the shapes in a graph of its own.
    """
    combined = ox.Store()
    for path in turtle_files("ontology"):
        load_file(combined, path, graph_iri("ontology"))
    data = ox.NamedNode(graph_iri("data"))
    combined.extend(ox.Quad(q.subject, q.predicate, q.object, data) for q in store)
    return combined


def validate_store(
    store: ox.Store, *, data_graph: str | None = None, ontology_graph: str | None = None
) -> Report:
    """Validate the data named graph of `store`, with its ontology graph mixed in."""
    data = _rdflib_graph(store, data_graph or graph_iri("data"))
    ontology = _rdflib_graph(store, ontology_graph or graph_iri("ontology"))
    shapes = load_shapes()
    with _quiet_ill_typed_literals():
        _, report_graph, _ = pyshacl.validate(
            data,
            shacl_graph=shapes,
            ont_graph=ontology,
            inference="none",
            allow_warnings=True,  # the report graph then says sh:conforms as Report does
        )
    for prefix, namespace in PREFIXES.items():
        report_graph.bind(prefix, namespace)
    return Report(tuple(_results(report_graph, shapes, data)), report_graph)


def load_shapes() -> rdflib.Graph:
    """Return the packaged shapes (violations and warnings) as one rdflib graph."""
    store = ox.Store()
    for path in turtle_files("shapes"):
        load_file(store, path, graph_iri("shapes"))
    return _rdflib_graph(store, graph_iri("shapes"))


def _rdflib_graph(store: ox.Store, graph: str) -> rdflib.Graph:
    """Copy one named graph out of the store: N-Triples bytes beat converting term by term."""
    data = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))
    result = rdflib.Graph()
    with _quiet_ill_typed_literals():
        result.parse(data=data, format="nt")
    for prefix, namespace in PREFIXES.items():
        result.bind(prefix, namespace)
    return result


class _IllTypedLiteralFilter(logging.Filter):
    """Drop rdflib's log record for a literal like "2023-13-45"^^xsd:date."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to convert Literal lexical form")


@contextmanager
def _quiet_ill_typed_literals() -> Iterator[None]:
    """Silence rdflib about ill-typed literals while validating.

    sh:datatype reports them as violations with file-independent context; rdflib's own log
    record (with a traceback) would only break the one-line error contract of the CLI.
    """
    logger, quiet = logging.getLogger("rdflib.term"), _IllTypedLiteralFilter()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def _results(report: rdflib.Graph, shapes: rdflib.Graph, data: rdflib.Graph) -> list[Result]:
    """Read the results out of a SHACL report graph, sorted by focus then severity."""
    results = []
    for node in report.objects(None, SH.result):  # not the nested sh:detail results
        value = report.value(node, SH.value)
        path = report.value(node, SH.resultPath)
        messages = sorted(str(m) for m in report.objects(node, SH.resultMessage))
        results.append(
            Result(
                focus=_describe_focus(data, report.value(node, SH.focusNode)),
                severity=_local_name(report.value(node, SH.resultSeverity)),
                message=" ".join(messages) or "(no message)",
                path=_render_path(report, path) if path is not None else None,
                value=_render(report, value) if value is not None else None,
                shape=_named_shape(shapes, report.value(node, SH.sourceShape)),
                component=_render(report, report.value(node, SH.sourceConstraintComponent)),
            )
        )
    return sorted(results, key=lambda r: (r.focus, SEVERITIES.index(r.severity), r.message))


def _describe_focus(data: rdflib.Graph, node) -> str:
    """Name a focus node: an IRI in full; an anonymous statement annotation by what it is about."""
    if not isinstance(node, BNode):
        return str(node)
    subject, predicate = data.value(node, RDF.subject), data.value(node, RDF.predicate)
    if subject is None:
        return f"_:{node}"
    return f"[ rdf:Statement about {subject.n3()} {_render(data, predicate)} ]"


def _named_shape(shapes: rdflib.Graph, shape) -> str:
    """Return the nearest named shape: a blank property shape reports its node shape."""
    seen = set()
    while isinstance(shape, BNode) and shape not in seen:
        seen.add(shape)
        shape = next(shapes.subjects(None, shape), shape)  # sh:property, sh:node, list cell ...
    return _render(shapes, shape)


def _render_path(graph: rdflib.Graph, path) -> str:
    """Write a SHACL property path the way SPARQL does: p, ^p, p1/p2."""
    if isinstance(path, URIRef):
        return _render(graph, path)
    inverse = graph.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + _render_path(graph, inverse)
    if graph.value(path, RDF.first) is not None:
        return "/".join(_render_path(graph, step) for step in Collection(graph, path))
    return _render(graph, path)


def _render(graph: rdflib.Graph, term) -> str:
    """Write a term as Turtle, with the graph's prefixes."""
    return term.n3(graph.namespace_manager)


def _local_name(term) -> str:
    return str(term).rsplit("#", 1)[-1]
