"""Read just enough of a SPARQL text to route it safely before any parser or worker sees it.

A tokenizer (not a regular expression over the raw text) tells the query form, whether the
text is an update, and whether it names SERVICE or has a FROM clause. Working on tokens means a
`?service` variable, `<http://ex/SERVICE>`, a prefixed name `ex:service`, a comment or a string
literal never look like the keyword. pyoxigraph's parser stays the judge of syntax: a text this
module cannot classify is passed on, and the parser reports the error with its position.
"""

import functools
import hashlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from smartcity_kg.errors import QueryRefused, UpdateRefused
from smartcity_kg.rdf.formats import ResultKind


class QueryForm(Enum):
    """The four SPARQL query forms."""

    SELECT = "SELECT"
    ASK = "ASK"
    CONSTRUCT = "CONSTRUCT"
    DESCRIBE = "DESCRIBE"

    @property
    def kind(self) -> ResultKind:
        """Return the kind of result this form gives: solutions, or a graph."""
        graph = self in (QueryForm.CONSTRUCT, QueryForm.DESCRIBE)
        return ResultKind.GRAPH if graph else ResultKind.SOLUTIONS


# Parsers recurse once per level of nesting and per link of a chain of operators. pyoxigraph in
# our workers has a large stack, but a remote store does not: Oxigraph server 0.5.13 aborts (the
# whole store goes down) on 1,000 nested `{`, 2,000 nested `(`, or 2,000 UNION, `+` or `/`
# links (bench/oxigraph_limits.py). Texts past these limits are refused before any engine.
MAX_NESTING = 128  # levels of { ( [
MAX_OPERATORS = 500  # UNION, OPTIONAL, MINUS and operator characters (! + - * / | ^ &)
_OPERATOR_CHARACTERS = frozenset("!+-*/|^&")
_CHAINING_KEYWORDS = frozenset({"UNION", "OPTIONAL", "MINUS"})

UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
)

