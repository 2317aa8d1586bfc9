"""The named-query catalogue: `queries/*.rq`, each a SPARQL query under a metadata header.

The header is the run of `#+ key: value` lines that opens the file (grlc's decorator syntax,
made strict); queries/README.md is the user's guide::

    #+ title: Tasks by statutory duty
    #+ description: The tasks that serve one duty, with their institutions.
    #+ param: duty iri https://w3id.org/smartcity-kr/duty/19-4-2-9 "The statutory duty"
    #+ page: 100

Keys: `title` (once), `description` (once or more, joined), `param` (any number) as
`NAME TYPE DEFAULT "DESCRIPTION"` with shell-style quoting, TYPE one of PARAM_TYPES and DEFAULT
`-` for none, `page` (at most once) the default page size. Anything else (an unknown key, a
missing title, a malformed param, a param whose variable the query does not use or, in a SELECT,
does not project, a paged query with its own LIMIT or OFFSET or without ORDER BY, a query that
does not parse, an update or SERVICE) raises QueryFileError naming the file and line at load.

Parameters are bound, never pasted: each value becomes a typed pyoxigraph term, and the terms
go to `Store.query(..., substitutions=...)` (through QueryEngine.run and its worker processes),
which binds them before evaluation rather than joining them to the result. A paged query gets
`LIMIT n OFFSET m` appended (the reserved parameters `limit` and `offset`). For an endpoint that
takes only text, BoundQuery.as_text binds the terms in VALUES blocks (remote.bind_values).
"""

import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyoxigraph as ox

from smartcity_kg.config import Config
from smartcity_kg.errors import InputError, NotFound, QueryFileError
from smartcity_kg.paths import package_dir, turtle_files
from smartcity_kg.rdf import sparql_text
from smartcity_kg.rdf.sparql_text import QueryForm
from smartcity_kg.rdf.vocab import XSD
from smartcity_kg.store.remote import bind_values

PARAM_TYPES = ("iri", "string", "integer", "date", "boolean", "lang")
# `format` picks the result format on the web; `limit` and `offset` pick a page of a paged query
RESERVED_PARAMS = frozenset({"format", "limit", "offset"})
MAX_OFFSET = 2**63 - 1  # pyoxigraph parses OFFSET as a 64-bit count
# characters a parameter value may have: ample for an IRI or a search text, and a bound on what
# a URL can make the server parse, bind and echo in its messages
MAX_PARAM_LENGTH = 2_000
HEADER_KEYS = ("title", "description", "param", "page")

_HEADER_LINE = re.compile(r"#\+\s*(?P<key>[A-Za-z_-]+)\s*:\s*(?P<value>.*?)\s*$")
_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LANG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_BOOLEANS = {"true": "true", "1": "true", "false": "false", "0": "false"}
_COUNT = re.compile(r"[0-9]+")
Term = ox.NamedNode | ox.Literal


@dataclass(frozen=True)
class Param:
    """A parameter of a named query: it binds the query variable of the same name."""

    name: str
    type: str
    default: str | None  # None: the variable stays unbound unless a value is given
    description: str

    def term(self, value: str, query: str) -> ox.NamedNode | ox.Literal:
        """Return `value` as a typed RDF term, or raise InputError naming the parameter."""
        try:
            return _TERM_BUILDERS[self.type](value)
        except ValueError as error:
            raise InputError(
                f"parameter {self.name!r} of query {query!r}: {value!r} is not a valid "
                f"{self.type} ({error})"
            ) from None

    def to_json(self) -> dict:
        return {"name": self.name, "type": self.type, "default": self.default,
                "description": self.description}  # fmt: skip


def _iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)  # refuses relative IRIs and characters IRIs may not hold


def _integer(value: str) -> ox.Literal:
    if not _INTEGER.fullmatch(value):
        raise ValueError("expected digits with an optional sign")
    return ox.Literal(str(int(value)), datatype=ox.NamedNode(XSD + "integer"))


def _date(value: str) -> ox.Literal:
    if not _DATE.fullmatch(value):
        raise ValueError("expected YYYY-MM-DD")
    return ox.Literal(date.fromisoformat(value).isoformat(), datatype=ox.NamedNode(XSD + "date"))


def _boolean(value: str) -> ox.Literal:
    if value.lower() not in _BOOLEANS:
        raise ValueError("expected true or false")
    return ox.Literal(_BOOLEANS[value.lower()], datatype=ox.NamedNode(XSD + "boolean"))


def _lang(value: str) -> ox.Literal:
    if not _LANG.fullmatch(value):
        raise ValueError("expected a language tag such as ko or en")
    return ox.Literal(value.lower())


_TERM_BUILDERS = {"iri": _iri, "string": ox.Literal, "integer": _integer, "date": _date,
                  "boolean": _boolean, "lang": _lang}  # fmt: skip


