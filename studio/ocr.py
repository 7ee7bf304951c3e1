"""OCR for the studio: cached reading of full-resolution images, scores and a safe text diff.

:func:`read_text` reads once per distinct (image, OCR options) pair: the cache key is the
image's content digest and the options' JSON (and, with ``also_read_original``, the original
image's digest), in a bounded process-wide cache.
:func:`prefetch` starts a reading in a background thread as soon as the stages have run, so
Tesseract works while the previews are sent. Errors (missing language, timeout) are cached
too, as a message, so a failing setting does not re-run a slow Tesseract call on every rerun.

Isolation: every reading (and the stages of a big image, :func:`run_stages_isolated`) runs in a
worker process of :func:`worker_pool` (any engine:
the call is :func:`pipeline.ocr.recognize`), so a time limit really stops it (the worker is
killed and replaced) and a runaway worker's memory is bounded. Big images take at most all
workers but one, so other sessions are not kept waiting. Each session runs one reading at a
time and has a budget of OCR seconds per 10 minutes (:class:`SessionBudget`); the time limit
of a call is the preset's ``timeout_s``, at most ``CLARITY_MAX_OCR_TIMEOUT_S``.

:func:`diff_html` renders a character diff as HTML built only from ``html.escape``-d text:
the user's expected text and the OCR output can never inject markup.
"""

from __future__ import annotations

import contextlib
import html
import threading
import time
import uuid
from collections import defaultdict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import streamlit as st

from pipeline import limits
from pipeline.cache import BoundedCache
from pipeline.errors import ClarityError, OcrTimeout, StageError
from pipeline.metrics import char_diff, normalise_text
from pipeline.ocr import OcrOptions, OcrResult, available_engines, get_engine, installed_languages, recognize
from pipeline.preset import Preset
from pipeline.reading import second_preset
from pipeline.runner import (
    Result,
    cached_until_small,
    image_digest,
    remember_until_small,
    run,
    run_uncached,
)
from pipeline.workers import WorkerError, WorkerPool, WorkerTimeout

from . import keys as K
from .overlays import DIGESTS

PSM_NAMES = {
    0: "nothing: orientation and script only (mode 0, no text)",
    1: "a page turned any way (mode 1)",
    2: "nothing: layout only (mode 2, no text)",
    3: "a page, automatic layout (mode 3, the default)",
    4: "one column of text of varying sizes (mode 4)",
    5: "one block of vertical text (mode 5)",
    6: "one block of text (mode 6)",
    7: "one line of text (mode 7)",
    8: "one word (mode 8)",
    9: "one word in a circle (mode 9)",
    10: "one character (mode 10)",
    11: "scattered text, any order (mode 11)",
    12: "scattered text, turned any way (mode 12)",
    13: "one line, read as it is (mode 13)",
}
"""Page segmentation modes in words, as the OCR settings show them (Tesseract's number last)."""
TEXT_MODES = [m for m in PSM_NAMES if m not in (0, 2)]
"""The modes that return text: the only ones offered (0 and 2 stay when a preset has them)."""


@dataclass(frozen=True)
class Reading:
    """The outcome of one OCR call: a result, or the user-readable error message."""

    result: OcrResult | None
    error: str | None = None
    shared: bool = True
    """False for a message about this session only (its budget): never cached for others."""


READINGS_KEPT = 64
"""Most OCR readings kept in the process-wide cache."""

BIG_PIXELS = 8_000_000
"""Images above this many pixels are "big" OCR calls: at most all workers but one read them at once."""

BUDGET_WINDOW_S = 600.0
"""The window of the per-session OCR budget (seconds; see :data:`pipeline.limits.SESSION_OCR_S`)."""

