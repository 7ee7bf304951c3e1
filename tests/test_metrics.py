"""Text and binarisation metrics: known values and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.metrics import cer, char_diff, fmeasure, levenshtein, normalise_text, psnr


def reference_levenshtein(a, b) -> int:
    """Textbook O(len(a) * len(b)) dynamic programme."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


# ------------------------------------------------------------------------------------- text


def test_normalise_collapses_whitespace_and_strips():
    assert normalise_text("  a \t b\n\n c \f") == "a b c"
    assert normalise_text("A b\nC", ignore_spaces=True) == "AbC"
    assert normalise_text("AbC ß", ignore_case=True) == "abc ss"
    assert normalise_text("") == ""


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("", "", 0),
        ("abc", "", 3),
        ("", "ab", 2),
        ("kitten", "sitting", 3),
        ("abc", "abd", 1),
        ("ab", "ba", 2),
    ],
)
def test_levenshtein_known(a, b, distance):
    assert levenshtein(a, b) == distance
    assert levenshtein(b, a) == distance


def test_levenshtein_on_words():
    assert levenshtein(["the", "quick", "fox"], ["the", "slow", "fox", "jumps"]) == 2


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abc d", max_size=80), st.text(alphabet="abcd e", max_size=80))
def test_levenshtein_matches_reference(a, b):
    assert levenshtein(a, b) == reference_levenshtein(a, b)


def test_cer_known_values():
    assert cer("abc", "abd") == pytest.approx(1 / 3)
    assert cer("abc", "abc") == 0.0
    assert cer("abc", "abcdefghij") == 1.0  # 7 edits / 3 chars, capped
    assert cer("", "") == 0.0
    assert cer("", "x") == 1.0
    assert cer("a  b\n c", "a b c") == 0.0  # whitespace runs collapse
    assert cer("AB 12", "ab12", ignore_case=True, ignore_spaces=True) == 0.0
    assert cer("AB 12", "ab12") == pytest.approx(3 / 5)


@given(st.text(max_size=40), st.text(max_size=40))
def test_cer_is_a_rate(expected, actual):
    assert 0.0 <= cer(expected, actual) <= 1.0
    assert cer(expected, expected) == 0.0


@given(st.text(max_size=40), st.text(max_size=40))
def test_char_diff_rebuilds_both_texts(expected, actual):
    ops = char_diff(expected, actual)
    assert "".join(e for _, e, _ in ops) == expected
    assert "".join(a for _, _, a in ops) == actual
    assert all(op in ("equal", "replace", "delete", "insert") for op, _, _ in ops)


def test_char_diff_example():
    assert char_diff("abc", "axc") == [("equal", "a", "a"), ("replace", "b", "x"), ("equal", "c", "c")]
    assert char_diff("ab", "b") == [("delete", "a", ""), ("equal", "b", "b")]
    assert char_diff("", "") == []


# ------------------------------------------------------------------------------ binarisation


def page(rng: np.random.Generator, shape=(40, 60)) -> np.ndarray:
    return np.where(rng.random(shape) < 0.2, 0, 255).astype(np.uint8)


def test_identical_images_are_perfect(rng):
    img = page(rng)
    assert fmeasure(img, img) == 1.0
    assert psnr(img, img) == math.inf


def test_one_flipped_pixel():
    truth = np.full((10, 10), 255, np.uint8)
    truth[2:5, 2:5] = 0  # 9 ink pixels
    binary = truth.copy()
    binary[0, 0] = 0  # one false ink pixel
    assert psnr(binary, truth) == pytest.approx(20.0)  # 10 log10(100 / 1)
    # P = 9/10, R = 1 -> F = 2 * 0.9 / 1.9
    assert fmeasure(binary, truth) == pytest.approx(18 / 19)


def test_fmeasure_edge_cases():
    white = np.full((5, 5), 255, np.uint8)
    black = np.zeros((5, 5), np.uint8)
    assert fmeasure(white, white) == 1.0  # no ink anywhere: perfect agreement
    assert fmeasure(black, white) == 0.0
    assert fmeasure(white, black) == 0.0
    assert psnr(black, white) == pytest.approx(0.0)  # every pixel wrong: MSE 1


def test_threshold_and_colour_inputs(rng):
    truth = page(rng)
    gray = np.where(truth == 0, 100, 200).astype(np.uint8)  # still ink / paper at 128
    assert fmeasure(gray, truth) == 1.0
    bgr = np.dstack([truth] * 3)
    assert fmeasure(bgr, truth) == 1.0
    assert psnr(truth > 0, truth) == math.inf  # boolean: True = white


def test_size_mismatch_is_refused():
    with pytest.raises(ValueError, match="sizes differ"):
        fmeasure(np.zeros((4, 4), np.uint8), np.zeros((4, 5), np.uint8))
    with pytest.raises(ValueError, match="sizes differ"):
        psnr(np.zeros((4, 4), np.uint8), np.zeros((5, 4), np.uint8))