@dataclass(frozen=True)
class BoundQuery:
    """A named query ready to run: its text (with the page appended) and its parameters' terms.

    Run it as `engine.run(bound.text, substitutions=bound.substitutions)`: pyoxigraph binds the
    terms before it evaluates, throughout the query, instead of joining them to the result.
    """

    name: str
    text: str
    terms: tuple[tuple[str, Term], ...] = ()  # (variable name, term), in declaration order
    limit: int | None = None  # the page size; None when the query is not paged
    offset: int = 0

    @property
    def substitutions(self) -> dict[ox.Variable, Term]:
        """Return the terms as Store.query's `substitutions`."""
        return {ox.Variable(name): term for name, term in self.terms}

    def as_text(self) -> str:
        """Return one text with the terms in a VALUES block opening each WHERE group.

        For an endpoint that takes only text (`query --endpoint`, `--store URL`): a block in the
        query's group and in each subquery's binds the variables as the substitutions do.
        """
        return bind_values(self.text, self.substitutions) if self.terms else self.text

    def full_page(self, rows: int) -> bool:
        """Return True when a paged result of `rows` rows filled its page (a next may follow)."""
        return self.limit is not None and rows >= self.limit


@dataclass(frozen=True)
class NamedQuery:
    """One catalogue entry: its header and its SPARQL text."""

    name: str
    path: Path
    title: str
    description: str
    params: tuple[Param, ...]
    text: str
    form: QueryForm
    page: int | None = None  # the default page size; None: the query is not paged

    def bind(
        self, values: Mapping[str, str] | None = None, *, max_rows: int = Config.max_rows
    ) -> BoundQuery:
        """Return the query with the given values (else the defaults) bound, and its page.

        An empty value counts as not given. `limit` (1 to `max_rows`) and `offset` pick the
        page of a paged query, by default its first page of `page` rows (a page over the row
        limit is cut by the engine, and says so). An unknown name or an invalid value raises
        InputError naming the parameter.
        """
        values = {k: v for k, v in (values or {}).items() if v != ""}
        self._check_lengths(values)
        limit, offset = self._page(values.pop("limit", None), values.pop("offset", None), max_rows)
        known = {p.name for p in self.params}
        if unknown := sorted(set(values) - known):
            raise InputError(
                f"query {self.name!r} has no parameter {unknown[0]!r}; "
                f"its parameters: {', '.join(sorted(known)) or 'none'}"
            )
        terms = tuple(
            (param.name, param.term(value, self.name))
            for param in self.params
            if (value := values.get(param.name, param.default)) is not None
        )
        text = self.text if limit is None else page_clause(self.text, limit, offset)
        return BoundQuery(self.name, text, terms, limit, offset)

    def _check_lengths(self, values: Mapping[str, str]) -> None:
        """Refuse a value over MAX_PARAM_LENGTH characters, naming its parameter."""
        for name, value in values.items():
            if len(value) > MAX_PARAM_LENGTH:
                raise InputError(
                    f"parameter {name[:100]!r} of query {self.name!r} is {len(value):,} "
                    f"characters long; the limit is {MAX_PARAM_LENGTH:,}"
                )

    def _page(self, limit: str | None, offset: str | None, max_rows: int) -> tuple:
        """Return the (limit, offset) asked for, checked; (None, 0) for a query not paged."""
        if self.page is None:
            if limit is not None or offset is not None:
                raise InputError(f"query {self.name!r} is not paged: it takes no limit or offset")
            return None, 0
        return (
            self.page if limit is None else _count("limit", limit, 1, max_rows),
            0 if offset is None else _count("offset", offset, 0, MAX_OFFSET),
        )

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "form": self.form.value,
            "params": [p.to_json() for p in self.params],
            "page": self.page,
            "query": self.text,
        }


def _count(name: str, value: str, low: int, high: int) -> int:
    """Return `value` as a whole number from `low` to `high`, or raise InputError saying so."""
    if not _COUNT.fullmatch(value) or not low <= int(value) <= high:
        raise InputError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)


def page_clause(text: str, limit: int, offset: int = 0) -> str:
    """Append the page's LIMIT (and OFFSET, unless 0) to a query text."""
    page = f"LIMIT {limit}" + (f" OFFSET {offset}" if offset else "")
    return f"{text.rstrip()}\n{page}\n"


class Catalog(Mapping[str, NamedQuery]):
    """The named queries by name, in name order."""

    def __init__(self, queries: list[NamedQuery]):
        self._queries = {q.name: q for q in sorted(queries, key=lambda q: q.name)}

    def __getitem__(self, name: str) -> NamedQuery:
        return self._queries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._queries)

    def __len__(self) -> int:
        return len(self._queries)

    def get_query(self, name: str) -> NamedQuery:
        """Return the named query, or raise NotFound listing the names there are."""
        try:
            return self._queries[name]
        except KeyError:
            raise NotFound(
                f"no named query {name!r}; the catalogue has: {', '.join(self._queries)}"
            ) from None


