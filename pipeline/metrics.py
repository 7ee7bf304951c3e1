"""Quality measures: text accuracy of OCR output and pixel accuracy of binarisations.

Text
    :func:`cer` and :func:`wer` are the character and word error rates used by the corpus
    README: the Levenshtein (edit) distance between the expected and the recognised text,
    divided by the length of the expected text, capped at 1.0. Both texts are first passed
    through :func:`normalise_text`, which collapses every run of whitespace to one space.
    :func:`char_diff` lists the differing chunks for display.

Binarisation
    :func:`fmeasure` and :func:`psnr` compare a binarised image with its pixel ground truth as
    in the DIBCO contests. Ink is every pixel darker than 128 (black text on white).

All functions are pure and need only the standard library and numpy (``rapidfuzz`` is used
for the edit distance when it happens to be installed; it is not a dependency).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np

try:  # optional accelerator, never required
    from rapidfuzz.distance import Levenshtein as _RapidLevenshtein
except ImportError:  # pragma: no cover - depends on the environment
    _RapidLevenshtein = None

DiffOp = Literal["equal", "replace", "delete", "insert"]

_WHITESPACE = re.compile(r"\s+")
INK_THRESHOLD = 128
"""Pixels with a value below this (0..255) are ink in :func:`fmeasure` and :func:`psnr`."""


# --------------------------------------------------------------------------------------- text


def normalise_text(text: str, *, ignore_spaces: bool = False, ignore_case: bool = False) -> str:
    """Collapse every run of whitespace (spaces, tabs, newlines, form feeds) to one space and strip.

    Parameters
    ----------
    ignore_spaces:
        Remove all whitespace instead of collapsing it (the corpus does this for captcha and
        meter labels, where Tesseract's word breaks mean nothing).
    ignore_case:
        Compare case-insensitively: the text is case-folded (``str.casefold``).
    """
    text = _WHITESPACE.sub("" if ignore_spaces else " ", text).strip()
    return text.casefold() if ignore_case else text


def levenshtein(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Edit distance: the least number of insertions, deletions and substitutions turning ``a`` into ``b``.

    Works on strings (characters) and on any sequences of hashable items (words for
    :func:`wer`). Uses ``rapidfuzz`` when it is installed, else a bit-parallel algorithm on
    Python integers (Hyyrö's formulation of Myers' method) whose cost grows with
    ``len(a) * len(b) / 64``: a few milliseconds for two pages of text.
    """
    if _RapidLevenshtein is not None:
        return int(_RapidLevenshtein.distance(a, b))
    return _bit_parallel_levenshtein(a, b)


def _bit_parallel_levenshtein(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Levenshtein distance with one bit per item of the shorter sequence (see :func:`levenshtein`).

    Bit ``i`` of the vertical delta vectors ``pos``/``neg`` says whether the DP column value
    at row ``i + 1`` is one more / one less than at row ``i``; each item of the longer
    sequence updates the whole column with a handful of integer operations.
    """
    if len(a) > len(b):
        a, b = b, a
    m = len(a)
    if m == 0:
        return len(b)
    match: dict[Hashable, int] = {}
    for i, item in enumerate(a):
        match[item] = match.get(item, 0) | (1 << i)
    full = (1 << m) - 1
    top = 1 << (m - 1)
    pos, neg, score = full, 0, m
    for item in b:
        eq = match.get(item, 0)
        xv = eq | neg
        xh = (((eq & pos) + pos) ^ pos) | eq
        hpos = neg | ~(xh | pos)
        hneg = pos & xh
        if hpos & top:
            score += 1
        elif hneg & top:
            score -= 1
        hpos = (hpos << 1) | 1
        hneg <<= 1
        pos = (hneg | ~(xv | hpos)) & full
        neg = hpos & xv & full
    return score


def _rate(expected: Sequence[Hashable], actual: Sequence[Hashable]) -> float:
    if not expected:
        return 0.0 if not actual else 1.0
    return min(1.0, levenshtein(expected, actual) / len(expected))


def cer(expected: str, actual: str, *, ignore_spaces: bool = False, ignore_case: bool = False) -> float:
    """Character error rate, 0.0 (perfect) .. 1.0.

    ``levenshtein(e, a) / len(e)`` on the normalised texts (:func:`normalise_text` with the
    same options), capped at 1.0 so that one hallucinated page cannot outweigh a folder.
    When the expected text is empty the rate is 0.0 if the recognised text is empty too,
    else 1.0.
    """
    e = normalise_text(expected, ignore_spaces=ignore_spaces, ignore_case=ignore_case)
    a = normalise_text(actual, ignore_spaces=ignore_spaces, ignore_case=ignore_case)
    return _rate(e, a)


def wer(expected: str, actual: str, *, ignore_case: bool = False) -> float:
    """Word error rate, 0.0 .. 1.0: like :func:`cer` on whitespace-separated words.

    The edit distance counts whole words inserted, deleted or substituted, divided by the
    number of expected words and capped at 1.0; no words expected gives 0.0 if none were
    recognised, else 1.0.
    """
    e = normalise_text(expected, ignore_case=ignore_case).split()
    a = normalise_text(actual, ignore_case=ignore_case).split()
    return _rate(e, a)


def char_diff(expected: str, actual: str) -> list[tuple[DiffOp, str, str]]:
    """The differences between two texts as ``(op, expected_chunk, actual_chunk)`` triples.

    ``op`` is ``"equal"``, ``"replace"``, ``"delete"`` (in expected, missing from actual; the
    actual chunk is empty) or ``"insert"`` (only in actual; the expected chunk is empty).
    Concatenating the expected chunks gives ``expected`` and the actual chunks ``actual``.
    The texts are compared as given; normalise them first if whitespace should not count.
    The chunks come from :class:`difflib.SequenceMatcher` (without its junk heuristic), which
    is meant for display: its number of changes can exceed the edit distance.
    """
    matcher = difflib.SequenceMatcher(None, expected, actual, autojunk=False)
    return [(op, expected[i1:i2], actual[j1:j2]) for op, i1, i2, j1, j2 in matcher.get_opcodes()]  # type: ignore[misc]


# ------------------------------------------------------------------------------ binarisation


def _ink(image: np.ndarray, name: str) -> np.ndarray:
    """Boolean ink mask (value < 128) of a gray, BGR or boolean image (``True`` = white in bool)."""
    array = np.asarray(image)
    if array.dtype == bool:
        return ~array
    if array.ndim == 3:
        array = array[..., :3].mean(axis=2) if array.shape[2] >= 3 else array[..., 0]
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D gray or 3-D colour image, got shape {np.shape(image)}")
    return array < INK_THRESHOLD


def _ink_pair(binary: np.ndarray, ground_truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred = _ink(binary, "binary")
    truth = _ink(ground_truth, "ground_truth")
    if pred.shape != truth.shape:
        raise ValueError(f"image sizes differ: binary {pred.shape} vs ground truth {truth.shape}")
    return pred, truth


def fmeasure(binary: np.ndarray, ground_truth: np.ndarray) -> float:
    """F-measure of the ink pixels, 0.0 .. 1.0 (DIBCO's FM, here as a fraction, not a percentage).

    Ink is every pixel darker than 128 in either image (colour images are averaged over
    their channels first). With TP the pixels that are ink in both, precision
    P = TP / ink(binary), recall R = TP / ink(ground_truth) and F = 2PR / (P + R).
    Two images without any ink agree perfectly (1.0); if only one of them has ink, F is 0.0.

    Raises ``ValueError`` when the images differ in size.
    """
    pred, truth = _ink_pair(binary, ground_truth)
    predicted = int(pred.sum())
    actual = int(truth.sum())
    if predicted == 0 and actual == 0:
        return 1.0
    tp = int(np.count_nonzero(pred & truth))
    if tp == 0:
        return 0.0
    precision = tp / predicted
    recall = tp / actual
    return 2 * precision * recall / (precision + recall)


def psnr(binary: np.ndarray, ground_truth: np.ndarray) -> float:
    """Peak signal-to-noise ratio in decibels between a binarisation and its ground truth.

    As in DIBCO, both images are taken as binary with values 0 (ink, below 128) and 1 (paper),
    so the peak is 1 and MSE is the fraction of pixels that differ:
    PSNR = 10 * log10(1 / MSE). Higher is better; identical images give ``math.inf``; one
    wrong pixel out of N gives 10 * log10(N) (20 dB for a 10 x 10 image).

    Raises ``ValueError`` when the images differ in size.
    """
    pred, truth = _ink_pair(binary, ground_truth)
    if pred.size == 0:
        return math.inf
    wrong = int(np.count_nonzero(pred != truth))
    if wrong == 0:
        return math.inf
    return 10.0 * math.log10(pred.size / wrong)
