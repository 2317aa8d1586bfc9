"""The query page at `/`: editor, named-query picker, results (web/query_page.py renders it)."""

from flask import Blueprint

from smartcity_kg.web.query_page import render_query_page

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    """Show the query page, pre-filled from ?query=... or ?name=... (and that query's params)."""
    return render_query_page()