def load_catalog(folder: Path | None = None) -> Catalog:
    """Load every `*.rq` of `folder` (by default the packaged queries/, not queries/checks/)."""
    folder = package_dir("queries") if folder is None else folder
    return Catalog([read_query_file(path) for path in sorted(folder.glob("*.rq"))])


def read_query_file(path: Path) -> NamedQuery:
    """Parse and check one named-query file; raise QueryFileError on any fault."""
    if not _NAME.fullmatch(path.stem):
        raise QueryFileError(path, None, "a named query's file name must be kebab-case")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise QueryFileError(path, None, f"cannot read: {error}") from None
    header = _read_header(path, text.splitlines())
    form = _check_query(path, text)
    query = NamedQuery(
        name=path.stem,
        path=path,
        title=header["title"],
        description=header["description"],
        params=header["params"],
        text=text,
        form=form,
        page=header["page"],
    )
    _check_params(query, header["param_lines"])
    _check_page(query, header["page_line"])
    return query


def _read_header(path: Path, lines: list[str]) -> dict:
    """Return title, description, params and page size from the leading `#+` lines."""
    if not lines or not lines[0].startswith("#+"):
        raise QueryFileError(path, 1, "a named query starts with its header, '#+ title: ...'")
    titles, descriptions, params, param_lines, pages = [], [], [], {}, []
    in_header = True
    for number, line in enumerate(lines, start=1):
        if not line.lstrip().startswith("#+"):
            in_header = False
            continue
        if not in_header:
            raise QueryFileError(path, number, "header lines ('#+') must all come first")
        match = _HEADER_LINE.fullmatch(line)
        if not match:
            raise QueryFileError(path, number, f"malformed header line {line!r}")
        key, value = match["key"], match["value"]
        if not value:
            raise QueryFileError(path, number, f"header key {key!r} has no value")
        if key == "title":
            titles.append((number, value))
        elif key == "description":
            descriptions.append(value)
        elif key == "param":
            param = _read_param(path, number, value)
            if param.name in param_lines:
                raise QueryFileError(path, number, f"parameter {param.name!r} declared twice")
            params.append(param)
            param_lines[param.name] = number
        elif key == "page":
            pages.append((number, _read_page(path, number, value, pages)))
        else:
            raise QueryFileError(
                path, number, f"unknown header key {key!r}; known keys: {', '.join(HEADER_KEYS)}"
            )
    if len(titles) != 1:
        line = titles[1][0] if titles else 1
        raise QueryFileError(path, line, "the header needs exactly one '#+ title:' line")
    if not descriptions:
        raise QueryFileError(path, 1, "the header needs a '#+ description:' line")
    page_line, page = pages[0] if pages else (None, None)
    return {"title": titles[0][1], "description": " ".join(descriptions),
            "params": tuple(params), "param_lines": param_lines, "page": page,
            "page_line": page_line}  # fmt: skip


def _read_page(path: Path, number: int, value: str, earlier: list) -> int:
    """Parse the page size: a whole number of rows, declared once."""
    if earlier:
        raise QueryFileError(path, number, "the header takes at most one '#+ page:' line")
    if not _COUNT.fullmatch(value) or int(value) < 1:
        raise QueryFileError(path, number, f"a page size is a whole number of rows, not {value!r}")
    return int(value)


def _read_param(path: Path, number: int, value: str) -> Param:
    """Parse `NAME TYPE DEFAULT "DESCRIPTION"`."""
    try:
        fields = shlex.split(value)
    except ValueError as error:
        raise QueryFileError(path, number, f"malformed param: {error}") from None
    if len(fields) != 4:
        raise QueryFileError(
            path, number, f'a param needs NAME TYPE DEFAULT "DESCRIPTION", got {len(fields)} fields'
        )
    name, kind, default, description = fields
    if not _PARAM_NAME.fullmatch(name) or name in RESERVED_PARAMS:
        raise QueryFileError(path, number, f"{name!r} cannot name a parameter")
    if kind not in PARAM_TYPES:
        raise QueryFileError(
            path, number, f"unknown param type {kind!r}; known types: {', '.join(PARAM_TYPES)}"
        )
    param = Param(name, kind, None if default == "-" else default, description)
    if param.default is not None:
        try:
            param.term(param.default, path.stem)
        except InputError as error:
            raise QueryFileError(path, number, f"bad default: {error.message}") from None
    return param


