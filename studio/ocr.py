"""OCR for the studio: cached reading of full-resolution images, scores and a safe text diff.

:func:`read_text` runs Tesseract once per distinct (image, OCR options) pair: the cache key
is the image's content digest and the options' JSON, in a bounded process-wide cache.
:func:`prefetch` starts a reading in a background thread as soon as the stages have run, so
Tesseract works while the previews are sent. Errors (missing language, timeout) are cached
too, as a message, so a failing setting does not re-run a slow Tesseract call on every rerun.

:func:`diff_html` renders a character diff as HTML built only from ``html.escape``-d text:
the user's expected text and the OCR output can never inject markup.
"""

from __future__ import annotations

import html
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import streamlit as st

from pipeline.cache import BoundedCache
from pipeline.errors import ClarityError
from pipeline.metrics import char_diff, normalise_text
from pipeline.ocr import OcrOptions, OcrResult, available_engines, installed_languages, recognize
from pipeline.runner import image_digest

from .overlays import DIGESTS

PSM_NAMES = {
    0: "0 · orientation & script detection only (no text)",
    1: "1 · automatic, with orientation detection",
    2: "2 · automatic layout, no text recognition",
    3: "3 · fully automatic page layout (default)",
    4: "4 · one column of text of varying sizes",
    5: "5 · one block of vertical text",
    6: "6 · one uniform block of text",
    7: "7 · one text line",
    8: "8 · one word",
    9: "9 · one word in a circle",
    10: "10 · one character",
    11: "11 · sparse text, any order",
    12: "12 · sparse text, with orientation detection",
    13: "13 · raw line (no Tesseract heuristics)",
}
"""Page segmentation modes with the names the OCR settings show."""


@dataclass(frozen=True)
class Reading:
    """The outcome of one OCR call: a result, or the user-readable error message."""

    result: OcrResult | None
    error: str | None = None


READINGS_KEPT = 64
"""Most OCR readings kept in the process-wide cache."""

_readings: BoundedCache[Reading] = BoundedCache(max_entries=READINGS_KEPT)
_pending: dict[tuple[str, str], Future[Reading]] = {}
_pending_lock = threading.Lock()
_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clarity-ocr")


def _read(image: np.ndarray, options: OcrOptions) -> Reading:
    try:
        return Reading(recognize(image, options))
    except ClarityError as exc:
        return Reading(None, str(exc))


def _key(image: np.ndarray, options: OcrOptions, digest: str | None) -> tuple[str, str]:
    if digest is None:
        digest = DIGESTS.get_or_make((image,), "digest", lambda: image_digest(image))
    return digest, options.model_dump_json()


def prefetch(image: np.ndarray, options: OcrOptions) -> None:
    """Start reading ``image`` in a background thread, unless its reading is cached or under way.

    The studio calls this as soon as the stages have run, so Tesseract works while the stage
    previews are encoded and sent; :func:`read_text` then picks the reading up.
    """
    key = _key(image, options, None)
    if _readings.get(key) is not None:
        return
    with _pending_lock:
        if key not in _pending and len(_pending) < 4:
            _pending[key] = _pool.submit(_read, image, options)


def read_text(image: np.ndarray, options: OcrOptions, digest: str | None = None) -> Reading:
    """Tesseract's reading of the full-resolution ``image`` with ``options``, cached (see module doc)."""
    key = _key(image, options, digest)
    reading = _readings.get(key)
    if reading is None:
        with _pending_lock:
            future = _pending.pop(key, None)
        reading = future.result() if future is not None else _read(image, options)
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
