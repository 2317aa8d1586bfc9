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

No redirect is followed, to another origin or the same: the data served must be the store's
that was named, and urllib would re-send a POSTed query as a GET without it (301, 302, 303) or
refuse (307, 308), so the message names the target to give as `--store` instead. An answer
that is not what the query asks for (HTML, garbage, JSON that is not SPARQL results, the wrong
form of result) is a StoreUnavailable naming the URL, never a parser's error.
"""

import copy
import http.client
import io
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator

import pyoxigraph as ox

from smartcity_kg import __version__
from smartcity_kg.errors import DoctypeRefused, InputError, QueryTimeout, StoreUnavailable, one_line
from smartcity_kg.progress import CountingReader
from smartcity_kg.rdf import sparql_text
from smartcity_kg.rdf.files import check_no_doctype

ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"
QUADS_QUERY = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
DEFAULT_QUADS_QUERY = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
COUNT_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
GRAPHS_QUERY = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
GRAPH_QUERY = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"
USER_AGENT = f"smartcity-kg/{__version__}"
_COUNT = re.compile(r"[0-9]{1,19}")
_ANSWER_TYPES = {
    sparql_text.QueryForm.SELECT: ox.QuerySolutions,
    sparql_text.QueryForm.ASK: ox.QueryBoolean,
    sparql_text.QueryForm.CONSTRUCT: list,
    sparql_text.QueryForm.DESCRIBE: list,
}


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
        base_iri: str | None = None,
    ):
        """Run `query` at the endpoint; return pyoxigraph's result object for its form.

        A base IRI travels as a BASE declaration before a text that needs one (the protocol has
        no parameter for it).
        """
        if substitutions:
            query = bind_values(query, substitutions)
        if base_iri and _needs_base(query):
            query = f"BASE <{base_iri}>\n{query}"
        params = [("query", query)]
        if use_default_graph_as_union:
            default_graph = self.named_graphs()
            if _uses_graph(query):  # naming them as named graphs too slows some endpoints
                named_graphs = default_graph
        params += [("default-graph-uri", g.value) for g in _listed(default_graph)]
        params += [("named-graph-uri", g.value) for g in _listed(named_graphs)]
        body, media_type = self._post(params)
        return self._read(body, media_type, sparql_text.inspect(query).form)

    def _read(self, body: bytes, media_type: str, form: sparql_text.QueryForm | None):
        """Parse an answer, checking it is the kind of result `form` gives."""
        results_format = ox.QueryResultsFormat.from_media_type(media_type)
        rdf_format = ox.RdfFormat.from_media_type(media_type)
        if results_format is None and rdf_format is None:
            raise self._malformed(f"an unreadable type {media_type!r}")
        wanted = _ANSWER_TYPES.get(form, (ox.QueryBoolean, ox.QuerySolutions, list))
        try:
            if results_format is not None:
                result = _checked_results(body, results_format)
            else:
                check_no_doctype(body, rdf_format, self.url)  # a hostile store's billion laughs
                result = [quad.triple for quad in ox.parse(body, format=rdf_format)]
        except DoctypeRefused:
            raise self._malformed("RDF/XML with a DOCTYPE, refused unread") from None
        except (SyntaxError, ValueError) as error:
            raise self._malformed(f"{media_type} that does not parse ({error})") from None
        if not isinstance(result, wanted):
            raise self._malformed(f"{_describe(result)} to a {form.value} query")
        return iter(result) if isinstance(result, list) else result

    def _malformed(self, what: str) -> StoreUnavailable:
        return StoreUnavailable(f"the store at {self.url} answered {one_line(what)[:300]}")

    def _own_query(self, query: str, **options):
        """Run one of our own queries: a store refusing it (400) is broken, not the user."""
        try:
            return self.query(query, **options)
        except SyntaxError as error:
            raise self._malformed(f"400 to a query of ours ({error})") from None

    def named_graphs(self) -> list[ox.NamedNode]:
        """Return the IRIs of the endpoint's named graphs (asked once: the data is immutable)."""
        if self._graphs is None:
            graphs = [row["g"] for row in self._own_query(GRAPHS_QUERY)]
            if not all(isinstance(g, ox.NamedNode | ox.BlankNode) for g in graphs):
                raise self._malformed("a graph name that is not an IRI")
            self._graphs = sorted((g for g in graphs if isinstance(g, ox.NamedNode)), key=str)
        return list(self._graphs)

    def __iter__(self) -> Iterator[ox.Quad]:
        return self.quads_for_pattern(None, None, None)

    def quads_for_pattern(self, subject, predicate, object, graph_name=None) -> Iterator[ox.Quad]:
        """Yield the quads matching the terms given (None matches anything)."""
        if isinstance(graph_name, ox.DefaultGraph):
            terms = _bound(subject, predicate, object)
            rows = self._own_query(DEFAULT_QUADS_QUERY, substitutions=terms)
        else:
            terms = _bound(subject, predicate, object, graph_name)
            rows = self._own_query(QUADS_QUERY, substitutions=terms)
        for row in rows:
            try:
                yield ox.Quad(*_pick(row, subject, predicate, object, graph_name))
            except TypeError:
                raise self._malformed(f"a row that is not a quad: {row}") from None

    def __len__(self) -> int:
        if self._size is None:
            row = next(iter(self._own_query(COUNT_QUERY)), None)
            count = row["n"] if row is not None else None
            if not isinstance(count, ox.Literal) or not _COUNT.fullmatch(count.value):
                raise self._malformed(f"a count of {count} quads, not a number")
            self._size = int(count.value)
        return self._size

    def dump(self, *, format: ox.RdfFormat, from_graph: ox.NamedNode) -> bytes:
        """Return one named graph serialised in `format`."""
        triples = self._own_query(GRAPH_QUERY, substitutions={ox.Variable("g"): from_graph})
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
    starts = sparql_text.where_group_starts(query)
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


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Follow no redirect: urllib then raises HTTPError with the 3xx, which _fetch reports."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_RefuseRedirects)


