"""The JSON-LD context: compact keys for the ontology's terms and the data's vocabulary.

Built from the store, never from a hand-written list: every class and property the ontology
defines gets a bare key, typed by its declaration (object properties hold IRIs, a datatype range
coerces values, `rdf:langString` gives a language map); every other property the data uses gets
a bare key too, typed by what its values actually are, unless its local name is taken.
"""

import json
from collections import defaultdict

import pyoxigraph as ox

from smartcity_kg.publish.dumps import prefixes
from smartcity_kg.publish.void import namespace
from smartcity_kg.rdf.files import graph_iri
from smartcity_kg.rdf.vocab import OWL, RDF

LANG_STRING = RDF + "langString"
TERMS_QUERY = """
SELECT ?term ?kind ?range WHERE {
  ?term <http://www.w3.org/2000/01/rdf-schema#isDefinedBy> ?ontology ; a ?kind .
  ?ontology a <http://www.w3.org/2002/07/owl#Ontology> .
  OPTIONAL { ?term <http://www.w3.org/2000/01/rdf-schema#range> ?range }
}
"""
USAGE_QUERY = "SELECT ?p ?o WHERE { ?s ?p ?o }"


def build_context(store: ox.Store) -> dict:
    """Return the JSON-LD context document for the store's ontology and data."""
    names = prefixes()
    context: dict = dict(names)
    context.update({"id": "@id", "type": "@type"})
    declared = declared_terms(store)
    for iri, definition in sorted(declared.items(), key=lambda item: _local(item[0])):
        context.setdefault(_local(iri), _compact(definition, names))
    for iri, definition in sorted(observed_terms(store).items()):
        if iri not in declared and _local(iri) not in context:
            context[_local(iri)] = _compact(definition, names)
    return {"@context": context}


def context_bytes(store: ox.Store) -> bytes:
    """Return the context as stable, readable JSON."""
    return json.dumps(build_context(store), ensure_ascii=False, indent=2).encode() + b"\n"


def declared_terms(store: ox.Store) -> dict[str, dict]:
    """Return {term IRI: term definition} for what the ontology declares."""
    kinds: dict[str, set[str]] = defaultdict(set)
    ranges: dict[str, set[str]] = defaultdict(set)
    for row in store.query(TERMS_QUERY, use_default_graph_as_union=True):
        kinds[row["term"].value].add(row["kind"].value)
        if row["range"] is not None:
            ranges[row["term"].value].add(row["range"].value)
    return {iri: _declared(iri, kinds[iri], ranges[iri]) for iri in kinds}


def _declared(iri: str, kinds: set[str], ranges: set[str]) -> dict:
    definition: dict = {"@id": iri}
    only_range = next(iter(ranges)) if len(ranges) == 1 else None
    if OWL + "ObjectProperty" in kinds:
        definition["@type"] = "@id"
    elif only_range == LANG_STRING:
        definition["@container"] = "@language"
    elif only_range and only_range.startswith("http://www.w3.org/2001/XMLSchema#"):
        definition["@type"] = only_range
    return definition


def observed_terms(store: ox.Store) -> dict[str, dict]:
    """Return {property IRI: definition} for properties the data graph uses, typed by values."""
    seen: dict[str, set[str]] = defaultdict(set)
    for row in store.query(USAGE_QUERY, default_graph=ox.NamedNode(graph_iri("data"))):
        seen[row["p"].value].add(_value_kind(row["o"]))
    seen.pop(RDF + "type", None)
    return {iri: _observed(iri, kinds) for iri, kinds in seen.items()}


def _value_kind(term) -> str:
    if isinstance(term, ox.Literal):
        return "@language" if term.language else term.datatype.value
    return "@id"


def _observed(iri: str, kinds: set[str]) -> dict:
    definition: dict = {"@id": iri}
    if len(kinds) == 1:
        (kind,) = kinds
        if kind == "@language":
            definition["@container"] = "@language"
        elif not kind.endswith("#string"):
            definition["@type"] = kind
    return definition


def _compact(definition: dict, names: dict[str, str]) -> dict | str:
    """Shorten IRIs in a term definition with the prefixes; a bare @id stays a string."""
    short = {key: _curie(value, names) for key, value in definition.items()}
    return short["@id"] if len(short) == 1 else short


def _curie(value: str, names: dict[str, str]) -> str:
    for name, iri in names.items():
        if value.startswith(iri) and value != iri:
            return f"{name}:{value[len(iri) :]}"
    return value


def _local(iri: str) -> str:
    return iri[len(namespace(iri)) :]