_readings: BoundedCache[Reading] = BoundedCache(max_entries=READINGS_KEPT)
_pending: dict[tuple[str, str, str], Future[Reading]] = {}
_pending_lock = threading.Lock()
_threads = ThreadPoolExecutor(max_workers=8, thread_name_prefix="clarity-ocr")
_seconds: dict[str, Future[None]] = {}
"""Per session, the last second-engine run started by :func:`prefetch_second`."""
_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def worker_pool() -> WorkerPool:
    """The studio's OCR worker processes (made on first use; see :mod:`pipeline.workers`)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = WorkerPool(
                limits.OCR_WORKERS.get_int(),
                max_rss_mb=limits.WORKER_MB.get(),
                max_total_mb=limits.MEMORY_MB.get(),
                total_advice=f"its budget, {limits.MEMORY_MB.env}; try again soon, or use a smaller image",
                initializer="pipeline.ocr.engine:warm_up",
            )
            _pool.warm()
        return _pool


class SessionBudget:
    """OCR seconds each session used in the last :data:`BUDGET_WINDOW_S` seconds, and one call at a time.

    A session over its budget gets no new OCR call until old calls leave the window; a call
    may run at most for what is left of the budget.
    """

    def __init__(self) -> None:
        self._used: dict[str, deque[tuple[float, float]]] = defaultdict(deque)
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()

    def lock(self, session: str) -> threading.Lock:
        """The lock that lets a session run one OCR call at a time."""
        with self._guard:
            return self._locks[session]

    def left(self, session: str, now: float | None = None) -> float:
        """Seconds of OCR the session may still use now."""
        now = time.monotonic() if now is None else now
        with self._guard:
            used = self._used[session]
            while used and used[0][0] < now - BUDGET_WINDOW_S:
                used.popleft()
            return limits.SESSION_OCR_S.get() - sum(s for _, s in used)

    def charge(self, session: str, seconds: float) -> None:
        """Count ``seconds`` of OCR against the session."""
        with self._guard:
            self._used[session].append((time.monotonic(), seconds))

    def over_message(self) -> str:
        """What a session over its budget is told."""
        return (
            f"This session has used its OCR budget ({limits.SESSION_OCR_S.get():g} s of reading per "
            f"{BUDGET_WINDOW_S / 60:g} minutes; the server setting {limits.SESSION_OCR_S.env} changes it), "
            "so the text is not read now. Wait a few minutes, or crop or downscale the image."
        )


BUDGET = SessionBudget()


def session_id() -> str:
    """A random id for the browser session running this script, kept in its session state."""
    ss = st.session_state
    if K.SESSION_ID not in ss:
        ss[K.SESSION_ID] = uuid.uuid4().hex
    return str(ss[K.SESSION_ID])


def _read(
    image: np.ndarray, options: OcrOptions, session: str, original: np.ndarray | None = None
) -> Reading:
    """Read in a worker process, within the time limit and the session's budget (``original``:
    the image before the stages, for ``also_read_original``).

    A reading stopped by the session's budget is marked ``shared=False``: it is about this
    session only and is never cached for others.
    """
    with BUDGET.lock(session):
        left = BUDGET.left(session)
        if left <= 0:
            return Reading(None, BUDGET.over_message(), shared=False)
        cap = limits.OCR_TIMEOUT_S.get()
        timeout = min(options.timeout_s, cap)
        run_options = options.model_copy(update={"timeout_s": max(0.5, min(timeout, left))})
        pool = worker_pool()
        try:
            return Reading(
                pool.call(
                    recognize, image, run_options, original, timeout_s=min(timeout, left) + WORKER_GRACE_S,
                    big=is_big(image), prepare=(get_engine, (options.engine,)),
                )
            )  # fmt: skip
        except (WorkerTimeout, OcrTimeout):
            if left < timeout:
                return Reading(None, BUDGET.over_message(), shared=False)
            return Reading(None, _timeout_message(image, timeout, options.timeout_s > cap))
        except WorkerError as exc:  # a worker killed or lost: not about this image, never cached
            return Reading(None, str(exc), shared=False)
        except ClarityError as exc:
            return Reading(None, str(exc))
        finally:
            BUDGET.charge(session, pool.last_run_s())


WORKER_GRACE_S = 5.0
"""Seconds a worker gets past the OCR time limit (Tesseract's own deadline, a fresh worker's start)
before it is killed."""


def _timeout_message(image: np.ndarray, timeout: float, capped: bool) -> str:
    h, w = image.shape[:2]
    cap = (
        f" (the preset asks for more, but this server allows at most {timeout:g} s: "
        f"{limits.OCR_TIMEOUT_S.env})"
        if capped
        else " (ocr.timeout_s)"
    )
    return (
        f"OCR stopped: reading the {w} x {h} image took longer than {timeout:g} s{cap}; "
        "crop or downscale the image, or simplify the stages."
    )


_BIG_RUNS = threading.Lock()
"""Held while the stages run on a big image (above :data:`BIG_PIXELS`): one such run at a time, so
the server's memory stays within its budget however many sessions work on big images."""


