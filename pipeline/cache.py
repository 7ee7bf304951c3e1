"""The one bounded, thread-safe LRU cache type: stage outputs, studio previews, tuner OCR memos."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

import numpy as np

V = TypeVar("V")


class BoundedCache(Generic[V]):
    """Least-recently-used cache bounded by entry count and by the bytes of its arrays.

    Parameters
    ----------
    max_entries:
        Most entries kept.
    max_bytes:
        Most bytes of NumPy arrays kept (the arrays found in each value, see :meth:`sizeof`).
    """

    def __init__(self, max_entries: int = 256, max_bytes: int = 512 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._data: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def sizeof(value: object) -> int:
        """Bytes of the arrays and byte strings in ``value`` (one, or a tuple holding them); 64 for others."""
        if isinstance(value, np.ndarray):
            return value.nbytes
        if isinstance(value, bytes):
            return len(value)
        if isinstance(value, tuple):
            return sum(BoundedCache.sizeof(v) for v in value)
        return 64

    def get(self, key: Hashable) -> V | None:
        """The value stored under ``key`` (marking it recently used), or ``None``."""
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            self._data.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: V) -> None:
        """Store ``value``; evict the least recently used entries beyond the bounds."""
        size = self.sizeof(value)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._data[key] = (value, size)
            self._bytes += size
            while len(self._data) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, dropped) = self._data.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._data.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._data)

    @property
    def nbytes(self) -> int:
        """Bytes currently held."""
        return self._bytes


def image_digest(image: np.ndarray) -> str:
    """A short content hash of an image (pixels, shape and dtype): the key of cached image work.

    SHA-256, which CPUs with SHA extensions hash about 3x faster than BLAKE2 (1.5 ms against
    4 ms for a 2 MP page), cut to 128 bits.
    """
    h = hashlib.sha256(f"{image.shape}|{image.dtype}|".encode())
    h.update(np.ascontiguousarray(image).data)
    return h.hexdigest()[:32]
