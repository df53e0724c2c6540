"""The batch page's shared cache: bounded by bytes, and one visitor's entries never push out another's."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest

from rnndemo.shared_cache import OwnedByteCache, size_in_bytes


def sized(size: int):
    """A compute function whose value reports `size` bytes (through size_of=len)."""
    return lambda: b"x" * size


def test_a_visitor_over_their_share_loses_only_their_own_oldest_entries():
    cache = OwnedByteCache(max_bytes=1000, max_bytes_per_owner=300)
    cache.get_or_compute("alice-file", "alice", sized(200), size_of=len)
    for index in range(6):  # bob floods the cache with small files
        cache.get_or_compute(f"bob-{index}", "bob", sized(100), size_of=len)
    assert cache.contains("alice-file")
    assert [cache.contains(f"bob-{index}") for index in range(6)] == [False, False, False, True, True, True]
    assert cache.owner_bytes("bob") == 300 and cache.owner_bytes("alice") == 200


def test_over_the_whole_bound_the_owner_holding_most_loses_first():
    cache = OwnedByteCache(max_bytes=500, max_bytes_per_owner=300)
    cache.get_or_compute("a", "alice", sized(150), size_of=len)
    cache.get_or_compute("b1", "bob", sized(150), size_of=len)
    cache.get_or_compute("b2", "bob", sized(150), size_of=len)
    cache.get_or_compute("c", "carol", sized(150), size_of=len)  # 600 > 500: bob holds most
    assert cache.contains("a") and cache.contains("c") and cache.contains("b2") and not cache.contains("b1")
    assert cache.total_bytes <= 500


def test_a_value_bigger_than_a_share_is_served_but_not_kept():
    cache = OwnedByteCache(max_bytes=1000, max_bytes_per_owner=300)
    cache.get_or_compute("small", "alice", sized(100), size_of=len)
    assert cache.get_or_compute("huge", "alice", sized(400), size_of=len) == b"x" * 400
    assert not cache.contains("huge") and cache.contains("small")


def test_entries_expire_after_their_time_to_live():
    now = [0.0]
    cache = OwnedByteCache(max_bytes=1000, max_bytes_per_owner=500, ttl_seconds=60, clock=lambda: now[0])
    cache.get_or_compute("file", "alice", sized(10), size_of=len)
    now[0] = 59.0
    assert cache.contains("file")
    now[0] = 120.0
    assert not cache.contains("file")


def test_threads_asking_for_one_key_at_once_compute_it_once():
    cache = OwnedByteCache(max_bytes=1000, max_bytes_per_owner=500)
    calls = []

    def slow() -> bytes:
        calls.append(1)
        time.sleep(0.2)
        return b"scores"

    results = []
    threads = [
        threading.Thread(target=lambda owner=owner: results.append(cache.get_or_compute("file", owner, slow)))
        for owner in ("a", "b", "c", "d")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and results == [b"scores"] * 4


def test_a_failed_computation_is_not_cached():
    cache = OwnedByteCache(max_bytes=1000, max_bytes_per_owner=500)

    def fail():
        raise ValueError("bad file")

    with pytest.raises(ValueError):
        cache.get_or_compute("file", "alice", fail)
    assert not cache.contains("file")
    assert cache.get_or_compute("file", "alice", sized(5), size_of=len) == b"xxxxx"


def test_sizes_count_tables_deeply_and_arrays_by_their_buffers():
    frame = pd.DataFrame({"text": ["a" * 10_000] * 10})
    assert size_in_bytes(frame) >= 100_000
    assert size_in_bytes({"lstm": np.zeros(1000)}) >= 8000


def test_shares_must_fit_the_whole():
    with pytest.raises(ValueError):
        OwnedByteCache(max_bytes=100, max_bytes_per_owner=200)
