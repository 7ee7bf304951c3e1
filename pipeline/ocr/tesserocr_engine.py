"""The in-process engine: libtesseract through ``tesserocr``.

One ``PyTessBaseAPI`` per calling thread (``threading.local``) is kept between calls, since
loading a language model costs far more than reading a line; it is initialised again only
when the tessdata directory, the languages, the OCR engine mode or an init-only variable
(:func:`is_init_only`) change. Everything else is set for one call and put back afterwards:
page segmentation mode, whitelist, blacklist and the extra variables are set before the
call and restored to their previous values after it, the image and results are cleared and
the adaptive classifier is reset, so one call never sees another's settings.

Timeouts
    libtesseract has no way to stop a call from outside. Two mechanisms are combined:

    * ``Recognize(timeout=ms)``: Tesseract's own deadline, checked between words during
      recognition. When it fires the call ends cleanly and the API object is kept.
    * a watchdog: the call runs in a short-lived worker thread and the caller waits for at
      most ``timeout_s`` plus :data:`GRACE_S`. Layout analysis and binarisation do not check
      the deadline, so a huge image can overrun it; the caller then gets
      :class:`~pipeline.errors.OcrTimeout` at once, the thread's API object is abandoned
      (the next call creates a new one) and the worker finishes in the background, still
      using CPU until libtesseract returns, then frees its API. The worker is a daemon
      thread so it never keeps the interpreter alive.

Process-wide variables
    Some Tesseract variables (many ``textord_*`` ones) are global to the process rather
    than to one API object. Setting them in ``variables`` while other threads run OCR with
    different values is a race; use the pytesseract engine for such presets in parallel runs.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tesserocr

from ..errors import OcrError, OcrTimeout
from . import probe
from .options import OcrOptions
from .result import OcrResult, Word
from .tesseract import needs_osd, prepare_image

GRACE_S = 1.0
"""How long past ``timeout_s`` the watchdog waits for Tesseract's own deadline to stop the call."""

_INIT_ONLY_PREFIXES = ("load_", "user_words_", "user_patterns_", "tessedit_load_", "tessedit_init_")


def is_init_only(name: str) -> bool:
    """True for variables Tesseract reads only while loading a language (dictionaries, user words).

    These are passed to ``InitFull`` and make a new initialisation when they change; setting
    them afterwards would silently do nothing.
    """
    return name.startswith(_INIT_ONLY_PREFIXES)


@dataclass
class _Slot:
    """A thread's API object and what it was initialised with."""

    api: tesserocr.PyTessBaseAPI
    key: tuple[str, str, int, tuple[tuple[str, str], ...]]


@dataclass
class _Job:
    """One call handed to a worker thread, and what it produced."""

    slot: _Slot
    image: np.ndarray
    options: OcrOptions
    done: threading.Event = field(default_factory=threading.Event)
    abandoned: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    result: tuple[str, list[Word]] | None = None
    error: BaseException | None = None
    cancelled: bool = False


class TesserocrEngine:
    """OCR with libtesseract in-process (see the module docstring); thread-safe."""

    name = "tesserocr"
    reads_modes = True
    one_at_a_time = False

    def __init__(self) -> None:
        self._local = threading.local()

    def recognize(self, image: np.ndarray, options: OcrOptions) -> OcrResult:
        """Read ``image`` (uint8 gray or BGR) as ``options`` say (see :class:`.OcrEngine`)."""
        start = time.perf_counter()
        tessdata = probe.check_languages(options.lang, need_osd=needs_osd(options))
        pixels = prepare_image(image)
        if options.psm == 0:  # orientation and script detection only: no text to read
            return OcrResult(text="", engine=self.name, ms=(time.perf_counter() - start) * 1000)
        slot = self._slot(tessdata, options)
        job = _Job(slot=slot, image=pixels, options=options)
        worker = threading.Thread(target=_work, args=(job,), name="tesserocr-ocr", daemon=True)
        worker.start()
        if not job.done.wait(options.timeout_s + GRACE_S):
            with job.lock:
                job.abandoned = not job.done.is_set()
            if job.abandoned:
                self._local.slot = None  # the worker still uses it; it ends it when done
                raise OcrTimeout(_timeout_message(options, pixels))
        if job.error is not None:
            if isinstance(job.error, RuntimeError):
                raise OcrError(f"Tesseract (tesserocr) failed: {job.error}") from job.error
            raise job.error
        if job.cancelled:
            raise OcrTimeout(_timeout_message(options, pixels))
        assert job.result is not None
        text, words = job.result
        return OcrResult(
            text=text, words=tuple(words), engine=self.name, ms=(time.perf_counter() - start) * 1000
        )

    def _slot(self, tessdata: Path, options: OcrOptions) -> _Slot:
        """This thread's API, initialised for ``options`` (created or re-initialised if needed)."""
        init_vars = tuple(sorted((k, v) for k, v in options.engine_variables().items() if is_init_only(k)))
        key = (str(tessdata), options.lang, options.oem, init_vars)
        slot: _Slot | None = getattr(self._local, "slot", None)
        if slot is not None and slot.key == key:
            return slot
        api = slot.api if slot is not None else tesserocr.PyTessBaseAPI(init=False)
        self._local.slot = None
        try:
            api.InitFull(
                path=str(tessdata).rstrip("/") + "/",
                lang=options.lang,
                oem=options.oem,
                variables=dict(init_vars),
            )
        except RuntimeError as exc:
            raise OcrError(
                f"Tesseract could not load language {options.lang!r} with OCR engine mode "
                f"{options.oem} from {tessdata}: {exc}. Modes 0 and 2 need language data with the "
                "legacy model (tessdata, not tessdata_fast/best); mode 3 works with any."
            ) from exc
        slot = _Slot(api=api, key=key)
        self._local.slot = slot
        return slot


