"""One bounded least-recently-used map, shared by every cache and memory that a stranger can fill.

Bounded by a budget of weights (bytes for results, 1 for a remembered shape), so that no sequence
of requests can grow a process past what its operator configured. Thread-safe: the lock is held
only for dictionary updates.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable


class Lru:
    """A map keeping the most recently used items whose weights fit `budget`.

    >>> lru = Lru(10, weigh=len)
    >>> lru.put("a", "12345"), lru.put("b", "123456"), lru.put("c", "12345678901")
    (True, True, False)
    >>> "a" in lru, "b" in lru, lru.used
    (False, True, 6)
    """

    def __init__(self, budget: int, *, weigh: Callable[[object], int] = lambda value: 1):
        self.budget = budget
        self._weigh = weigh
        self._items: OrderedDict = OrderedDict()  # key -> (value, weight)
        self._used = 0
        self._lock = threading.Lock()

    def __contains__(self, key: Hashable) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        return len(self._items)

    @property
    def used(self) -> int:
        """Return the summed weight of the items kept."""
        return self._used

    def get(self, key: Hashable):
        """Return the value for `key` (now the most recently used), or None."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value) -> bool:
        """Keep `value`, dropping the least recently used; False if it outweighs the budget."""
        weight = self._weigh(value)
        if weight > self.budget:
            return False
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._used -= old[1]
            self._items[key] = (value, weight)
            self._used += weight
            while self._used > self.budget:
                _, (_, dropped) = self._items.popitem(last=False)
                self._used -= dropped
        return True
