"""Time what a fresh process pays to describe its first resource, then the dataset itself.

Describing a resource builds the describer over the store and the dataset description's outline;
the dumps (serialised, gzipped, hashed) wait until a download or the dataset's own description
asks for their sizes and checksums. Each step prints its wall and CPU seconds and how many dump
files are written so far. Over the packaged graph, or the ontology with a generated data folder:

    python bench/generate.py --triples 100k --seed 1 --output bench/out/100k
    python bench/first_resource.py --data bench/out/100k
"""

import argparse
import time
from pathlib import Path

from smartcity_kg.config import BASE_IRI
from smartcity_kg.publish.publication import Publication
from smartcity_kg.rdf.files import GraphSource, graph_iri, load_store, packaged_sources


def sources(data: Path | None) -> list[GraphSource]:
    """Return the packaged sources, with the data graph read from `data` if given."""
    found = packaged_sources()
    if data is None:
        return found
    files = tuple(p for p in sorted(data.iterdir()) if p.suffix in (".ttl", ".nt"))
    swapped = GraphSource(graph_iri("data"), files)
    return [swapped if s.iri == swapped.iri else s for s in found]


def describe(label: str, publication: Publication, iri: str) -> None:
    """Describe `iri` and print the time it took and the dump files written so far."""
    wall, cpu = time.perf_counter(), time.process_time()
    publication.describer.describe(iri)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    written = len(publication.dumps.ready())
    print(f"{label:<36} {wall:7.3f} s wall {cpu:7.3f} s CPU   dump files written: {written}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a folder from bench/generate.py")
    parser.add_argument("--resource", default="institution/kaia", help="relative to the base")
    args = parser.parse_args()
    store = load_store(sources(args.data))
    print(f"{len(store)} quads")
    publication = Publication(store, BASE_IRI)
    resource = BASE_IRI + args.resource
    describe(f"{args.resource}, first", publication, resource)
    describe(f"{args.resource}, again", publication, resource)
    describe("dataset, first", publication, publication.description.iri)


if __name__ == "__main__":
    main()