def is_big(image: np.ndarray) -> bool:
    """True for images above :data:`BIG_PIXELS`: their stages and readings run in the big lane."""
    return image.shape[0] * image.shape[1] > BIG_PIXELS


class Abandoned(Exception):
    """Raised instead of running a big image's stages that the page stopped waiting for."""


def run_stages(image: np.ndarray, preset: Preset, abandoned: threading.Event | None = None) -> Result:
    """The stages of ``preset`` on ``image``: here with the shared cache for small images, in a worker
    (:func:`run_stages_isolated`, one at a time) for big ones. Raises :class:`StageError`.

    ``abandoned``: set when the page no longer waits for the result (a newer run started); a big
    run still queued behind others then raises :class:`Abandoned` instead of running, so a slider
    dragged across ten values does not queue ten runs of a 12 MP image.

    After a big run, its outputs up to the first stage that made the image small (the document
    preset's shrink to the text size) are kept in the stage cache; a later run whose stages are
    the same up to there starts from them here, with the cache, like a small image.
    """
    if not is_big(image):
        return run(image, preset)
    digest = _digest(image)
    if cached_until_small(preset, digest, BIG_PIXELS):  # the big stages are done: run the rest here
        return run(image, preset, digest=digest)
    with _BIG_RUNS:
        if abandoned is not None and abandoned.is_set():
            raise Abandoned
        result = run_stages_isolated(image, preset)
    remember_until_small(result, preset, digest, BIG_PIXELS)
    return result


def run_stages_isolated(image: np.ndarray, preset: Preset) -> Result:
    """The stages of ``preset`` on a big ``image``, run in a worker process within the stage time
    limit (``CLARITY_MAX_STAGE_TIME_S``) and the worker memory limit; :class:`StageError` otherwise."""
    limit = limits.STAGE_TIME_S.get()
    try:
        return worker_pool().call(run_uncached, image, preset, timeout_s=limit, big=True)
    except WorkerTimeout:
        h, w = image.shape[:2]
        raise StageError(
            limits.over_limit(limits.STAGE_TIME_S, f"the stages on this {w} x {h} image ran longer", limit)
            + "; they were stopped. Use lighter settings (smaller kernels, fewer iterations) or a "
            "smaller image"
        ) from None
    except WorkerError as exc:
        raise StageError(f"the stages could not finish: {exc}") from None


def _digest(image: np.ndarray) -> str:
    return DIGESTS.get_or_make((image,), "digest", lambda: image_digest(image))


def _key(
    image: np.ndarray, options: OcrOptions, digest: str | None, original: np.ndarray | None
) -> tuple[str, str, str]:
    source = _digest(original) if original is not None else ""
    return digest or _digest(image), options.model_dump_json(), source


def _source(options: OcrOptions, original: np.ndarray | None) -> np.ndarray | None:
    """``original`` when the options read it too (``OcrOptions.reads_original``), else None."""
    return original if options.reads_original else None


def prefetch(image: np.ndarray, options: OcrOptions, original: np.ndarray | None = None) -> None:
    """Start reading ``image`` in the background, unless its reading is cached or under way.

    The studio calls this as soon as the stages have run, so the OCR works while the stage
    previews are encoded and sent; :func:`read_text` then picks the reading up.
    """
    _prefetch(image, options, original, session_id())


def _prefetch(image: np.ndarray, options: OcrOptions, original: np.ndarray | None, session: str) -> None:
    original = _source(options, original)
    key = _key(image, options, None, original)
    if _readings.get(key) is not None:
        return
    with _pending_lock:
        if key not in _pending and len(_pending) < 16:
            _pending[key] = _threads.submit(_read, image, options, session, original)


