"""What a resource page shows, in one language, built from a description (no HTML here).

Labels are picked in the reader's language with the other language as a fallback; IRIs under
the base become local links, so pages work on any host. Legal provisions bring their text
(`eli:is_realized_by` → `skg:provisionText`, parts in order) and what depends on them; tasks
bring their institution, duties with the written reason, and the source sentence.
"""

import re
from dataclasses import dataclass, field

import pyoxigraph as ox

from smartcity_kg.publish.describe import LABELS, Describer, Description
from smartcity_kg.publish.dumps import prefixes
from smartcity_kg.rdf.vocab import ELI, RDF_TYPE

SKG = "def#"  # relative to the base: the ontology's hash namespace
LANGUAGES = ("en", "ko")


def _eli(term: str) -> ox.NamedNode:
    return ox.NamedNode(ELI + term)


@dataclass(frozen=True)
class Link:
    iri: str
    label: str
    href: str
    lang: str | None = None


@dataclass(frozen=True)
class Value:
    text: str
    lang: str | None = None
    datatype: str | None = None
    link: Link | None = None


@dataclass
class Section:
    """One resource of a document: the document's own, or one of its hash IRIs."""

    iri: str
    anchor: str
    title: str
    title_lang: str | None
    other_titles: list[Value]
    types: list[Link]
    properties: list[tuple[Link, list[Value]]]


@dataclass
class Part:
    """A legal provision with its text in the reader's language and its parts."""

    link: Link
    text: Value | None
    parts: list["Part"] = field(default_factory=list)


@dataclass
class DutyView:
    duty: Link
    reason: Value | None
    ambiguous: bool | None


@dataclass
class ResourceView:
    iri: str
    lang: str
    sections: list[Section]
    incoming: list[tuple[Link, Link]]
    provision: Part | None = None
    institutions: list[Link] = field(default_factory=list)
    duties: list[DutyView] = field(default_factory=list)
    source_sentences: list[Value] = field(default_factory=list)
    serving_tasks: list[Link] = field(default_factory=list)


