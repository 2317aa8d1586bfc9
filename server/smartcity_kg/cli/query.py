"""Run one query for the command line: in process through the engine, or at an endpoint.

A query is given as SPARQL text, a file, or the name of a catalogue query (any bare word that
is not a file: no SPARQL query is one word); named queries (and files with a catalogue header)
take parameters and, when paged, `limit` and `offset`, bound as catalog.NamedQuery.bind does:
in process as pyoxigraph substitutions, at an endpoint as a VALUES block in the text. The result
comes back in a format of the formats table, or as a text table fitted to a width.
"""

import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from smartcity_kg import __version__
from smartcity_kg.config import Config
from smartcity_kg.errors import (
    InputError,
    NotAcceptable,
    NotFound,
    QueryTimeout,
    SmartcityKgError,
    UnsupportedMediaType,
    one_line,
)
from smartcity_kg.rdf import formats, sparql_text
from smartcity_kg.rdf.files import check_no_doctype
from smartcity_kg.rdf.formats import ResultFormat, ResultKind
from smartcity_kg.sparql.catalog import BoundQuery, Catalog, load_catalog, read_query_file
from smartcity_kg.terminal import aligned

TABLE = "table"
_WORD = re.compile(r"[\w.-]+")  # no space, brace or '?': not SPARQL, so a name (or a file)
_HTTP_ERRORS = {400: InputError, 403: InputError, 404: NotFound, 406: NotAcceptable,
                415: UnsupportedMediaType, 503: QueryTimeout}  # fmt: skip


@dataclass(frozen=True)
class Answer:
    """A serialised result and whether it was cut at the row limit."""

    body: bytes
    format: ResultFormat
    truncated: bool = False
    limit: int | None = None
    rows: int | None = None  # solutions or triples, when known (in process)


def resolve(
    spec: str,
    params: dict[str, str],
    catalogue: Catalog | None = None,
    *,
    max_rows: int = Config.max_rows,
) -> BoundQuery:
    """Return the query for SPARQL text, a file or a catalogue name, with params bound."""
    path = Path(spec)
    if "\n" not in spec and len(spec) < 4096 and path.is_file():
        if path.read_text(encoding="utf-8").startswith("#+"):
            return read_query_file(path).bind(params, max_rows=max_rows)
        return _plain(path.read_text(encoding="utf-8"), params)
    if spec.endswith(".rq") and "\n" not in spec:  # no SPARQL query ends so: a file's name
        raise InputError(f"{spec}: no such query file")
    if _WORD.fullmatch(spec):
        catalogue = catalogue if catalogue is not None else load_catalog()
        return catalogue.get_query(spec).bind(params, max_rows=max_rows)
    return _plain(spec, params)


def _plain(text: str, params: dict[str, str]) -> BoundQuery:
    if params:
        raise InputError("--param needs a named query (or a file with a '#+' header)")
    return BoundQuery("", text)


def transport_format(text: str, name: str) -> ResultFormat:
    """Return the format to ask for: `name`, or for a table one that can be parsed back."""
    kind = sparql_text.inspect(text).kind or ResultKind.SOLUTIONS
    if name != TABLE:
        return formats.check_kind(formats.by_name(name), kind)
    return formats.by_name("json" if kind is ResultKind.SOLUTIONS else "nt")


def run_local(query: BoundQuery, fmt: ResultFormat, config: Config) -> Answer:
    """Run the query in this process's own engine (worker processes, limits, safety checks)."""
    from smartcity_kg.sparql.engine import QueryEngine  # the endpoint path does not need the store

    with QueryEngine(config) as engine:
        result = engine.run(query.text, format=fmt, substitutions=query.substitutions)
    return Answer(result.body, result.format, result.truncated, result.limit, result.rows)


def run_remote(endpoint: str, text: str, fmt: ResultFormat, timeout: float) -> Answer:
    """POST the query to a SPARQL endpoint (SPARQL 1.1 Protocol) and return its answer."""
    if urllib.parse.urlsplit(endpoint).scheme not in ("http", "https"):
        raise InputError(f"--endpoint must be an http or https URL, not {endpoint!r}")
    request = urllib.request.Request(
        endpoint,
        data=urllib.parse.urlencode({"query": text}).encode(),
        headers={"Accept": fmt.media_type, "User-Agent": f"smartcity-kg/{__version__}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
            truncated = response.headers.get("SPARQL-Results-Truncated") == "true"
            limit = response.headers.get("SPARQL-Results-Limit")
            rows = response.headers.get("SPARQL-Results-Rows")  # this server's own header
    except urllib.error.HTTPError as error:
        message = error.read().decode("utf-8", "replace").strip() or error.reason
        raise _HTTP_ERRORS.get(error.code, SmartcityKgError)(
            f"{endpoint} answered {error.code}: {message}"
        ) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise SmartcityKgError(f"cannot reach {endpoint}: {reason}") from None
    return Answer(body, fmt, truncated, _number(limit), _number(rows))


def _number(header: str | None) -> int | None:
    return int(header) if header and header.isdigit() else None


def render_table(answer: Answer, limit: int | None = None) -> str:
    """Return a result as an aligned text table (one row per solution or triple).

    With `limit` (a terminal's width), long cells wrap so that the table fits in it.
    """
    if answer.format.kind is ResultKind.SOLUTIONS:
        parsed = ox.parse_query_results(answer.body, format=answer.format.oxigraph)
        if isinstance(parsed, ox.QueryBoolean):
            return f"{bool(parsed)}\n".lower()
        header = [v.value for v in parsed.variables]
        rows = [[show_term(term) for term in solution] for solution in parsed]
    else:
        header = ["subject", "predicate", "object"]
        check_no_doctype(answer.body, answer.format.oxigraph, "the endpoint's answer")
        quads = ox.parse(answer.body, format=answer.format.oxigraph)
        rows = [[show_term(q.subject), show_term(q.predicate), show_term(q.object)] for q in quads]
    count = f"({len(rows)} {'row' if len(rows) == 1 else 'rows'})\n"
    return aligned([header, *rows], limit) + count


def show_term(term) -> str:
    """Return a term as a table shows it: IRIs bare, literals on one line with their language
    tag and their control characters escaped (a terminal would obey them)."""
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        text = one_line(term.value)
        return f"{text}@{term.language}" if term.language else text
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return getattr(term, "value", str(term))


def catalogue_table(catalogue: Catalog, limit: int | None = None) -> str:
    """Return the named queries as a table: name, the parameters it takes, its title."""
    rows = [["name", "parameters", "summary"]]
    for query in catalogue.values():
        params = [p.name for p in query.params] + (["limit", "offset"] if query.page else [])
        rows.append([query.name, " ".join(params), query.title])
    return aligned(rows, limit)


def parse_params(pairs: list[str]) -> dict[str, str]:
    """Return `--param NAME=VALUE` pairs as a dict; a pair without '=' or a repeat is an error."""
    params: dict[str, str] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise InputError(f"--param {pair!r}: expected NAME=VALUE")
        if name in params:
            raise InputError(f"--param {name!r} is given twice")
        params[name] = value
    return params
