"""Render every error the same way: its status and a one-line message, never a traceback."""

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from smartcity_kg.errors import QueryTimeout, SmartcityKgError, WorkerCrashed


def init_app(app: Flask) -> None:
    """Register the one handler for our errors and the one for HTTP errors (404, 405, 413...)."""
    app.register_error_handler(SmartcityKgError, render_error)
    app.register_error_handler(HTTPException, render_http_error)


def render_error(error: SmartcityKgError):
    """Answer with the error's own status and message."""
    if isinstance(error, QueryTimeout):
        g.flags = [*g.get("flags", []), "timeout"]
    elif isinstance(error, WorkerCrashed):
        g.flags = [*g.get("flags", []), "crashed"]
    return message_response(error.http_status, error.message)


def render_http_error(error: HTTPException):
    """Keep Werkzeug's status and headers (such as Allow) but replace its HTML page."""
    response = message_response(error.code or 500, error.description or error.name)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def message_response(status: int, message: str) -> Response:
    """Return `message` as JSON if the client prefers it, else as plain text (Vary: Accept)."""
    preferred = request.accept_mimetypes.best_match(["text/plain", "application/json"])
    if preferred == "application/json":
        response = jsonify(error={"status": status, "message": message})
    else:
        response = Response(message + "\n", content_type="text/plain; charset=utf-8")
    response.status_code = status
    response.vary.add("Accept")  # a 404 may be cached, and the same URL answers JSON or text
    return response
