"""The work of one input, and of a chunk of inputs: read, clean, OCR, write outputs, make a record.

This is what every backend runs (in the CLI's own process, in worker processes, or on Dask
workers); it never raises for a bad input: the failure becomes the record's ``error``.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..auto import read
from ..errors import ClarityError, ImageError, read_user_file
from ..imageio import read_image
from ..ocr import OcrResult
from ..ocr.rapidocr_engine import THREADS_ENV as RAPIDOCR_THREADS_ENV
from ..preset import Preset
from ..upright import stood_up
from . import pdf, pdfpages
from .inputs import Item
from .manifest import make_record
from .textformats import to_hocr, to_tsv
from .writers import atomic_write, atomic_write_image, atomic_write_text

OUTPUT_KINDS = ("image", "text", "pdf", "hocr", "tsv")
"""Every kind of output a batch can write, with its file ending below."""

ENDINGS = {"image": ".png", "text": ".txt", "pdf": ".pdf", "hocr": ".hocr", "tsv": ".tsv"}

DEFAULT_IMAGE_DPI = 300.0
"""Resolution assumed for an image file that does not say its own (pixels per inch)."""


@dataclass(frozen=True)
class Job:
    """Everything a worker needs besides the inputs.

    Attributes
    ----------
    preset:
        The stages and OCR options, or ``"auto"`` to let :mod:`pipeline.auto` choose a shipped
        preset and engine for each input.
    digest:
        :func:`~pipeline.batch.manifest.preset_digest` of ``preset``, stored in every record.
    out:
        The output folder (absolute, so workers in other folders agree).
    kinds:
        Which outputs to write (a subset of :data:`OUTPUT_KINDS`; image and text always).
    dpi:
        Resolution PDF pages are rendered at, in pixels per inch.
    engine:
        For ``"auto"``: the engine that replaces each chosen preset's own (``None``: theirs).
    """

    preset: Preset | str
    digest: str
    out: Path
    kinds: tuple[str, ...] = ("image", "text")
    dpi: float = pdfpages.DEFAULT_DPI
    engine: str | None = None


ONE_CORE_ENV = {"OMP_THREAD_LIMIT": "1", RAPIDOCR_THREADS_ENV: "1"}
"""Environment of a one-core worker: one OpenMP thread (Tesseract), one onnxruntime thread (RapidOCR)."""


def one_core() -> None:
    """Make this process use one core: Tesseract, RapidOCR and OpenCV each with one thread.

    Batch workers run one per core, so threads inside each would only compete. The engines
    read their thread settings when they are created, so call this before the first OCR.
    """
    os.environ.update(ONE_CORE_ENV)
    cv2.setNumThreads(1)


def process_chunk(job: Job, items: Sequence[Item]) -> list[dict[str, Any]]:
    """The records of ``items``, in order (see :func:`process_item`)."""
    return [process_item(job, item) for item in items]


def process_item(job: Job, item: Item) -> dict[str, Any]:
    """Read, clean and OCR one input, write its outputs atomically, and return its record.

    A :class:`~pipeline.errors.ClarityError` (or any other exception) becomes the record's
    ``error``, one line naming the input; nothing is written for a failed input.
    """
    start = time.perf_counter()
    try:
        image, dpi = load(item, job.dpi)
        chosen = read(image, job.preset, engine=job.engine, cache=False)
        cleaned, reading = chosen.result.final, chosen.ocr
        page = stood_up(image, chosen.preset)  # turned as its preset turns it: the PDF under its words
        outputs = write_outputs(job, item, page, dpi, cleaned, reading)
    except ClarityError as exc:
        return _failure(job, item, str(exc), start)
    except Exception as exc:  # a bug or an odd file: still one line, and the batch goes on
        return _failure(job, item, f"unexpected {type(exc).__name__}: {exc}", start)
    return make_record(
        item.path,
        item.page,
        job.digest,
        outputs=outputs,
        text=reading.text,
        confidence=reading.mean_conf,
        engine=reading.engine,
        chosen=chosen.label if isinstance(job.preset, str) else None,
        ms=(time.perf_counter() - start) * 1000,
    )


def load(item: Item, pdf_dpi: float) -> tuple[np.ndarray, float]:
    """The input's pixels and its resolution in pixels per inch."""
    if item.page is not None:
        return pdfpages.render_page(item.path, item.page, pdf_dpi), pdf_dpi
    data = read_user_file(item.path, ImageError, "an image")
    return read_image(data, name=str(item.path)), _dpi_of(data)


def write_outputs(
    job: Job, item: Item, image: np.ndarray, dpi: float, cleaned: np.ndarray, reading: OcrResult
) -> dict[str, str]:
    """Write the requested outputs of one input; returns ``{kind: path relative to job.out}``."""
    outputs = {kind: item.rel + ENDINGS[kind] for kind in OUTPUT_KINDS if kind in job.kinds}
    size = (cleaned.shape[1], cleaned.shape[0])
    for kind, rel in outputs.items():
        target = job.out / rel
        if kind == "image":
            atomic_write_image(target, cleaned)
        elif kind == "text":
            atomic_write_text(target, reading.text + "\n")
        elif kind == "pdf":
            atomic_write(target, pdf.searchable_pdf([pdf.Page(image, dpi, reading.words, size)]))
        elif kind == "hocr":
            atomic_write_text(target, to_hocr(reading.words, size, str(item.path)))
        elif kind == "tsv":
            atomic_write_text(target, to_tsv(reading.words, size))
    return outputs


def _failure(job: Job, item: Item, message: str, start: float) -> dict[str, Any]:
    label = f"{item.path} page {item.page}" if item.page is not None else str(item.path)
    if not message.startswith(str(item.path)):
        message = f"{label}: {message}"
    message = " ".join(message.split())  # one line, whatever the exception said
    return make_record(
        item.path, item.page, job.digest, ms=(time.perf_counter() - start) * 1000, error=message
    )


def _dpi_of(data: bytes) -> float:
    """The horizontal resolution an image file states, else :data:`DEFAULT_IMAGE_DPI`."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            dpi = img.info.get("dpi", (0, 0))[0]
    except Exception:
        return DEFAULT_IMAGE_DPI
    dpi = float(dpi or 0)
    return dpi if 50.0 <= dpi <= 2400.0 else DEFAULT_IMAGE_DPI
