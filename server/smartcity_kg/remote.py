"""A remote SPARQL 1.1 endpoint used as the store (`--store URL`), and uploads to one.

`RemoteStore` offers the part of pyoxigraph's `Store` API the rest of the package uses (`query`
with the same keyword options and result objects, iteration over quads, `len`, `named_graphs`,
`dump`), so the engine's workers, the linked-data pages and the coverage analysis run unchanged
over Oxigraph server, Apache Jena Fuseki, Virtuoso or QLever. Queries travel by the SPARQL 1.1
Protocol (POST, form-encoded) and come back as SPARQL JSON results or N-Triples, parsed by
pyoxigraph. The union of the named graphs, which the embedded store gives with
`use_default_graph_as_union`, is asked for portably: every named graph is named both as a
default graph and as a named graph of the request's dataset.

`upload` sends graphs with the SPARQL 1.1 Graph Store HTTP Protocol: one PUT per named graph
(`?graph=IRI`), which replaces that graph, so a repeated load gives the same store.
"""

import copy
import io
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator

import pyoxigraph as ox

from . import __version__, sparql
from .errors import InputError, QueryTimeout, StoreUnavailable
from .progress import CountingReader

ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"
QUADS_QUERY = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
DEFAULT_QUADS_QUERY = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
COUNT_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
GRAPHS_QUERY = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
GRAPH_QUERY = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"
USER_AGENT = f"smartcity-kg/{__version__}"


def is_url(spec: str) -> bool:
    """Return whether a store spec names a remote endpoint rather than a directory."""
    return spec.startswith(("http://", "https://"))


