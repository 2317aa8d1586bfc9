"""Hostile bytes on the wire against a real server: what a test client cannot send."""

import contextlib
import socket
import threading

import pytest

pytestmark = pytest.mark.server

LEAKS = (b"Traceback", b"/work/", b"site-packages", b'File "', b"/opt/", b"/usr/lib/python")


def exchange(server, request: bytes, timeout: float = 20) -> bytes:
    """Send raw bytes to the server; return everything it answers before closing.

    The write side stays open (granian takes a half-closed request as abandoned), and sending
    runs in a thread: an oversized request is refused before it is all read.
    """
    host, port = server.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as conn:
        sender = threading.Thread(target=_send_quietly, args=(conn, request))
        sender.start()
        chunks = []
        with contextlib.suppress(ConnectionResetError):  # closed with the request unread
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        sender.join()
    return b"".join(chunks)


def _send_quietly(conn: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):
        conn.sendall(data)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def assert_safe(answer: bytes) -> None:
    assert answer.startswith(b"HTTP/1."), answer[:200]
    assert status_of(answer) < 500 or status_of(answer) == 503, answer[:500]
    for leak in LEAKS:
        assert leak not in answer, answer[:800]


def get(target: bytes, *headers: bytes) -> bytes:
    lines = [b"GET " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close", *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def post(body: bytes, content_type: bytes) -> bytes:
    head = [b"POST /sparql HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close",
            b"Content-Type: " + content_type, b"Content-Length: %d" % len(body)]  # fmt: skip
    return b"\r\n".join(head) + b"\r\n\r\n" + body


INVALID_UTF8 = {
    "query in the request line": get(b"/sparql?query=SELECT%20*%20%7B%FF%FE%7D"),
    "raw bytes in the query string": get(b"/sparql?query=SELECT\xff\xfe\xc0\xaf"),
    "raw bytes in a resource path": get(b"/institution/\xff\xfe\xc0\xaf"),
    "raw bytes in a named query": get(b"/queries/\xff\xfe"),
    "raw bytes in a download name": get(b"/downloads/\xc0\xae\xc0\xae"),
    "Accept": get(b"/sparql?query=ASK%7B%7D", b"Accept: \xff\xfe/\xc0\xaf"),
    "Accept-Language": get(b"/def.html", b"Accept-Language: \xff\xfe;q=\xc0"),
    "Cookie": get(b"/def.html", b"Cookie: lang=\xff\xfe"),
    "direct POST body": post(b"SELECT * {\xff\xfe}", b"application/sparql-query"),
    "form POST body": post(b"query=SELECT%20*%20%7B%FF%7D", b"application/x-www-form-urlencoded"),
    "Content-Type": post(b"ASK {}", b"application/sparql-query; charset=\xff\xfe"),
}


@pytest.mark.parametrize("request_bytes", INVALID_UTF8.values(), ids=INVALID_UTF8.keys())
def test_invalid_utf8_is_a_client_error_or_answered(packaged_sparql_server, request_bytes):
    assert_safe(exchange(packaged_sparql_server, request_bytes))


def test_huge_header_is_refused(packaged_sparql_server):
    answer = exchange(packaged_sparql_server, get(b"/", b"Accept: " + b"a" * 200_000))
    assert_safe(answer)
    assert 400 <= status_of(answer) < 500


def test_many_headers_are_refused(packaged_sparql_server):
    headers = [b"X-H%d: v" % i for i in range(500)]
    answer = exchange(packaged_sparql_server, get(b"/", *headers))
    assert_safe(answer)
    assert 400 <= status_of(answer) < 500


def test_huge_request_line_is_refused_without_reading_it_all(packaged_sparql_server):
    """The query limit (100,000 characters) applies; the line may be up to three times that."""
    answer = exchange(packaged_sparql_server, get(b"/sparql?query=" + b"%20" * 2_000_000))
    assert_safe(answer)
    assert status_of(answer) in (400, 413, 414, 431)


@pytest.fixture
def server_to_crash(request, disposable_store, sparql_server_factory):
    """The shared server; under `url`, one over an Oxigraph server of its own (see below)."""
    if disposable_store.kind != "url":
        return request.getfixturevalue("packaged_sparql_server")
    return sparql_server_factory(*disposable_store.serve_args)


@pytest.mark.parametrize("opening", [b"%7B", b"(", b"%5B"], ids=["braces", "parens", "brackets"])
def test_deep_nesting_is_refused_and_the_store_stays_up(server_to_crash, opening):
    closing = {b"%7B": b"%7D", b"(": b")", b"%5B": b"%5D"}[opening]
    query = b"SELECT%20*%20%7B%20?s%20?p%20" + opening * 5000 + closing * 5000 + b"%7D"
    answer = exchange(server_to_crash, get(b"/sparql?query=" + query))
    assert_safe(answer)
    assert status_of(answer) == 400
    braces = b"SELECT%20*%20" + b"%7B" * 5000 + b"%7D" * 5000
    assert status_of(exchange(server_to_crash, get(b"/sparql?query=" + braces))) == 400
    assert status_of(exchange(server_to_crash, get(b"/sparql?query=ASK%7B%7D"))) == 200


def test_nesting_behind_a_codepoint_escape_is_refused_and_the_store_stays_up(server_to_crash):
    """`<http://x/\u0041#>` once hid the rest of the line, and 3,000 `{` after it took a remote
    Oxigraph server down (every later query 502)."""
    hidden = b"BIND(%3Chttp://x/%5Cu0041%23%3E%20AS%20?a)%20" + b"%7B" * 3000 + b"%7D" * 3000
    answer = exchange(server_to_crash, get(b"/sparql?query=SELECT%20*%20%7B%20" + hidden + b"%7D"))
    assert_safe(answer)
    assert status_of(answer) == 400 and b"levels" in answer
    assert status_of(exchange(server_to_crash, get(b"/sparql?query=ASK%7B%7D"))) == 200


def test_body_larger_than_announced_limit_is_413(packaged_sparql_server):
    announced = post(b"ASK {}", b"application/sparql-query")
    answer = exchange(packaged_sparql_server, announced.replace(b"Length: 6", b"Length: 50000000"))
    assert status_of(answer) == 413
    assert_safe(answer)


def test_chunked_body_over_the_limit_is_413(packaged_sparql_server):
    chunk = b"#" * 65536
    body = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 20 + b"0\r\n\r\n"  # 1.3 MB > 1 MB
    head = post(b"", b"application/sparql-query").replace(
        b"Content-Length: 0", b"Transfer-Encoding: chunked"
    )
    answer = exchange(packaged_sparql_server, head + body)
    assert status_of(answer) == 413
    assert_safe(answer)
