"""Handing work out in chunks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.batch.chunks import MAX_CHUNK, default_chunk_size, split, useful_workers


@given(st.lists(st.integers(), max_size=300), st.integers(1, 50))
def test_split_keeps_every_item_in_order(items: list[int], size: int) -> None:
    chunks = split(items, size)
    assert [x for chunk in chunks for x in chunk] == items
    assert all(1 <= len(c) <= size for c in chunks)
    assert all(len(c) == size for c in chunks[:-1])


def test_split_refuses_empty_chunks() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        split([1, 2], 0)


@pytest.mark.parametrize(
    ("inputs", "workers", "size"),
    [(0, 2, 1), (3, 2, 1), (598, 2, 10), (598, 1, 19), (1_000_000, 100, MAX_CHUNK)],
)
def test_default_chunk_size(inputs: int, workers: int, size: int) -> None:
    assert default_chunk_size(inputs, workers) == size


def test_default_chunks_give_every_worker_many_chunks() -> None:
    for inputs in (100, 598, 5000):
        for workers in (1, 2, 8):
            chunks = len(split(list(range(inputs)), default_chunk_size(inputs, workers)))
            assert chunks >= min(inputs, 16 * workers)


def test_small_batches_start_fewer_workers() -> None:
    assert useful_workers(2, 3) == 1
    assert useful_workers(2, 16) == 2
    assert useful_workers(8, 20) == 2
    assert useful_workers(4, 10_000) == 4
