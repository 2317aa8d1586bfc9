"""The downloads page and the dump files, with the validators a mirror or a cache needs."""

import base64

from flask import Blueprint, Response, render_template, request

from smartcity_kg.publish.dumps import Dump
from smartcity_kg.publish.void import format_title
from smartcity_kg.web.links import local_path
from smartcity_kg.web.state import state

bp = Blueprint("downloads", __name__)


@bp.get("/downloads")
def index():
    """List every dump with its size and SHA-256, next to the dataset description."""
    pub = state().publication
    return render_template(
        "downloads.html",
        dumps=[(dump, format_title(dump.format)) for dump in pub.dumps.all()],
        description=pub.description,
        dataset_path=local_path(pub.description.iri),
    )


@bp.get("/downloads/SHA256SUMS")
def checksums():
    """Serve the checksums in `sha256sum -c` form."""
    lines = "".join(f"{dump.sha256}  {dump.name}\n" for dump in state().publication.dumps.all())
    return Response(lines, content_type="text/plain; charset=utf-8")


@bp.get("/downloads/<name>")
def download(name: str):
    """Serve one dump: the same bytes as `smartcity-kg export`, named, tagged and dated."""
    pub = state().publication
    dump = pub.dumps.get(name)
    response = Response(dump.data, content_type=dump.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{dump.name}"'
    response.headers["Repr-Digest"] = f"sha-256=:{_base64_digest(dump)}:"
    response.set_etag(dump.sha256)
    response.last_modified = pub.modified
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response.make_conditional(request, accept_ranges=True, complete_length=dump.size)


def _base64_digest(dump: Dump) -> str:
    return base64.b64encode(bytes.fromhex(dump.sha256)).decode()