def _check_query(path: Path, text: str) -> QueryForm:
    """Return the query's form; refuse updates, SERVICE and text pyoxigraph cannot parse."""
    info = sparql_text.inspect(text)
    if info.update:
        raise QueryFileError(path, None, "a named query must be a read-only query, not an update")
    if info.service:
        raise QueryFileError(path, None, "a named query must not use SERVICE (federation)")
    _parse(path, text)
    if info.form is None:
        raise QueryFileError(path, None, "not a SELECT, ASK, CONSTRUCT or DESCRIBE query")
    return info.form


def _parse(path: Path, text: str, substitutions: dict | None = None) -> None:
    """Prepare the query against an empty store: parses it, and checks substitutions."""
    try:
        result = ox.Store().query(text, substitutions=substitutions)
        if not isinstance(result, ox.QueryBoolean):
            list(result)
    except SyntaxError as error:
        match = re.match(r"error at (\d+):(\d+): (.*)", str(error), re.DOTALL)
        line, detail = (int(match[1]), match[3]) if match else (None, str(error))
        raise QueryFileError(path, line, f"SPARQL syntax error: {detail}") from None


def _check_params(query: NamedQuery, lines: Mapping[str, int]) -> None:
    """Each parameter's variable occurs and can be pre-bound; the text binding parses too."""
    variables = {t.text[1:] for t in sparql_text.tokenize(query.text) if t.kind == "var"}
    samples = {}
    for param in query.params:
        line = lines[param.name]
        if param.name not in variables:
            raise QueryFileError(query.path, line, f"the query has no variable ?{param.name}")
        samples[param.name] = param.term(param.default or _SAMPLES[param.type], query.name)
        try:
            _parse(query.path, query.text, {ox.Variable(param.name): samples[param.name]})
        except RuntimeError:  # pyoxigraph binds only the variables a SELECT projects
            raise QueryFileError(
                query.path,
                line,
                f"the SELECT clause must project ?{param.name} (pyoxigraph "
                "pre-binds only projected variables)",
            ) from None
    if samples:
        _check_text_binding(query, samples, min(lines.values()))


def _check_text_binding(query: NamedQuery, samples: dict, line: int) -> None:
    """The text an endpoint gets (BoundQuery.as_text: VALUES opening the group) must parse."""
    if sparql_text.group_start(query.text) < 0:
        raise QueryFileError(
            query.path,
            line,
            "a query with parameters needs a WHERE group ('WHERE { }' will "
            "do): a SPARQL endpoint gets them bound there",
        )
    try:
        _parse(query.path, BoundQuery(query.name, query.text, tuple(samples.items())).as_text())
    except QueryFileError as error:
        raise QueryFileError(
            query.path, None, f"cannot take its parameters in a VALUES block: {error.message}"
        ) from None


def _check_page(query: NamedQuery, line: int | None) -> None:
    """A paged query is a SELECT ordered by an ORDER BY, without a LIMIT or OFFSET of its own."""
    if query.page is None:
        return
    if query.form is not QueryForm.SELECT:
        raise QueryFileError(
            query.path, line, f"only a SELECT query can be paged, not a {query.form.value}"
        )
    clauses = _top_level_keywords(query.text)
    for keyword in ("LIMIT", "OFFSET"):
        if keyword in clauses:
            raise QueryFileError(
                query.path,
                clauses[keyword],
                f"a paged query must not have its own {keyword}: "
                "the page's LIMIT and OFFSET are appended to it",
            )
    if "ORDER" not in clauses:
        raise QueryFileError(
            query.path,
            line,
            "a paged query needs an ORDER BY that sorts its rows completely "
            "(ending with a key that tells rows apart), so that its pages are stable",
        )
    _parse(query.path, page_clause(query.text, 1, 1))


def _top_level_keywords(text: str) -> dict[str, int]:
    """Return the line of the first LIMIT, OFFSET and ORDER outside every group (not in a
    subquery), by keyword."""
    found: dict[str, int] = {}
    depth = 0
    for match in sparql_text._TOKEN.finditer(text):  # the endpoint's tokenizer, with positions
        kind, token = match.lastgroup, match.group()
        if kind == "punct" and token in ("{", "}"):
            depth += 1 if token == "{" else -1
        elif kind == "word" and depth == 0 and token.upper() in ("LIMIT", "OFFSET", "ORDER"):
            found.setdefault(token.upper(), text.count("\n", 0, match.start()) + 1)
    return found


_SAMPLES = {"iri": "urn:example:sample", "string": "sample", "integer": "1",
            "date": "2000-01-01", "boolean": "true", "lang": "en"}  # fmt: skip


def dataset_prefixes() -> dict[str, str]:
    """Return the prefixes the packaged Turtle files declare, by prefix name."""
    prefixes: dict[str, str] = {}
    for folder in ("ontology", "data"):
        for path in turtle_files(folder):
            parser = ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)
            for _ in parser:
                pass
            prefixes.update(parser.prefixes)
    return dict(sorted(prefixes.items()))
