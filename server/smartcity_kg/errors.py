"""Every failure a user can cause, each with its HTTP status and CLI exit code.

The web layer and the CLI render these in one place each; nothing below them catches
`Exception`. Messages say what was wrong and where, so the user can act on them.
"""


class SmartcityKgError(Exception):
    """Base class: a failure with a message meant for the user."""

    http_status = 500
    exit_code = 1

    def __init__(self, message: str, *, detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail  # a longer report (e.g. SHACL results) shown before the message


def one_line(text: str) -> str:
    """Fold a message onto one line, escaping control characters a parser may echo back."""
    folded = " ".join(text.split())
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in folded)


class InputError(SmartcityKgError):
    """Input that cannot be read at all (bad syntax, missing file, bad parameter)."""

    http_status = 400
    exit_code = 2


class DataSyntaxError(InputError):
    """An RDF file that does not parse; names the file and the line."""

    def __init__(self, path: str, line: int | None, detail: str):
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {detail}")
        self.path = path
        self.line = line


class QuerySyntaxError(InputError):
    """A SPARQL query the parser rejects; the message carries the position."""


class QueryRefused(InputError):
    """A query the endpoint will not run: an update, SERVICE, or another unsafe form."""


class QueryFileError(InputError):
    """A named-query file with a malformed header or query; names the file and the line."""

    def __init__(self, path, line: int | None, detail: str):
        super().__init__(f"{path}:{line}: {detail}" if line else f"{path}: {detail}")
        self.path = path
        self.line = line


class UpdateRefused(QueryRefused):
    """A SPARQL Update sent to this read-only endpoint."""

    http_status = 403


class NotFound(SmartcityKgError):
    """A resource, named query or download that does not exist."""

    http_status = 404
    exit_code = 2


class NotAcceptable(SmartcityKgError):
    """No representation matches the client's Accept header."""

    http_status = 406
    exit_code = 2


class UnsupportedMediaType(SmartcityKgError):
    """A request body of a type the endpoint does not take."""

    http_status = 415
    exit_code = 2


class PayloadTooLarge(SmartcityKgError):
    """A request body or query text over the configured limit."""

    http_status = 413
    exit_code = 2


class QueryTimeout(SmartcityKgError):
    """A query stopped because it ran past the time limit."""

    http_status = 503
    exit_code = 1


class ServerBusy(SmartcityKgError):
    """A query refused at once because every query worker is busy and enough others wait."""

    http_status = 503
    exit_code = 1


class StoreUnavailable(SmartcityKgError):
    """A remote store (`--store URL`) that cannot be reached or answers with an error."""

    http_status = 502
    exit_code = 1


class WorkerCrashed(SmartcityKgError):
    """The process running a query died before answering."""

    http_status = 500
    exit_code = 1


class QueryFailed(SmartcityKgError):
    """The query engine reported an error while evaluating a query."""


class QueryAborted(WorkerCrashed):
    """A query that made the query engine abort; it would again, so a repeat is refused."""


class QueryOutOfMemory(SmartcityKgError):
    """A query stopped because it needed more memory than a query may use (like the time limit)."""

    http_status = 503
    exit_code = 1


class SandboxUnavailable(SmartcityKgError):
    """Query workers cannot be confined here (no seccomp filter, no memory limit): none start."""

    http_status = 500
    exit_code = 1


class ValidationFailed(SmartcityKgError):
    """Data that parses but does not conform to the shapes."""

    http_status = 422
    exit_code = 1


class CoverageGap(SmartcityKgError):
    """A duty of Article 19-4(2) that no task serves, where the user asked for none (CI)."""

    http_status = 422
    exit_code = 1


class DoctypeRefused(DataSyntaxError):
    """An RDF/XML file with a DOCTYPE: the parser expands its entities without any bound."""

    def __init__(self, path: str, line: int | None):
        super().__init__(
            path,
            line,
            "RDF/XML with a DOCTYPE is refused: its entity declarations (<!ENTITY) could expand "
            "without bound (billion laughs); write the entities out in full and remove the DOCTYPE",
        )


class StoreBusy(SmartcityKgError):
    """A load into a directory store while another load into it runs (it holds DIR.lock)."""

    http_status = 503
    exit_code = 1


class StoreUnreadable(StoreUnavailable):
    """An on-disk store whose files are damaged, truncated or changed since `load --into`."""

    http_status = 503
    exit_code = 2

    @classmethod
    def damaged(cls) -> "StoreUnreadable":
        """Return the error a client sees: what happened and who can mend it, not where."""
        return cls(
            "the store cannot be read: its files are damaged; the server's operator must load "
            "it again ('smartcity-kg load --into DIR --replace') and restart the server"
        )