class RemoteStore:
    """A read-only view of the dataset behind a SPARQL 1.1 query endpoint."""

    def __init__(self, url: str, *, timeout: float = 10.0):
        self.url = url
        self.timeout = timeout  # seconds an HTTP request may take
        self._graphs: list[ox.NamedNode] | None = None
        self._size: int | None = None

    def with_timeout(self, timeout: float) -> "RemoteStore":
        """Return a view of the same endpoint whose requests have another time limit."""
        limited = copy.copy(self)
        limited.timeout = timeout
        return limited

    def __repr__(self) -> str:
        return f"RemoteStore({self.url!r})"

    def query(
        self,
        query: str,
        *,
        use_default_graph_as_union: bool = False,
        default_graph=None,
        named_graphs=None,
        substitutions: dict | None = None,
    ):
        """Run `query` at the endpoint; return pyoxigraph's result object for its form."""
        if substitutions:
            query = bind_values(query, substitutions)
        params = [("query", query)]
        if use_default_graph_as_union:
            default_graph = self.named_graphs()
            if _uses_graph(query):  # naming them as named graphs too slows some endpoints
                named_graphs = default_graph
        params += [("default-graph-uri", g.value) for g in _listed(default_graph)]
        params += [("named-graph-uri", g.value) for g in _listed(named_graphs)]
        body, media_type = self._post(params)
        results_format = ox.QueryResultsFormat.from_media_type(media_type)
        if results_format is not None:
            return ox.parse_query_results(body, format=results_format)
        rdf_format = ox.RdfFormat.from_media_type(media_type)
        if rdf_format is None:
            raise StoreUnavailable(f"{self.url} answered with an unreadable type {media_type!r}")
        return iter([quad.triple for quad in ox.parse(body, format=rdf_format)])

    def named_graphs(self) -> list[ox.NamedNode]:
        """Return the IRIs of the endpoint's named graphs (asked once: the data is immutable)."""
        if self._graphs is None:
            rows = self.query(GRAPHS_QUERY)
            self._graphs = sorted((r["g"] for r in rows if isinstance(r["g"], ox.NamedNode)),
                                  key=str)  # fmt: skip
        return list(self._graphs)

    def __iter__(self) -> Iterator[ox.Quad]:
        return self.quads_for_pattern(None, None, None)

    def quads_for_pattern(self, subject, predicate, object, graph_name=None) -> Iterator[ox.Quad]:
        """Yield the quads matching the terms given (None matches anything)."""
        if isinstance(graph_name, ox.DefaultGraph):
            rows = self.query(DEFAULT_QUADS_QUERY, substitutions=_bound(subject, predicate, object))
        else:
            terms = _bound(subject, predicate, object, graph_name)
            rows = self.query(QUADS_QUERY, substitutions=terms)
        for row in rows:
            yield ox.Quad(*_pick(row, subject, predicate, object, graph_name))

    def __len__(self) -> int:
        if self._size is None:
            self._size = int(next(iter(self.query(COUNT_QUERY)))["n"].value)
        return self._size

    def dump(self, *, format: ox.RdfFormat, from_graph: ox.NamedNode) -> bytes:
        """Return one named graph serialised in `format`."""
        triples = self.query(GRAPH_QUERY, substitutions={ox.Variable("g"): from_graph})
        return ox.serialize(list(triples), format=format)

    def _post(self, params: list[tuple[str, str]]) -> tuple[bytes, str]:
        request = urllib.request.Request(
            self.url,
            data=urllib.parse.urlencode(params).encode(),
            headers={"Accept": ACCEPT, "User-Agent": USER_AGENT,
                     "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        return _fetch(request, self.timeout, self.url)


def bind_values(query: str, substitutions: dict) -> str:
    """Bind variables with a VALUES block opening the WHERE group and each subquery's.

    An endpoint takes only text; a block in every group (not pasted terms) gives the answers
    pyoxigraph's substitutions give, which bind the variables in subqueries too.
    """
    starts = sparql.where_group_starts(query)
    if not starts:
        raise InputError("cannot bind variables in a query without a group pattern")
    names = " ".join(str(v) for v in substitutions)
    values = " ".join(str(t) for t in substitutions.values())
    block = f" VALUES ({names}) {{ ({values}) }} "
    for start in reversed(starts):
        query = query[:start] + block + query[start:]
    return query


def graph_store_url(url: str) -> str:
    """Return the Graph Store endpoint for `url`: Oxigraph's `/query` becomes its `/store`."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path
    if path.endswith("/query"):
        path = path[: -len("query")] + "store"
    return urllib.parse.urlunsplit(parts._replace(path=path))


def upload(
    url: str,
    graphs: dict[str, bytes],
    *,
    timeout: float = 600.0,
    progress: Callable[[int], None] | None = None,
) -> None:
    """PUT each graph's N-Triples to the Graph Store at `url` (None: the default graph)."""
    store_url = graph_store_url(url)
    for iri, data in graphs.items():
        query = "default" if iri is None else urllib.parse.urlencode({"graph": iri})
        request = urllib.request.Request(
            f"{store_url}?{query}",
            data=CountingReader(io.BytesIO(data), progress),
            method="PUT",
            headers={"Content-Type": "application/n-triples", "Content-Length": str(len(data)),
                     "User-Agent": USER_AGENT},
        )  # fmt: skip
        _fetch(request, timeout, store_url)


def _fetch(request: urllib.request.Request, timeout: float, url: str) -> tuple[bytes, str]:
    """Send `request`; return the body and its media type, or raise one of our errors."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read(), response.headers.get_content_type()
    except urllib.error.HTTPError as error:
        detail = error.read(2000).decode("utf-8", "replace").strip()
        if error.code == 400 and request.get_method() == "POST":
            raise SyntaxError(detail) from None  # as pyoxigraph's Store.query reports it
        raise StoreUnavailable(f"{url} answered {error.code}: {detail}") from None
    except (TimeoutError, urllib.error.URLError) as error:
        if isinstance(error, TimeoutError) or isinstance(error.reason, TimeoutError):
            raise QueryTimeout(
                f"the store at {url} did not answer within the {timeout:g} s time limit"
            ) from None
        raise StoreUnavailable(f"cannot reach the store at {url}: {error.reason}") from None


def _bound(*terms) -> dict:
    """Return substitutions for the terms of a pattern (?s ?p ?o ?g) that are given."""
    return {ox.Variable(v): t for v, t in zip("spog", terms, strict=False) if t is not None}


def _pick(row, *terms) -> list:
    """Return a quad's terms: the pattern's own where given, else the row's."""
    found = [t if t is not None else row[v] for v, t in zip("spo", terms, strict=False)]
    graph = terms[3]
    return [*found, graph if graph is not None else row["g"]]


def _uses_graph(query: str) -> bool:
    return any(t.keyword == "GRAPH" for t in sparql.tokenize(query))


def _listed(graphs) -> list:
    if graphs is None:
        return []
    return list(graphs) if isinstance(graphs, list | tuple) else [graphs]
