"""The Flask adapter: an app factory wiring the shared state, blueprints and error rendering."""

from flask import Flask

from smartcity_kg.config import Config, from_env
from smartcity_kg.sparql.engine import QueryEngine


def create_app(config: Config | None = None, *, engine: QueryEngine | None = None) -> Flask:
    """Create the web app over `engine` (by default, one over the packaged graph)."""
    config = config or (engine.config if engine else from_env())
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=config.max_body_bytes,
        MAX_FORM_MEMORY_SIZE=config.max_body_bytes,
        SMARTCITY_KG=config,
    )

    from smartcity_kg.web import (
        coverage,
        downloads,
        errors,
        hooks,
        linked_data,
        pages,
        queries,
        security,
        service,
        sparql,
        state,
    )

    state.init_app(app, engine or QueryEngine(config))
    errors.init_app(app)
    hooks.init_app(app)
    security.init_app(app)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(service.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(queries.bp)
    app.register_blueprint(downloads.bp)
    app.register_blueprint(coverage.bp)
    app.register_blueprint(linked_data.bp)  # last: its /<path:path> answers every minted IRI
    return app
