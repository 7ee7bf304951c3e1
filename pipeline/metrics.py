"""Quality measures: text accuracy of OCR output and pixel accuracy of binarisations.

Text
    :func:`cer` is the character error rate used by the corpus README: the Levenshtein (edit)
    distance between the expected and the recognised text (computed by ``rapidfuzz``),
    divided by the length of the expected text, capped at 1.0. Both texts are first passed
    through :func:`normalise_text`, which collapses every run of whitespace to one space.
    :func:`char_diff` lists the differing chunks for display.

Binarisation
    :func:`fmeasure` and :func:`psnr` compare a binarised image with its pixel ground truth as
    in the DIBCO contests. Ink is every pixel darker than 128 (black text on white).

All functions are pure.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np
from rapidfuzz.distance import Levenshtein

from .image_conventions import INK_LEVEL

DiffOp = Literal["equal", "replace", "delete", "insert"]

_WHITESPACE = re.compile(r"\s+")


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

    Works on strings (characters) and on any sequences of hashable items (``rapidfuzz``).
    """
    return int(Levenshtein.distance(a, b))


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
    return [(op, expected[i1:i2], actual[j1:j2]) for op, i1, i2, j1, j2 in matcher.get_opcodes()]


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
    return array < INK_LEVEL


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