class Viewer:
    """Turn descriptions into views for one language."""

    def __init__(self, describer: Describer, lang: str, script_root: str = ""):
        self.d = describer
        self.lang = lang
        self.root = script_root
        self.skg = describer.base + SKG

    def view(self, description: Description) -> ResourceView:
        """Return the page model of a document: its sections, incoming links and specifics."""
        nodes = [ox.NamedNode(r) for r in description.resources]
        own = [t for t in description.triples if t.subject in nodes]
        sections = [
            self.section(node, own) for node in nodes if any(t.subject == node for t in own)
        ]
        incoming = sorted(
            {
                (self.link(t.subject), self.link(t.predicate))
                for t in description.triples
                if t.object in nodes
                and isinstance(t.subject, ox.NamedNode)
                and t.subject not in nodes
            },
            key=lambda pair: (pair[1].label, pair[0].label),
        )
        view = ResourceView(description.document, self.lang, sections, incoming)
        main = ox.NamedNode(description.document)
        if self.d.objects(main, _eli("is_realized_by")) or self.d.objects(main, _eli("has_part")):
            view.provision = self.provision(main)
            view.serving_tasks = self.serving_tasks(main)
        self._task(view, main)
        return view

    def section(self, node: ox.NamedNode, own: list[ox.Triple]) -> Section:
        mine = [t for t in own if t.subject == node]
        title = self.pick([t.object for t in mine if t.predicate in LABELS])
        others = [
            Value(t.object.value, t.object.language)
            for t in mine
            if t.predicate in LABELS and title and t.object.language != title.lang
        ]
        grouped: dict[ox.NamedNode, list] = {}
        for t in mine:
            if t.predicate != RDF_TYPE:
                grouped.setdefault(t.predicate, []).append(t.object)
        properties = [
            (self.link(p), [self.value(o) for o in sorted(objs, key=str)])
            for p, objs in grouped.items()
        ]
        properties.sort(key=lambda row: row[0].label.lower())
        return Section(
            iri=node.value,
            anchor=node.value.split("#", 1)[1] if "#" in node.value else "",
            title=title.text if title else self.compact(node.value),
            title_lang=title.lang if title else None,
            other_titles=others,
            types=[self.link(t.object) for t in mine if t.predicate == RDF_TYPE],
            properties=properties,
        )

    def provision(self, node: ox.NamedNode, depth: int = 0) -> Part:
        """Return a provision's text in the reader's language, with its parts in order."""
        texts = [
            text
            for expression in self.d.objects(node, _eli("is_realized_by"))
            for text in self.d.objects(expression, ox.NamedNode(self.skg + "provisionText"))
        ]
        parts = self.d.objects(node, _eli("has_part")) if depth < 3 else []
        parts.sort(key=lambda p: _number_key(self.d.objects(p, _eli("number"))))
        return Part(
            self.link(node), self.pick(texts), [self.provision(p, depth + 1) for p in parts]
        )

    def serving_tasks(self, node: ox.NamedNode) -> list[Link]:
        """Return the tasks that serve a duty this provision or one of its parts establishes."""
        provisions, pending = set(), [node]
        while pending:
            current = pending.pop()
            if current not in provisions:
                provisions.add(current)
                pending += self.d.objects(current, _eli("has_part"))
        established = ox.NamedNode(self.skg + "establishedBy")
        duties = {duty for p in provisions for duty in self.d.subjects(established, p)}
        serves = ox.NamedNode(self.skg + "servesDuty")
        tasks = {t for duty in duties for t in self.d.subjects(serves, duty)}
        return sorted((self.link(t) for t in tasks), key=lambda link: link.label)

    def _task(self, view: ResourceView, node: ox.NamedNode) -> None:
        skg = self.skg
        view.institutions = [
            self.link(o) for o in self.d.objects(node, ox.NamedNode(skg + "assignedTo"))
        ]
        view.source_sentences = [
            self.value(o) for o in self.d.objects(node, ox.NamedNode(skg + "sourceSentence"))
        ]
        for mapping in self.d.objects(node, ox.NamedNode(skg + "qualifiedDutyMapping")):
            for duty in self.d.objects(mapping, ox.NamedNode(skg + "mappedDuty")):
                reason = self.pick(self.d.objects(mapping, ox.NamedNode(skg + "mappingReason")))
                flags = self.d.objects(mapping, ox.NamedNode(skg + "isAmbiguous"))
                ambiguous = flags[0].value == "true" if flags else None
                view.duties.append(DutyView(self.link(duty), reason, ambiguous))

    def pick(self, literals: list) -> Value | None:
        """Return the literal in the reader's language, else another language, else any."""
        literals = [term for term in literals if isinstance(term, ox.Literal)]
        for wanted in (self.lang, *LANGUAGES, None):
            for term in sorted(literals, key=str):
                if wanted is None or term.language == wanted:
                    return Value(term.value, term.language)
        return None

    def link(self, term) -> Link:
        if isinstance(term, ox.BlankNode):
            return Link(str(term), "(anonymous)", "")
        label = self.pick([t.object for t in self.d.labels([term])])
        return Link(
            term.value,
            label.text if label else self.compact(term.value),
            self.href(term.value),
            label.lang if label else None,
        )

    def value(self, term) -> Value:
        if isinstance(term, ox.Literal):
            datatype = None if term.language else self.compact(term.datatype.value)
            return Value(term.value, term.language, datatype)
        link = self.link(term)
        return Value(link.label, link.lang, link=link)

    def href(self, iri: str) -> str:
        """Return a local path for an IRI under the base, else the IRI itself."""
        if iri.startswith(self.d.base):
            return f"{self.root}/{iri[len(self.d.base) :]}"
        return iri

    def compact(self, iri: str) -> str:
        for name, namespace in prefixes().items():
            if iri.startswith(namespace) and iri != namespace:
                return f"{name}:{iri[len(namespace) :]}"
        return iri


def _number_key(numbers: list) -> tuple:
    """Order provisions 1, 2, … 10 and 19-4 after 19: numerically, part by part."""
    text = numbers[0].value if numbers else ""
    return tuple(int(n) for n in re.findall(r"\d+", text)) or (0,)
