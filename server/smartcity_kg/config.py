"""Configuration in one place: defaults, then SMARTCITY_KG_* environment variables."""

import os
from dataclasses import dataclass, fields, replace

from smartcity_kg.errors import InputError

BASE_IRI = "https://w3id.org/smartcity-kr/"
ENV_PREFIX = "SMARTCITY_KG_"


@dataclass(frozen=True)
class Config:
    """Settings shared by the server and the CLI; every limit has a safe default."""

    base_iri: str = BASE_IRI
    timeout: float = 10.0  # seconds a query may run before it is stopped
    max_rows: int = 10_000  # result rows returned before a result is cut and marked truncated
    max_query_length: int = 100_000  # characters
    max_body_bytes: int = 1_000_000
    workers: int = 2  # query worker processes per server process
    fast_lane: float = 0.5  # seconds a query may try a spare worker when all are busy; 0: none
    # bytes of query responses kept per server process (the data is immutable while serving);
    # a response is charged twice its body (room for its gzip copy); 0: no cache
    cache_bytes: int = 128 << 20
    store: str = "memory"
    rate_limit: int = 0  # requests per minute per client address; 0 = no limit
    rate_limit_loopback: bool = False  # also limit 127.0.0.1 and ::1 (else they are exempt)
    trusted_proxies: int = 0  # reverse proxies in front whose X-Forwarded-For is believed
    worker_memory: int = 1 << 30  # bytes a query may newly allocate in its worker process
    network_sandbox: bool = True  # take the network away from workers over a local store

    def __post_init__(self):
        for name in ("timeout", "max_rows", "max_query_length", "max_body_bytes", "workers",
                     "worker_memory"):  # fmt: skip
            if getattr(self, name) <= 0:
                value = getattr(self, name)
                raise InputError(f"configuration {name} must be positive, got {value}")
        for name in ("rate_limit", "trusted_proxies", "fast_lane", "cache_bytes"):
            if getattr(self, name) < 0:
                value = getattr(self, name)
                raise InputError(f"configuration {name} must be 0 or more, got {value}")
        if not self.base_iri.endswith("/"):
            raise InputError(f"configuration base_iri must end with '/', got {self.base_iri!r}")


def from_env(environ=None, **overrides) -> Config:
    """Build a Config from SMARTCITY_KG_* variables, then explicit overrides (CLI flags)."""
    environ = os.environ if environ is None else environ
    values = {}
    for field in fields(Config):
        raw = environ.get(ENV_PREFIX + field.name.upper())
        if raw is not None:
            values[field.name] = _coerce(field.name, field.type, raw)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return replace(Config(), **values)


BOOLEANS = {"1": True, "true": True, "yes": True, "on": True,
            "0": False, "false": False, "no": False, "off": False}  # fmt: skip


def _coerce(name: str, kind, raw: str):
    kind = kind if isinstance(kind, type) else {"float": float, "int": int, "str": str,
                                                "bool": bool}[kind]  # fmt: skip
    try:
        if kind is bool:
            return BOOLEANS[raw.strip().lower()]
        return kind(raw)
    except KeyError:
        variable = ENV_PREFIX + name.upper()
        raise InputError(f"{variable}={raw!r} is not a boolean (true or false)") from None
    except ValueError:
        variable = ENV_PREFIX + name.upper()
        raise InputError(f"{variable}={raw!r} is not a valid {kind.__name__}") from None