def _fetch(request: urllib.request.Request, timeout: float, url: str) -> tuple[bytes, str]:
    """Send `request`; return the body and its media type, or raise one of our errors."""
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.read(), response.headers.get_content_type()
    except urllib.error.HTTPError as error:
        with error:  # its socket, else left open
            raise _refusal(request, error, url) from None
    except (TimeoutError, urllib.error.URLError) as error:
        if isinstance(error, TimeoutError) or isinstance(error.reason, TimeoutError):
            raise QueryTimeout(
                f"the store at {url} did not answer within the {timeout:g} s time limit"
            ) from None
        raise StoreUnavailable(f"cannot reach the store at {url}: {error.reason}") from None
    except (OSError, http.client.HTTPException) as error:  # not HTTP, or cut off mid-answer
        raise StoreUnavailable(
            f"the store at {url} gave no valid HTTP answer: {one_line(repr(error))[:300]}"
        ) from None


def _refusal(request: urllib.request.Request, error: urllib.error.HTTPError, url: str):
    """Return what to raise for an error status: a redirect, a refused query, a store fault."""
    if 300 <= error.code < 400:
        return _redirect_refused(request.full_url, error)
    detail = _error_detail(error)
    if error.code == 400 and request.get_method() == "POST":
        return SyntaxError(detail)  # as pyoxigraph's Store.query reports it
    return StoreUnavailable(f"{url} answered {error.code}: {detail}")


def _error_detail(error: urllib.error.HTTPError) -> str:
    try:
        return one_line(error.read(2000).decode("utf-8", "replace"))
    except (OSError, http.client.HTTPException):
        return error.reason


def _redirect_refused(url: str, error: urllib.error.HTTPError) -> StoreUnavailable:
    """Say where the store redirected and why it is not followed."""
    location = error.headers.get("Location")
    if not location:
        return StoreUnavailable(f"the store at {url} answered {error.code} without a Location")
    target = urllib.parse.urljoin(url, location)
    if _origin(target) != _origin(url):
        return StoreUnavailable(
            f"the store at {url} redirected ({error.code}) to {target}, another origin; "
            "not followed: the data must come from the store named. If that is the "
            "endpoint, give its URL as --store"
        )
    return StoreUnavailable(
        f"the store at {url} redirected ({error.code}) to {target}; redirects are not "
        "followed (a query sent by POST would be lost): give that URL as --store"
    )


def _origin(url: str) -> tuple[str, str, int | None]:
    """Return a URL's origin: its scheme, host and port (the scheme's default if none)."""
    parts = urllib.parse.urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    try:
        port = parts.port or default
    except ValueError:  # a port that is not a number: an origin of its own
        port = None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _checked_results(body: bytes, results_format: ox.QueryResultsFormat):
    """Parse query results, reading every row now: pyoxigraph parses rows as they are read,
    and a fault found then would look like an error of the query."""
    result = ox.parse_query_results(body, format=results_format)
    if isinstance(result, ox.QueryBoolean):
        return result
    for _ in result:
        pass
    return ox.parse_query_results(body, format=results_format)  # a fresh copy to read


def _describe(result) -> str:
    if isinstance(result, ox.QueryBoolean):
        return "a boolean"
    return "solutions" if isinstance(result, ox.QuerySolutions) else "triples"


def _bound(*terms) -> dict:
    """Return substitutions for the terms of a pattern (?s ?p ?o ?g) that are given."""
    return {ox.Variable(v): t for v, t in zip("spog", terms, strict=False) if t is not None}


def _pick(row, *terms) -> list:
    """Return a quad's terms: the pattern's own where given, else the row's."""
    found = [t if t is not None else row[v] for v, t in zip("spo", terms, strict=False)]
    graph = terms[3]
    return [*found, graph if graph is not None else row["g"]]


_SCHEME = re.compile(r"<[A-Za-z][A-Za-z0-9+.\-]*:")


def _needs_base(query: str) -> bool:
    """Return True if the query has a relative IRI and no BASE of its own."""
    tokens = list(sparql_text.tokenize(query))
    if any(t.keyword == "BASE" for t in tokens):
        return False
    return any(t.kind == "iri" and not _SCHEME.match(t.text) for t in tokens)


def _uses_graph(query: str) -> bool:
    return any(t.keyword == "GRAPH" for t in sparql_text.tokenize(query))


def _listed(graphs) -> list:
    if graphs is None:
        return []
    return list(graphs) if isinstance(graphs, list | tuple) else [graphs]