_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"  # a codepoint escape, as IRIREF admits it
_PN = r"(?:[\w:%\-]|\\[_~.\-!$&'()*+,;=/?#@%])"  # a character of a prefixed name's local part
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|UCHAR)*>)
  | (?P<string>'''(?:'{0,2}(?:[^'\\]|\\.))*'''|\"\"\"(?:"{0,2}(?:[^"\\]|\\.))*\"\"\"
              |'(?:[^'\\\r\n]|\\.)*'|"(?:[^"\\\r\n]|\\.)*"
              |['"][^\r\n]*)
  | (?P<var>[?$]\w+)
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<pname>(?:[\w\-]+(?:\.+[\w\-]+)*)?:(?:PN+(?:\.+PN+)*)?)
  | (?P<number>[0-9]*\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+(?:[eE][+-]?[0-9]+)?)
  | (?P<datatype>\^\^)
  | (?P<word>[^\W\d]\w*)
  | (?P<punct>.)
    """.replace("PN", _PN).replace("UCHAR", _UCHAR),
    re.VERBOSE | re.DOTALL,
)
# A bare word never holds a dot: `true.SERVICE` is three tokens, as the SPARQL grammar reads it.
# The unterminated-string branch keeps a broken literal's words from reading as keywords.


@dataclass(frozen=True)
class Token:
    """One lexical token: its kind (a group name of _TOKEN) and its text."""

    kind: str
    text: str

    @property
    def keyword(self) -> str | None:
        """Return the upper-cased word if this token can be a keyword, else None."""
        return self.text.upper() if self.kind == "word" else None


def tokenize(text: str) -> Iterator[Token]:
    """Yield the tokens of a SPARQL text, skipping white space and comments."""
    for match in _TOKEN.finditer(text):
        if match.lastgroup not in ("space", "comment"):
            yield Token(match.lastgroup, match.group())


@dataclass(frozen=True)
class QueryInfo:
    """What the endpoint needs to know about a request text before running it."""

    form: QueryForm | None  # None when the text starts like neither a query nor an update
    update: bool
    service: bool  # uses the SERVICE keyword (federation: would make the server fetch URLs)
    dataset: bool  # has a FROM or FROM NAMED clause
    nesting: int = 0  # the deepest nesting of { ( [
    operators: int = 0  # chaining keywords and operator characters, see MAX_OPERATORS

    @property
    def kind(self) -> ResultKind | None:
        """Return the kind of result the query gives, or None if unknown."""
        return self.form.kind if self.form else None


def decode_escapes(text: str) -> str:
    """Return `text` with its codepoint escapes decoded, as SPARQL 1.1 (section 19.2) reads it.

    pyoxigraph 0.5 decodes \\u and \\U only inside IRIs and strings (as SPARQL 1.2 does), but
    1.1 decodes them before the grammar, so `\\u0023` could open a comment for another parser
    or a later pyoxigraph. Every check reads both texts. An escape that is not four (or
    eight) hex digits naming a character stays as written, with the characters it took.
    """
    if "\\u" not in text and "\\U" not in text:
        return text
    return _ESCAPE.sub(_decode_escape, text)


_ESCAPE = re.compile(r"\\(?:u[\s\S]{0,4}|U[\s\S]{0,8}|[\s\S])")
_HEX = re.compile(r"[0-9A-Fa-f]+")


def _decode_escape(match: re.Match) -> str:
    escape = match.group()
    digits = escape[2:]
    wanted = {"u": 4, "U": 8}.get(escape[1:2])
    if wanted and len(digits) == wanted and _HEX.fullmatch(digits):
        code = int(digits, 16)
        if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            return chr(code)
    return escape


def shape_digest(text: str, *, keep_values: bool = False) -> bytes:
    """Return a digest of a query's tokens with variables numbered and values blanked.

    Texts that differ only in comments, spacing, variable names, literal values or the IRIs a
    FILTER compares with evaluate alike, so the engine's fast lane can tell from one that outran
    it that the others will too: a flood that changes one literal per request is one shape.
    `keep_values` keeps literals and IRIs: texts alike then are the same query, written apart.
    """
    numbers: dict[str, int] = {}
    digest = hashlib.blake2b(digest_size=16)
    filter_depth = 0  # > 0 inside the brackets of a FILTER
    after_filter = False
    for token in tokenize(text):
        text_ = token.text
        if token.kind == "var":
            text_ = f"?{numbers.setdefault(text_[1:], len(numbers))}"
        elif keep_values:
            pass
        elif token.kind == "langtag":  # part of the literal before it
            continue
        elif token.kind in ("string", "number") or token.keyword in ("TRUE", "FALSE"):
            text_ = "L"
        elif token.kind in ("iri", "pname") and filter_depth:
            text_ = "I"
        filter_depth, after_filter = _filter_depth(token, filter_depth, after_filter)
        digest.update(text_.encode("utf-8", "surrogatepass") + b"\x00")
    return digest.digest()


def _filter_depth(token: Token, depth: int, after_filter: bool) -> tuple[int, bool]:
    """Track whether the tokens read so far are inside a FILTER's constraint."""
    if token.keyword == "FILTER" and not depth:
        return 0, True
    if token.kind == "punct" and token.text in "({[" and (depth or after_filter):
        return depth + 1, False
    if token.kind == "punct" and token.text in ")}]" and depth:
        return depth - 1, False
    return depth, after_filter


@functools.lru_cache(maxsize=256)  # a view inspects (engine.inspect) before run does
def inspect(text: str) -> QueryInfo:
    """Return the form of a SPARQL text and the features that decide whether it may run.

    The text is read as pyoxigraph reads it and, if it holds codepoint escapes, decoded as
    SPARQL 1.1 reads it: a feature either reading shows counts.
    """
    info = _inspect_reading(text)
    decoded = decode_escapes(text)
    if decoded == text:
        return info
    other = _inspect_reading(decoded)
    return QueryInfo(
        form=info.form or other.form,
        update=info.update or other.update,
        service=info.service or other.service,
        dataset=info.dataset or other.dataset,
        nesting=max(info.nesting, other.nesting),
        operators=max(info.operators, other.operators),
    )


def _inspect_reading(text: str) -> QueryInfo:
    tokens = list(tokenize(text))
    keywords = [t.keyword for t in tokens if t.keyword]
    first = _first_keyword(keywords)
    nesting, operators = _complexity(tokens)
    return QueryInfo(
        form=QueryForm.__members__.get(first) if first else None,
        update=first in UPDATE_KEYWORDS,
        service=_names_service(tokens),
        dataset="FROM" in keywords,
        nesting=nesting,
        operators=operators,
    )


def _complexity(tokens: list[Token]) -> tuple[int, int]:
    """Return the deepest nesting of brackets and the number of chaining operators.

    What parsers recurse on is a chain of expression operators or of UNION, OPTIONAL and
    MINUS; the values of a VALUES block and a number's sign (`-1` after `(`, `,` or a keyword)
    are data, not operators.
    """
    depth = deepest = operators = 0
    values_depth = None  # the depth a VALUES block's data opened at
    previous = None
    for token in tokens:
        if token.keyword == "VALUES" and values_depth is None:
            values_depth = depth
        elif token.kind == "punct" and token.text in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif token.kind == "punct" and token.text in "})]":
            depth -= 1
            if values_depth is not None and depth == values_depth and token.text == "}":
                values_depth = None
        elif values_depth is None and _is_operator(token, previous):
            operators += 1
        previous = token
    return deepest, operators


def _is_operator(token: Token, previous: Token | None) -> bool:
    if token.keyword in _CHAINING_KEYWORDS:
        return True
    if token.kind != "punct" or token.text not in _OPERATOR_CHARACTERS:
        return False
    return not (token.text in "+-" and _starts_operand(previous))


def _starts_operand(previous: Token | None) -> bool:
    """Return True if a token after `previous` starts an operand, so `-` there is a sign."""
    if previous is None or previous.kind in ("word", "datatype"):
        return True
    return previous.kind == "punct" and previous.text in "(,{[!=<>&|"


# Where a prefixed name stands for a graph, never for the SERVICE keyword run into an IRI.
_GRAPH_NAME_KEYWORDS = frozenset({"GRAPH", "FROM", "NAMED", "PREFIX"})


def _names_service(tokens: list[Token]) -> bool:
    """Return True if pyoxigraph's parser could read a SERVICE keyword in these tokens.

    Its parser matches keywords without a word boundary, so `SERVICEr:{…}` is SERVICE with the
    endpoint `r:`, and `SERVICESILENT<…>` is SERVICE SILENT: where this tokenizer sees a word
    or a prefixed name starting with SERVICE followed by a group, so does the parser, unless
    the name follows GRAPH, FROM or NAMED, where the grammar wants a graph's name.
    """
    tokens = [t for t in tokens if t.kind in ("word", "pname", "punct")]
    previous = None
    for token, following in itertools.pairwise([*tokens, None]):
        if token.text.upper().startswith("SERVICE"):
            if token.kind == "word":
                return True
            named_graph = previous is not None and previous.keyword in _GRAPH_NAME_KEYWORDS
            if not named_graph and following is not None and following.text == "{":
                return True
        previous = token
    return False


def group_start(text: str) -> int:
    """Return the offset just past the `{` opening the query pattern (WHERE group), or -1.

    That is the first `{` outside IRIs, strings and comments, except in CONSTRUCT, whose
    template comes first: there it is the first `{` after WHERE.
    """
    construct = inspect(text).form is QueryForm.CONSTRUCT
    for match in _TOKEN.finditer(text):
        if construct and match.lastgroup == "word" and match.group().upper() == "WHERE":
            construct = False
        elif not construct and match.lastgroup == "punct" and match.group() == "{":
            return match.end()
    return -1


def where_group_starts(text: str) -> list[int]:
    """Return the offsets just past the `{` of the query's WHERE group and of every subquery's.

    A subquery's group is the first `{` after its SELECT outside parentheses (a projected
    expression may hold EXISTS { ... }). Binding a variable in each of them, not only the
    outermost, reaches subqueries as pyoxigraph's own substitutions do.
    """
    starts = {group_start(text)} - {-1}
    depth, after_select = 0, False
    for match in _TOKEN.finditer(text):
        kind, token = match.lastgroup, match.group()
        if kind == "word" and token.upper() == "SELECT":
            depth, after_select = 0, True
        elif after_select and kind == "punct":
            depth += {"(": 1, ")": -1}.get(token, 0)
            if token == "{" and depth == 0:
                starts.add(match.end())
                after_select = False
    return sorted(starts)


def _first_keyword(keywords: list[str]) -> str | None:
    """Return the first keyword after the prologue (BASE, PREFIX and SPARQL 1.2's VERSION)."""
    return next((k for k in keywords if k not in ("BASE", "PREFIX", "VERSION")), None)


def check_allowed(info: QueryInfo) -> None:
    """Refuse updates, federated queries and texts nested or chained past the parsers' limits."""
    if info.update:
        raise UpdateRefused("this endpoint is read-only: SPARQL Update (and LOAD) is refused")
    if info.service:
        raise QueryRefused(
            "SERVICE (federated query) is refused: this endpoint never fetches other endpoints"
        )
    if info.nesting > MAX_NESTING:
        raise QueryRefused(
            f"the query nests groups, parentheses or brackets {info.nesting} levels deep; the "
            f"limit is {MAX_NESTING}"
        )
    if info.operators > MAX_OPERATORS:
        raise QueryRefused(
            f"the query chains {info.operators} operators (UNION, OPTIONAL, MINUS, ! + - * / | ^ "
            f"&); the limit is {MAX_OPERATORS}: use VALUES for long lists of alternatives"
        )
