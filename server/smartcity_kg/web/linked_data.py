"""Dereferencing: every IRI under the base answers on this server's own paths.

An IRI names a thing (an institution, a task, a provision), so it answers 303 See Other to a
document about it, chosen by Accept: `/institution/kaia` → `/institution/kaia.ttl` (or .nt,
.jsonld, .rdf, .nq, .trig) or `/institution/kaia.html`. Documents answer 200 and never vary
on Accept, so each has one stable URL to link, cache and cite. Hash IRIs (`def#Term`,
`task/…#duty-3`) are described by the document of the IRI before the '#'.
"""

import hashlib
from urllib.parse import urlsplit

from flask import Blueprint, Response, make_response, redirect, render_template, request

from smartcity_kg.errors import NotFound
from smartcity_kg.publish.page import LANGUAGES, Viewer
from smartcity_kg.publish.publication import serialize_description
from smartcity_kg.rdf import formats
from smartcity_kg.rdf.formats import ResultKind
from smartcity_kg.web.errors import render_error
from smartcity_kg.web.links import local_path, reader_language, remember_language
from smartcity_kg.web.negotiation import negotiate
from smartcity_kg.web.state import state

bp = Blueprint("linked_data", __name__)

HTML_EXTENSION = "html"
LINK_SCHEMES = ("http", "https")


@bp.get("/<path:path>")
def resource(path: str):
    """Answer an IRI with 303 to its document, or a document URL with the document itself."""
    stem, ext = split_extension(path)
    if ext is not None:
        return document(stem, ext)
    iri = state().base_iri + path
    describer = state().publication.describer
    target = describer.version_of(iri) or iri
    describer.describe(target)  # raises NotFound for an IRI we do not use
    fmt = negotiate(ResultKind.GRAPH, html=True)
    extension = HTML_EXTENSION if fmt is None else fmt.extension
    response = redirect(f"{local_path(target)}.{extension}", code=303)
    response.vary.add("Accept")
    return response


@bp.get("/.well-known/void")
def well_known_void():
    """Answer with the dataset's VoID and DCAT description (RDF by Accept, Turtle by default)."""
    fmt = negotiate(ResultKind.GRAPH)  # never None without html=True
    iri = state().publication.description.iri
    response = rdf_document(iri, fmt)
    document_path = local_path(iri)
    response.headers["Content-Location"] = f"{document_path}.{fmt.extension}"
    response.vary.add("Accept")
    return response


@bp.get("/context.jsonld")
def context():
    """Serve the JSON-LD context, so clients can compact our data to short keys."""
    body = state().publication.context
    response = Response(body, content_type="application/ld+json")
    response.set_etag(_etag(body))
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response.make_conditional(request)


def document(stem: str, ext: str):
    """Serve the description of the IRI `stem` as HTML or in the RDF format of `ext`."""
    iri = state().base_iri + stem
    if ext == HTML_EXTENSION:
        return html_document(iri)
    return rdf_document(iri, formats.by_extension(ext))


def rdf_document(iri: str, fmt) -> Response:
    description = state().publication.describer.describe(iri)
    body = serialize_description(description.triples, fmt.oxigraph)
    response = Response(body, content_type=fmt.content_type)
    response.headers["Link"] = f'<{description.document}>; rel="describes"'
    response.set_etag(_etag(body))
    return response.make_conditional(request)


def html_document(iri: str):
    describer = state().publication.describer
    description = describer.describe(iri)
    lang = reader_language()
    view = Viewer(describer, lang, request.script_root).view(description)
    page = render_template(
        "resource.html",
        view=view,
        lang=lang,
        other_lang=next(code for code in LANGUAGES if code != lang),
        formats=formats.formats_for(ResultKind.GRAPH),
        local=local_path(description.document),
        describe_query=f"DESCRIBE <{description.document}>",
    )
    return remember_language(make_response(page), lang)


@bp.app_template_test("linkable")
def is_linkable(href: str | None) -> bool:
    """Return whether `href` may be a link: a path on this server, or an http(s) URL.

    Foreign data can hold an IRI of any scheme; as an href, `javascript:` would run and
    `data:` would show its author's page on a click, so such IRIs are shown as text.
    """
    try:
        scheme = urlsplit(href or "").scheme.lower()
    except ValueError:
        return False
    return scheme in LINK_SCHEMES or (not scheme and (href or "").startswith("/"))


def split_extension(path: str) -> tuple[str, str | None]:
    """Split `institution/kaia.ttl` into ('institution/kaia', 'ttl'); no known extension, None."""
    stem, dot, ext = path.rpartition(".")
    if dot and "/" not in ext and (ext == HTML_EXTENSION or _rdf_extension(ext)):
        return stem, ext
    return path, None


def _rdf_extension(ext: str) -> bool:
    fmt = formats.by_extension(ext)
    return fmt is not None and fmt.kind is ResultKind.GRAPH


def _etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@bp.errorhandler(NotFound)
def not_found(error: NotFound):
    """Show browsers a page that helps (what exists nearby); give other clients one line."""
    if request.accept_mimetypes.best_match(["text/plain", "text/html"]) != "text/html":
        return render_error(error)
    path = request.path.removeprefix(request.script_root).lstrip("/")
    stem, _ = split_extension(path)
    iri = state().base_iri + stem
    namespace = iri.rsplit("/", 1)[0] + "/"
    nearby = [d for d in state().publication.describer.documents if d.startswith(namespace)][:50]
    page = render_template(
        "not_found.html",
        iri=iri,
        message=error.message,
        nearby=[(d, local_path(d)) for d in nearby],
        lang=reader_language(),
    )
    response = make_response(page, 404)
    response.vary.add("Accept")  # the same URL answers plain text to other clients
    return response
