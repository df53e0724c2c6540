"""A thread-safe cache bounded by bytes, in which one owner's entries never push out another's.

The batch page keeps each uploaded file's parsed table and its models' probabilities, so a rerun
(any click) does not score the file again: the largest allowed file costs ~23 s of CPU per scoring.
Streamlit's own cache is bounded by a count shared by everyone: with 4 entries, 6 visitors uploading
their own files evicted each other, and one visitor with a few small files could evict everyone.

Here every entry has an owner (a session). An owner who goes over its share of bytes loses its own
least recently used entries. When the whole cache goes over its bound, the owner holding the most bytes
loses its oldest entry first, so a visitor who uploads much only ever evicts their own work while
the others stay within their share. Entries also expire after a time to live.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class _Entry:
    value: Any
    owner: str
    size: int  # bytes
    stored_at: float  # time.monotonic()


def size_in_bytes(value: Any) -> int:
    """An estimate of the memory a cached value holds: tables deeply, arrays by their buffers."""
    if isinstance(value, pd.DataFrame):
        return int(value.memory_usage(deep=True, index=True).sum())
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(size_in_bytes(key) + size_in_bytes(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return sys.getsizeof(value) + sum(size_in_bytes(item) for item in value)
    if hasattr(value, "__dataclass_fields__"):
        return sys.getsizeof(value) + sum(size_in_bytes(getattr(value, name)) for name in value.__dataclass_fields__)
    return sys.getsizeof(value)


class OwnedByteCache:
    """get_or_compute(key, owner, compute): a value computed once per key (even when threads ask at once)."""

    def __init__(
        self,
        max_bytes: int,
        max_bytes_per_owner: int,
        ttl_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < max_bytes_per_owner <= max_bytes:
            raise ValueError("max_bytes_per_owner must be positive and at most max_bytes")
        self.max_bytes = max_bytes
        self.max_bytes_per_owner = max_bytes_per_owner
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}

    def get_or_compute(
        self, key: Hashable, owner: str, compute: Callable[[], Any], size_of: Callable[[Any], int] = size_in_bytes
    ) -> Any:
        """The cached value of `key`, or `compute()`'s, kept for `owner` (exceptions are not cached)."""
        found, value = self._lookup(key)
        if found:
            return value
        try:
            with self._key_lock(key):  # one computation per key: a second asker waits for the first
                found, value = self._lookup(key)
                if not found:
                    value = compute()
                    self._store(key, owner, value, size_of(value))
                return value
        finally:
            with self._lock:
                self._computing.pop(key, None)

    def contains(self, key: Hashable) -> bool:
        return self._lookup(key)[0]

    def owner_bytes(self, owner: str) -> int:
        with self._lock:
            return sum(entry.size for entry in self._entries.values() if entry.owner == owner)

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return sum(entry.size for entry in self._entries.values())

    def _key_lock(self, key: Hashable) -> threading.Lock:
        with self._lock:
            return self._computing.setdefault(key, threading.Lock())

    def _lookup(self, key: Hashable) -> tuple[bool, Any]:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False, None
            if self.ttl_seconds is not None and self._clock() - entry.stored_at > self.ttl_seconds:
                del self._entries[key]
                return False, None
            self._entries.move_to_end(key)
            return True, entry.value

    def _store(self, key: Hashable, owner: str, value: Any, size: int) -> None:
        if size > self.max_bytes_per_owner:
            return  # bigger than any one owner may hold: served, not kept
        with self._lock:
            self._entries[key] = _Entry(value, owner, size, self._clock())
            self._evict_own(owner)
            self._evict_largest_owners()

    def _evict_own(self, owner: str) -> None:
        keys = [key for key, entry in self._entries.items() if entry.owner == owner]  # oldest first
        held = sum(self._entries[key].size for key in keys)
        for key in keys[:-1]:  # never the entry just stored, which fits on its own
            if held <= self.max_bytes_per_owner:
                break
            held -= self._entries.pop(key).size

    def _evict_largest_owners(self) -> None:
        while sum(entry.size for entry in self._entries.values()) > self.max_bytes:
            held: dict[str, int] = {}
            for entry in self._entries.values():
                held[entry.owner] = held.get(entry.owner, 0) + entry.size
            largest = max(held, key=held.get)
            oldest = next(key for key, entry in self._entries.items() if entry.owner == largest)
            del self._entries[oldest]
