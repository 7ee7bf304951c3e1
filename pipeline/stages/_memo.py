"""A memo for a stage's work that most of its settings do not change.

Moving one slider of a stage reruns the whole stage; some stages spend most of their time on
steps that slider does not affect (``contrast_binarise`` finds the stroke edges and their window
statistics before ``k`` is used). :func:`remember` keeps such a step's result for recent images,
keyed by a digest of the pixels and the settings the step reads, so the next call with the same
image and settings skips it. The result is the same either way: a stage stays a pure function.

The script :func:`pipeline.export.export_python` writes has no memo: it runs each stage once, and
its ``remember`` (:func:`pipeline.standalone.remember`) just computes.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

import numpy as np

from ..cache import BoundedCache, image_digest

T = TypeVar("T")

MEMO_BYTES = 48 * 2**20
"""Most bytes of arrays the memo keeps (a 2 MP page's ``contrast_binarise`` statistics are 33 MB;
a result larger than this is computed and not kept)."""
_MEMO: BoundedCache[object] = BoundedCache(max_entries=8, max_bytes=MEMO_BYTES)


def remember(tag: str, image: np.ndarray, settings: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """``compute()``, or its earlier result for the same ``tag``, pixels of ``image`` and ``settings``.

    Parameters
    ----------
    tag:
        Names the step (one memo serves every stage).
    image:
        The image the step reads; its pixels, shape and dtype are hashed
        (:func:`~pipeline.cache.image_digest`), not its identity.
    settings:
        Every setting the step reads.
    compute:
        Computes the step; its arrays are made read-only when kept, as they are shared.
    """
    key = (tag, image_digest(image), settings)
    hit = _MEMO.get(key)
    if hit is not None:
        return hit  # type: ignore[return-value]
    value = compute()
    if BoundedCache.sizeof(value) <= MEMO_BYTES:
        for array in value if isinstance(value, tuple) else (value,):
            if isinstance(array, np.ndarray):
                array.flags.writeable = False
        _MEMO.put(key, value)
    return value


def clear() -> None:
    """Forget every kept result (for tests and timings)."""
    _MEMO.clear()
