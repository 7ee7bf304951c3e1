"""Reading the tuning images with candidate presets, in a pool of worker processes.

:class:`Reader` runs one preset on one image and OCRs the result; :class:`Evaluator` fans a
batch of ``presets x images`` readings out to ``jobs`` worker processes and returns them in
submission order, so the scores never depend on which worker finished first. The workers are
started with ``spawn`` (safe from a threaded parent) and receive the images once, when they
start. The studio tunes with ``jobs=1``: under ``streamlit run`` spawned workers would import
the app script again. Each worker keeps its own stage cache and a memo of OCR results by
final image, so trials that differ only in late stages or produce an image already read cost
little.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import NamedTuple

import numpy as np

from ..cache import BoundedCache
from ..errors import ClarityError, LanguageNotInstalled, TesseractNotFound
from ..evaluate import Reading
from ..ocr import OcrOptions, recognize
from ..preset import Preset
from ..reading import prefer_second
from ..runner import image_digest, run

FATAL = (TesseractNotFound, LanguageNotInstalled)
"""OCR errors that no preset can avoid: tuning stops with them instead of scoring the image 0."""

_MEMO_ENTRIES = 2048


class _Text(NamedTuple):
    """The part of an OCR result the scores need (the memo keeps no word boxes)."""

    text: str
    mean_conf: float


def _text_of(text: _Text) -> str:
    return text.text


class WorkerError(ClarityError):
    """A worker process died (out of memory, killed, or an unguarded script, see :class:`Evaluator`)."""


class Reader:
    """Runs presets on a fixed list of images (one per process), with caches."""

    def __init__(self, images: Sequence[np.ndarray]) -> None:
        self.images = list(images)
        self.cache: BoundedCache[tuple[np.ndarray, float]] = BoundedCache(
            max_entries=64, max_bytes=256 * 2**20
        )
        self.memo: BoundedCache[_Text] = BoundedCache(max_entries=_MEMO_ENTRIES)

    def read(self, index: int, preset: Preset) -> Reading:
        """Run ``preset`` on image ``index`` and OCR it; stage and OCR failures become a Reading's error."""
        try:
            image = self.images[index]
            text = self._read(image, preset)
            won = prefer_second(preset, text.text, lambda other: self._read(image, other), _text_of)
            if won is not None:  # as in batch runs (pipeline.reading): the second engine's reading
                text = won[1]
            return Reading(text.text, text.mean_conf)
        except FATAL:
            raise
        except ClarityError as exc:
            return Reading(error=str(exc))
        except Exception as exc:  # a stage bug on an unusual parameter value must not end the search
            return Reading(error=f"unexpected {type(exc).__name__}: {exc}")

    def _read(self, image: np.ndarray, preset: Preset) -> _Text:
        """Run ``preset``'s stages on ``image`` (cached) and read the result with its engine."""
        return self._recognize(run(image, preset, cache=self.cache).final, preset.ocr, image)

    def _recognize(self, final: np.ndarray, options: OcrOptions, original: np.ndarray) -> _Text:
        """:func:`~pipeline.ocr.recognize`, memoised by final image and OCR options (and the
        original image, when the options read it too)."""
        source = image_digest(original) if options.reads_original else ""
        key = (image_digest(final), options.model_dump_json(), source)
        hit = self.memo.get(key)
        if hit is not None:
            return hit
        result = recognize(final, options, original)
        text = _Text(result.text, result.mean_conf)
        self.memo.put(key, text)
        return text


_WORKER: Reader | None = None


def _init_worker(images: list[np.ndarray]) -> None:
    global _WORKER
    import cv2

    cv2.setNumThreads(1)  # one core per worker: the pool is the parallelism
    _WORKER = Reader(images)


def _read_task(index: int, preset: Preset) -> Reading:
    assert _WORKER is not None, "worker not initialised"
    return _WORKER.read(index, preset)


class Evaluator:
    """Reads every image with each preset of a batch, in ``jobs`` processes (inline for 1).

    Use as a context manager so the worker processes end with the run. The workers are
    started with ``spawn``, which imports the main script again in each of them: a script that
    tunes with ``jobs > 1`` must do so under ``if __name__ == "__main__":`` (the CLI and the
    bench scripts do; the studio uses ``jobs=1``).
    """

    def __init__(self, images: Sequence[np.ndarray], jobs: int) -> None:
        self.images = list(images)
        self.jobs = max(1, jobs)
        self._pool: ProcessPoolExecutor | None = None
        self._inline: Reader | None = None

    def __enter__(self) -> Evaluator:
        if self.jobs > 1:
            self._pool = ProcessPoolExecutor(
                max_workers=self.jobs,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self.images,),
            )
        else:
            self._inline = Reader(self.images)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (pending readings are cancelled)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._inline = None

    def read(self, presets: Sequence[Preset]) -> list[list[Reading]]:
        """``readings[p][i]``: preset ``p`` on image ``i``, in this order whatever the workers do."""
        if self._pool is None:
            reader = self._inline or Reader(self.images)
            return [[reader.read(i, p) for i in range(len(self.images))] for p in presets]
        futures: list[list[Future[Reading]]] = [
            [self._pool.submit(_read_task, i, p) for i in range(len(self.images))] for p in presets
        ]
        try:
            return [[f.result() for f in row] for row in futures]
        except BrokenProcessPool:
            raise WorkerError(
                "a tuning worker process died: out of memory, killed, or (from a script of your own) "
                'the tuning was not started under `if __name__ == "__main__":`; try jobs=1'
            ) from None
        except BaseException:
            for row in futures:
                for f in row:
                    f.cancel()
            raise
