"""A least-recently-used cache bounded in entries and in (estimated) bytes: the web's read cache."""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

MAX_ENTRIES = 256
MAX_BYTES = 32 * 1024 * 1024


def size_of(value: Any, budget: int = 100_000) -> int:
    """The approximate bytes held by ``value`` and what it contains (up to ``budget`` objects)."""
    total, stack, seen = 0, [value], 0
    while stack and seen < budget:
        item = stack.pop()
        seen += 1
        total += sys.getsizeof(item)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
    return total


class BoundedCache:
    """Entries under hashable keys; the least recently used go first past either bound."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        """Keep at most ``max_entries`` entries and about ``max_bytes`` bytes."""
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        """The entry under ``key`` (now the most recently used), else None."""
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def __setitem__(self, key: Hashable, entry: Any) -> None:
        """Store an entry, then drop the least recently used ones past either bound."""
        self.pop(key)
        size = size_of(key) + size_of(entry)
        if size > self.max_bytes:
            return  # never cached: it alone would exceed the bound
        self._items[key] = (entry, size)
        self.nbytes += size
        while len(self._items) > self.max_entries or self.nbytes > self.max_bytes:
            self.pop(next(iter(self._items)))

    def pop(self, key: Hashable) -> None:
        """Drop the entry under ``key`` if there is one."""
        found = self._items.pop(key, None)
        if found is not None:
            self.nbytes -= found[1]

    def clear(self) -> None:
        """Drop every entry."""
        self._items.clear()
        self.nbytes = 0

    def __len__(self) -> int:
        """How many entries are kept."""
        return len(self._items)
