"""Where the packaged graph files live, installed or in a source checkout."""

from importlib import resources
from pathlib import Path

GRAPH_DIRS = ("ontology", "data", "shapes", "queries")


def package_dir(name: str) -> Path:
    """Return the folder `name`, from the installed package or else the source checkout.

    A wheel carries the folders inside the package (see pyproject.toml); an editable install
    or a plain checkout finds them at the repository root instead.
    """
    if name not in GRAPH_DIRS:
        raise ValueError(f"unknown packaged folder {name!r}; expected one of {GRAPH_DIRS}")
    installed = Path(str(resources.files("smartcity_kg"))) / name
    if installed.is_dir():
        return installed
    checkout = Path(__file__).resolve().parents[2] / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"the packaged folder {name!r} is missing: reinstall smartcity-kg")


def turtle_files(name: str) -> list[Path]:
    """Return the Turtle files of a packaged folder in a stable order."""
    return sorted(package_dir(name).glob("*.ttl"))
