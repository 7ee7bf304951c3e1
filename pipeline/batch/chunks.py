"""Handing work out in chunks: how big, and the chunks themselves.

A chunk is the unit sent to a worker (a process or a Dask task): large enough that sending it
costs little against the OCR inside it, small enough that the workers finish together and
progress moves steadily. The default aims at about :data:`CHUNKS_PER_WORKER` chunks per worker.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

CHUNKS_PER_WORKER = 32
"""Chunks per worker the default size aims at (more: better balance; fewer: less overhead)."""

MAX_CHUNK = 256
"""Largest default chunk, in inputs (a million inputs on 100 workers: about 3,900 tasks)."""

MIN_INPUTS_PER_WORKER = 8
"""A worker process is started for every this many inputs at most; a smaller batch stays in-process."""


def default_chunk_size(inputs: int, workers: int) -> int:
    """Inputs per chunk for ``inputs`` inputs on ``workers`` workers: 1 .. :data:`MAX_CHUNK`."""
    return max(1, min(MAX_CHUNK, math.ceil(inputs / (max(1, workers) * CHUNKS_PER_WORKER))))


def split(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` cut into consecutive chunks of ``size`` (the last one may be shorter)."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def useful_workers(requested: int, inputs: int) -> int:
    """How many worker processes are worth starting for ``inputs`` inputs (at least 1)."""
    return max(1, min(requested, inputs // MIN_INPUTS_PER_WORKER))
