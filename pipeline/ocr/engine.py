"""The OCR engine interface and how an engine is chosen.

An engine turns an image into an :class:`~pipeline.ocr.result.OcrResult` following an
:class:`~pipeline.ocr.options.OcrOptions`. Three implement it:

``tesserocr``
    libtesseract in-process through the ``tesserocr`` extension: no process start and no
    temporary file per image, the language model stays loaded. Needs the ``tesserocr``
    package and a tessdata directory (its wheel bundles the library but no language data).
``pytesseract``
    the ``tesseract`` program, once per image, through ``pytesseract``.
``rapidocr``
    RapidOCR's learned PP-OCR models on onnxruntime, from the installed wheel (offline);
    see :mod:`pipeline.ocr.rapidocr_engine` for how the options map onto it.

``"auto"`` is the fastest Tesseract available: tesserocr, else pytesseract. Engines are created once and
shared; each is safe to call from several threads at once. The names are declared once, in
:mod:`pipeline.ocr.options`; what the Tesseract engines share sits in :mod:`pipeline.ocr.tesseract`
(the engine modules never import this module, which imports them).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from ..errors import EngineNotAvailable, TesseractNotFound
from ..metrics import cer
from . import probe
from .correct import is_code, zero_as_o, zero_as_o_word
from .options import ENGINE_NAMES, TESSERACT_ENGINES, OcrOptions
from .result import OcrResult, best_reading, scored


@runtime_checkable
class OcrEngine(Protocol):
    """Something that reads text: ``engine.recognize(image, options) -> OcrResult``."""

    name: str
    reads_modes: bool
    """Whether the page segmentation mode (``psm``) changes its reading: True for Tesseract;
    False for RapidOCR, which reads with ``psm`` alone (its modes differ only in how the lines
    are laid out), so its alternative modes are not read."""
    one_at_a_time: bool
    """Whether its calls are serialised (RapidOCR's lock): several ways of reading one image are
    then read one after the other in the calling thread, which reuses its memory, rather than
    side by side in the mode pool."""

    def recognize(self, image: np.ndarray, options: OcrOptions) -> OcrResult:
        """Read ``image`` (uint8 gray ``(H, W)`` or BGR ``(H, W, 3)``) as ``options`` say.

        Raises :class:`~pipeline.errors.OcrError` subclasses: ``TesseractNotFound``,
        ``LanguageNotInstalled``, ``OcrTimeout``; ``ImageError`` for an unusable array.
        """
        ...


def tesserocr_importable() -> bool:
    """True when the ``tesserocr`` package is installed (it is not imported here)."""
    return importlib.util.find_spec("tesserocr") is not None


def pytesseract_importable() -> bool:
    """True when the ``pytesseract`` package is installed."""
    return importlib.util.find_spec("pytesseract") is not None


def rapidocr_importable() -> bool:
    """True when the ``rapidocr`` and ``onnxruntime`` packages are installed (neither is imported)."""
    return all(importlib.util.find_spec(name) is not None for name in ("rapidocr", "onnxruntime"))


def available_engines() -> list[str]:
    """Names of the engines that can run now, Tesseract's preferred first.

    ``tesserocr`` needs its package and a tessdata directory; ``pytesseract`` its package and
    the tesseract program; ``rapidocr`` its packages (its models ship inside them).
    """
    names = []
    if tesserocr_importable() and probe.tessdata_dir() is not None:
        names.append("tesserocr")
    if pytesseract_importable() and probe.tesseract_available():
        names.append("pytesseract")
    if rapidocr_importable():
        names.append("rapidocr")
    return names


_ENGINES: dict[str, OcrEngine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(name: str = "auto") -> OcrEngine:
    """The shared engine called ``name``: one of :data:`ENGINE_NAMES`, or ``"auto"``.

    ``"auto"`` is tesserocr when it imports and finds language data, else pytesseract.

    Raises
    ------
    TesseractNotFound
        When the requested Tesseract engine (for ``auto``: either) cannot run, with install advice.
    EngineNotAvailable
        When RapidOCR's packages or model files are missing or onnxruntime fails to load.
    ValueError
        For an unknown engine name.
    """
    if name == "auto":
        available = [n for n in available_engines() if n in TESSERACT_ENGINES]
        if not available:
            raise TesseractNotFound(
                "No OCR engine can run: neither tesserocr with Tesseract language data nor the "
                "tesseract program was found. " + probe.INSTALL_ADVICE
            )
        name = available[0]
    if name not in ENGINE_NAMES:
        raise ValueError(f"unknown OCR engine {name!r}; choose one of auto, {', '.join(ENGINE_NAMES)}")
    with _ENGINES_LOCK:
        engine = _ENGINES.get(name)
        if engine is None:
            engine = _create(name)
            _ENGINES[name] = engine
    return engine


def _create(name: str) -> OcrEngine:
    if name == "rapidocr":
        if not rapidocr_importable():
            raise EngineNotAvailable(
                "The rapidocr engine is not installed: `pip install rapidocr onnxruntime` "
                "(make run does), or choose a Tesseract engine."
            )
        from .rapidocr_engine import RapidOcrEngine

        return RapidOcrEngine()
    if name == "tesserocr":
        if not tesserocr_importable():
            raise TesseractNotFound(
                "The tesserocr package is not installed: `pip install tesserocr`, or choose "
                "engine: pytesseract (which runs the tesseract program)."
            )
        from .tesserocr_engine import TesserocrEngine

        return TesserocrEngine()
    if not pytesseract_importable():
        raise TesseractNotFound(
            "The pytesseract package is not installed: `pip install pytesseract`, "
            "or choose engine: tesserocr."
        )
    from .pytesseract_engine import PytesseractEngine

    return PytesseractEngine()


def recognize(
    image: np.ndarray, options: OcrOptions | None = None, original: np.ndarray | None = None
) -> OcrResult:
    """Read ``image`` with the engine ``options.engine`` names (default options: auto, eng, psm 3).

    With ``options.alternative_psm`` (Tesseract engines only; RapidOCR reads with ``psm``
    alone, its modes differing only in layout), ``options.alternative_blur`` (any engine) and
    ``options.also_read_original`` (RapidOCR only, with ``original``: the image before the
    stages, when it differs from ``image``), the image is read once per source, mode and copy
    (as it is, then softened by each blur), the readings side by side on the cores
    (:func:`_mode_pool`; RapidOCR's, which its lock serialises, one after the other in the
    calling thread), and the best by :func:`~pipeline.ocr.result.reading_score` is
    returned, the earlier reading winning ties (the cleaned image, ``psm``, no blur); with
    ``options.agree_within``, two of the ways are read first (:func:`first_round`) and the
    others only when those two disagree. Its
    ``psm``, ``blur`` and ``from_original`` say which mode, copy and source that was (``None``
    for what was not chosen among several) and its ``ms`` is the wall-clock time of all the
    readings together. With ``options.zero_as_o`` the chosen reading's 0s inside words of
    letters become O (:func:`corrected`). With ``options.empty_psm`` (Tesseract engines), a
    reading with no text is followed by one more with that mode, whose result is returned
    (its ``psm`` says so).
    """
    options = options if options is not None else OcrOptions()
    result = _read_best(image, options, original)
    if not result.text.strip() and _retries_empty(options):
        again = _read_best(image, options.model_copy(update=_EMPTY_RETRY | {"psm": options.empty_psm}), None)
        result = replace(again, psm=options.empty_psm, ms=result.ms + again.ms)
    return corrected(result) if options.zero_as_o else result


_EMPTY_RETRY = {"alternative_psm": (), "alternative_blur": (), "agree_within": None, "empty_psm": None}
"""What an ``empty_psm`` reading leaves out: one mode, the image as it is."""


def _retries_empty(options: OcrOptions) -> bool:
    """True when an empty reading is read again with ``options.empty_psm``: a mode not read
    already, by an engine that reads modes (Tesseract)."""
    return (
        options.empty_psm is not None
        and options.empty_psm not in options.modes
        and get_engine(options.engine).reads_modes
    )


def corrected(result: OcrResult) -> OcrResult:
    """``result`` with :func:`~pipeline.ocr.correct.zero_as_o` applied to its text and words
    (none of them when the whole reading looks like a code)."""
    if is_code(result.text):
        return result
    words = tuple(replace(w, text=zero_as_o_word(w.text)) for w in result.words)
    return replace(result, text=zero_as_o(result.text), words=words)


Way = tuple[int, float, int]
"""One way of reading an image: (source: 0 the cleaned image, 1 the original; blur sigma, px; psm)."""


def first_round(ways: list[Way], agree_within: float | None) -> list[Way]:
    """The ways read first: all of ``ways`` when ``agree_within`` is None; else the first way
    (the cleaned image as it is, ``psm``) and the most different one from the cleaned image (its
    last blur, with the last mode), whose readings decide whether the others are read (see
    ``OcrOptions.agree_within``)."""
    cleaned = [w for w in ways if w[0] == 0]
    if agree_within is None or len(cleaned) < 3:
        return ways
    return [ways[0], cleaned[-1]]


def _read_best(image: np.ndarray, options: OcrOptions, original: np.ndarray | None) -> OcrResult:
    """:func:`recognize` before the corrections: the best of its readings."""
    engine = get_engine(options.engine)
    modes = options.modes if engine.reads_modes else (options.psm,)
    blurs = (0.0, *options.alternative_blur)
    sources = [image]
    if options.reads_original and original is not None and not _same(original, image):
        sources.append(original)
    if len(modes) == 1 and len(blurs) == 1 and len(sources) == 1:
        return engine.recognize(image, options)
    start = time.perf_counter()
    single = options.model_copy(update={"alternative_psm": (), "alternative_blur": ()})
    copies = {
        (source, sigma): sources[source] if sigma == 0 else cv2.GaussianBlur(sources[source], (0, 0), sigma)
        for source in range(len(sources))
        for sigma in blurs
    }
    choices: list[Way] = [(source, sigma, mode) for source, sigma in copies for mode in modes]

    def read(choice: Way) -> OcrResult:
        source, sigma, mode = choice
        return engine.recognize(copies[source, sigma], single.model_copy(update={"psm": mode}))

    side_by_side = map if engine.one_at_a_time else _mode_pool().map
    first = first_round(choices, options.agree_within)
    done = dict(zip(first, side_by_side(read, first), strict=True))
    if len(first) < len(choices):
        a, b = (done[way].text for way in first)
        if options.agree_within is not None and cer(a, b) <= options.agree_within:
            choices = first  # the two agree: the other ways are not read
        else:
            rest = [c for c in choices if c not in done]
            done.update(zip(rest, side_by_side(read, rest), strict=True))
    readings = [done[c] for c in choices]
    best = best_reading([scored(r.words) for r in readings])
    (source, sigma, mode), chosen = choices[best], readings[best]
    return replace(
        chosen,
        psm=mode if len(modes) > 1 else None,
        blur=sigma if len(blurs) > 1 else None,
        from_original=source == 1 if len(sources) > 1 else None,
        ms=(time.perf_counter() - start) * 1000,
    )


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """True when ``a`` and ``b`` hold the same pixels (a preset whose stages changed nothing)."""
    return a is b or (a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b)))


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _mode_pool() -> ThreadPoolExecutor:
    """Threads that read the alternative modes of one image at once (one per core, at most 4).

    Tesseract runs outside the GIL, and each thread keeps its own tesserocr API, so the threads
    are long-lived: made on first use and reused by every later call.
    """
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            workers = max(1, min(4, os.cpu_count() or 1))
            _POOL = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="clarity-ocr-mode")
        return _POOL


def needs_osd(options: OcrOptions) -> bool:
    """True for the page segmentation modes that run orientation and script detection (0, 1, 12)."""
    return options.psm in (0, 1, 12)


def warm_up() -> None:
    """Create the default engine now (in a worker process: once, before its first call)."""
    with contextlib.suppress(Exception):  # the first real call reports what is missing
        get_engine("auto")