def prefetch_second(image: np.ndarray, preset: Preset) -> None:
    """Start the run and the reading of ``preset``'s second engine (``ocr.second_engine``, see
    :func:`pipeline.reading.second_preset`) on ``image`` in the background, as :func:`prefetch`
    does for the first; :func:`wait_second` waits for it before the result panel needs it.

    A session's earlier second run that has not started yet (a slider moved again) is dropped.
    """
    other = second_preset(preset)
    if other is None:
        return
    session = session_id()

    def second() -> None:
        with contextlib.suppress(ClarityError):  # the result panel meets the error again, and shows it
            _prefetch(run_stages(image, other).final, other.ocr, image, session)

    def forget(done: Future[None]) -> None:  # nothing left to wait for: no entry kept per session
        with _pending_lock:
            if _seconds.get(session) is done:
                del _seconds[session]

    with _pending_lock:
        previous = _seconds.get(session)
        future = _seconds[session] = _threads.submit(second)
    if previous is not None:  # outside the lock: cancelling runs its callback, which takes it
        previous.cancel()
    future.add_done_callback(forget)


def wait_second() -> None:
    """Wait for this session's second-engine run from :func:`prefetch_second`, if one is under way:
    its stages are then in the stage cache and its reading cached or pending."""
    with _pending_lock:
        future = _seconds.pop(session_id(), None)
    if future is not None and not future.cancelled():
        future.exception()  # waits; an error is met again, and shown, when the panel runs the same


def read_text(
    image: np.ndarray, options: OcrOptions, digest: str | None = None, original: np.ndarray | None = None
) -> Reading:
    """The OCR reading of the full-resolution ``image`` with ``options``, cached (see module doc);
    ``original``, the image before the stages, is read too when the options say so."""
    original = _source(options, original)
    key = _key(image, options, digest, original)
    reading = _readings.get(key)
    if reading is None:
        with _pending_lock:
            future = _pending.pop(key, None)
        reading = future.result() if future is not None else _read(image, options, session_id(), original)
        if reading.shared:
            _readings.put(key, reading)
    return reading


@st.cache_data(ttl=300, show_spinner=False)
def languages() -> list[str]:
    """The installed Tesseract languages (cached for 5 minutes)."""
    try:
        return list(installed_languages())
    except ClarityError:
        return []


@st.cache_data(ttl=300, show_spinner=False)
def engines() -> list[str]:
    """``auto`` and the engines that can run here."""
    try:
        return ["auto", *available_engines()]
    except ClarityError:  # pragma: no cover - the probe reports through its return value
        return ["auto"]


DIFF_STYLE = {
    "delete": "background:#ffd7d5;color:#82071e;text-decoration:line-through",
    "insert": "background:#d3f5dc;color:#055d20;text-decoration:underline",
}
"""Inline styles of missed (expected but not read) and extra (read but not expected) text."""


def _span(kind: str, text: str) -> str:
    title = "missing: expected but not read" if kind == "delete" else "extra: read but not expected"
    return f'<span style="{DIFF_STYLE[kind]}" title="{title}">{html.escape(text, quote=True)}</span>'


def diff_html(expected: str, actual: str) -> str:
    """HTML of the character diff from ``expected`` to ``actual``; every text chunk is escaped.

    Missed characters are struck through on red, extra ones underlined on green; a
    substitution shows the missed then the extra characters. Whitespace runs are collapsed
    first (as :func:`pipeline.metrics.cer` does), line breaks kept visible by ``pre-wrap``.
    """
    parts = []
    for op, want, got in char_diff(normalise_text(expected), normalise_text(actual)):
        if op == "equal":
            parts.append(html.escape(want, quote=True))
            continue
        if want:
            parts.append(_span("delete", want))
        if got:
            parts.append(_span("insert", got))
    body = "".join(parts) or "<em>(both empty)</em>"
    return (
        '<div style="font-family:monospace;white-space:pre-wrap;line-height:1.7;'
        'padding:0.5rem 0.75rem;border:1px solid #ddd;border-radius:0.5rem">' + body + "</div>"
    )


def diff_counts(expected: str, actual: str) -> tuple[int, int]:
    """Characters missed and characters extra in the diff of ``expected`` to ``actual``."""
    missed = extra = 0
    for op, want, got in char_diff(normalise_text(expected), normalise_text(actual)):
        if op != "equal":
            missed += len(want)
            extra += len(got)
    return missed, extra
