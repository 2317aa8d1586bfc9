"""What the service says about its health at /healthz: release, size, conformance."""

from flask import Blueprint, Flask, jsonify

from smartcity_kg import __version__
from smartcity_kg.web.service_description import named_graphs
from smartcity_kg.web.state import state

bp = Blueprint("service", __name__)


@bp.get("/healthz")
def healthz():
    """Report the release, the size of the data and whether it conforms to the shapes."""
    store = state().engine.store
    return jsonify(
        status="ok",
        release=__version__,
        triples=len(store),
        graphs=len(named_graphs(store)),
        conforms=state().conforms,
    )


def check_conformance(app: Flask, known: bool | None = None) -> None:
    """Validate now (or record `known`), so that the first /healthz answers at once.

    `serve` calls this at start, with the answer of its own validation when it made one.
    """
    state(app).settle_conformance(known)
