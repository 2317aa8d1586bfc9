"""What the HTML pages share: this server's path for a minted IRI and the reader's language."""

from flask import Response, request

from smartcity_kg.publish.page import LANGUAGES
from smartcity_kg.web.state import state

LANG_COOKIE = "lang"
LANG_COOKIE_SECONDS = 365 * 24 * 3600


def local_path(iri: str) -> str:
    """Return this server's path for an IRI under the base."""
    return f"{request.script_root}/{iri[len(state().base_iri) :]}"


def reader_language() -> str:
    """Pick the page language: ?lang=, then the switch's cookie, then Accept-Language."""
    for candidate in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def remember_language(response: Response, lang: str) -> Response:
    """Keep a language picked by ?lang= in the switch's cookie; say what the page varies on."""
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    if request.args.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, samesite="Lax", max_age=LANG_COOKIE_SECONDS)
    return response