def _timeout_message(options: OcrOptions, pixels: np.ndarray) -> str:
    height, width = pixels.shape[:2]
    return (
        f"OCR timed out: Tesseract took longer than {options.timeout_s:g} s on a {width} x {height} image "
        "(ocr.timeout_s); raise the timeout, or crop or downscale the image."
    )


def _work(job: _Job) -> None:
    """Run one OCR call on ``job.slot.api`` (in a worker thread) and record its outcome."""
    api = job.slot.api
    try:
        job.result, job.cancelled = _run(api, job.image, job.options)
    except BaseException as exc:  # handed to the waiting thread
        job.error = exc
    finally:
        with job.lock:
            job.done.set()
            abandoned = job.abandoned
        if abandoned:
            api.End()


def _call_variables(options: OcrOptions) -> dict[str, str]:
    """Variables set for one call: whitelist and blacklist always (empty = none), plus the extras."""
    out = {"tessedit_char_whitelist": options.whitelist, "tessedit_char_blacklist": options.blacklist}
    out.update((k, v) for k, v in options.engine_variables().items() if not is_init_only(k))
    return out


def _run(
    api: tesserocr.PyTessBaseAPI, pixels: np.ndarray, options: OcrOptions
) -> tuple[tuple[str, list[Word]] | None, bool]:
    """Set up, recognise, collect and reset; returns ``((text, words), cancelled)``."""
    saved: dict[str, str] = {}
    try:
        for name, value in _call_variables(options).items():
            old = api.GetVariableAsString(name)
            if old is None:
                raise OcrError(
                    f"unknown Tesseract variable {name!r} in ocr.variables "
                    "(see `tesseract --print-parameters` for the valid names)"
                )
            saved[name] = old
            if not api.SetVariable(name, value):
                raise OcrError(f"Tesseract refused the value {value!r} for variable {name!r}")
        api.SetPageSegMode(options.psm)
        height, width = pixels.shape[:2]
        channels = 1 if pixels.ndim == 2 else pixels.shape[2]
        api.SetImageBytes(pixels.tobytes(), width, height, channels, width * channels)
        if options.dpi is not None:
            api.SetSourceResolution(options.dpi)
        if not api.Recognize(timeout=max(1, int(options.timeout_s * 1000))):
            return None, True
        text = (api.GetUTF8Text() or "").rstrip()
        words = _words(api, width, height)
        return (text, words), False
    finally:
        for name, old in saved.items():
            api.SetVariable(name, old)
        api.Clear()
        api.ClearAdaptiveClassifier()


def _words(api: tesserocr.PyTessBaseAPI, width: int, height: int) -> list[Word]:
    """Every non-empty word with its box, confidence and layout numbers (as in Tesseract's TSV)."""
    iterator = api.GetIterator()
    words: list[Word] = []
    if iterator is None:
        return words
    word_level = tesserocr.RIL.WORD
    block = par = line = number = 0
    while True:
        if not iterator.Empty(word_level):
            if iterator.IsAtBeginningOf(tesserocr.RIL.BLOCK):
                block, par, line, number = block + 1, 0, 0, 0
            if iterator.IsAtBeginningOf(tesserocr.RIL.PARA):
                par, line, number = par + 1, 0, 0
            if iterator.IsAtBeginningOf(tesserocr.RIL.TEXTLINE):
                line, number = line + 1, 0
            number += 1
            try:
                text = iterator.GetUTF8Text(word_level)
            except RuntimeError:
                text = ""
            box = iterator.BoundingBox(word_level)
            if text and text.strip() and box is not None:
                left, top = max(0, box[0]), max(0, box[1])
                right, bottom = min(width, box[2]), min(height, box[3])
                conf = float(iterator.Confidence(word_level))
                conf = 0.0 if math.isnan(conf) else min(100.0, max(0.0, conf))
                size = (right - left, bottom - top)
                words.append(Word(text, conf, left, top, *size, block, par, line, number))
        if not iterator.Next(word_level):
            break
    return words
