"""What the blueprints share: the engine, the query catalogue and what is derived from the store.

`create_app` builds one State (`init_app`) and every view reaches it through `state()`, so no
blueprint keeps an app extension of its own or imports another to get at one. The data never
changes while serving, so what is derived from the store (the publication, the coverage, the
prefixes, the conformance) is computed when first asked for and kept. The server answers with
threads: each of those is a `Lazy`, built under its own lock, once.
"""

import pyoxigraph as ox
from flask import Flask, current_app

from smartcity_kg.config import Config
from smartcity_kg.coverage.analyse import analyse
from smartcity_kg.coverage.model import Coverage
from smartcity_kg.lazy import Lazy
from smartcity_kg.publish.publication import Publication
from smartcity_kg.quality.shacl import validate_store
from smartcity_kg.rdf.files import graph_iri
from smartcity_kg.sparql.catalog import Catalog, dataset_prefixes, load_catalog
from smartcity_kg.sparql.engine import QueryEngine

EXTENSION = "smartcity_kg"


def init_app(app: Flask, engine: QueryEngine) -> None:
    """Load the catalogue now (a broken file stops the app, naming it) and keep the state."""
    app.extensions[EXTENSION] = State(app.config["SMARTCITY_KG"], engine, load_catalog())


def state(app: Flask | None = None) -> "State":
    """Return the State of `app` (by default, the app handling this request)."""
    return (app or current_app).extensions[EXTENSION]


class State:
    """The engine and catalogue, given at start; what they imply, built once when first used."""

    def __init__(self, config: Config, engine: QueryEngine, catalogue: Catalog):
        self.config = config
        self.engine = engine
        self.catalogue = catalogue
        self._publication = Lazy(lambda: Publication(engine.store, config.base_iri))
        self._coverage = Lazy(lambda: analyse(engine.store, catalogue))
        self._prefixes = Lazy(dataset_prefixes)
        self._conforms = Lazy(lambda: data_conforms(engine.store))

    @property
    def publication(self) -> Publication:
        """The dumps, dataset description and resource descriptions of the store."""
        return self._publication.get()

    @property
    def coverage(self) -> Coverage:
        """The coverage analyses of the store, by the catalogue's queries."""
        return self._coverage.get()

    @property
    def prefixes(self) -> dict[str, str]:
        """The prefixes the packaged Turtle files declare (for the query page)."""
        return self._prefixes.get()

    @property
    def conforms(self) -> bool | None:
        """Whether the data conforms to the shapes (validation is slow: once per app).

        None when the store has no packaged data graph (`serve --data` with other files).
        """
        return self._conforms.get()

    @property
    def base_iri(self) -> str:
        return self.config.base_iri

    def settle_conformance(self, known: bool | None = None) -> bool | None:
        """Keep `known`, a validation made elsewhere (`serve` makes one), or validate now."""
        if known is not None and not self._conforms.ready():
            self._conforms = Lazy(lambda: known)
        return self.conforms


def data_conforms(store: ox.Store) -> bool | None:
    """Validate the packaged data graph of `store`; None when it has none."""
    if ox.NamedNode(graph_iri("data")) not in set(store.named_graphs()):
        return None
    return bool(validate_store(store).conforms)
