"""A value computed when first asked for, once, however many threads ask at the same time."""

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    """The result of `compute()`, computed by the first caller of `get` while the others wait.

    Each value has its own lock, so computing one thing never waits for another (functools'
    cached_property held one lock for every instance of a class, and since Python 3.12 holds
    none). A failure is not kept: the next caller tries again.
    """

    def __init__(self, compute: Callable[[], T]):
        self._compute = compute
        self._lock = threading.Lock()
        self._done = False
        self._value: T | None = None

    def get(self) -> T:
        """Return the value, computing it if no one has yet."""
        if not self._done:
            with self._lock:
                if not self._done:
                    self._value = self._compute()
                    self._done = True
        return self._value

    def ready(self) -> bool:
        """Return whether the value has been computed."""
        return self._done
