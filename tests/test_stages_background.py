"""Pixel tests of the colour-distance stage (pipeline/stages/background.py)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.registry import get_stage
from pipeline.stages.background import BackgroundDistanceParams, background_distance


def _card(background: tuple[int, int, int], text: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    img = np.zeros((40, 90, 3), np.uint8)
    img[:] = background
    mask = np.zeros((40, 90), bool)
    mask[12:28, 20:30] = mask[12:28, 50:70] = True
    img[mask] = text
    return img, mask


@pytest.mark.parametrize(
    ("background", "text"),
    [((240, 240, 240), (20, 20, 20)), ((10, 10, 10), (200, 250, 200)), ((200, 120, 220), (60, 160, 40))],
)
def test_text_comes_out_dark_on_white_whatever_the_colours(background, text) -> None:
    img, mask = _card(background, text)
    before = img.copy()
    out = background_distance(img, BackgroundDistanceParams())
    assert np.array_equal(img, before)
    assert out.shape == mask.shape and out.dtype == np.uint8
    assert out[~mask].min() == 255  # background exactly white
    assert out[mask].max() <= 5  # text (the farthest colour) black


def test_lab_and_bgr_differ_but_both_separate() -> None:
    img, mask = _card((200, 200, 200), (180, 140, 200))
    for space in ("lab", "bgr"):
        out = background_distance(img, BackgroundDistanceParams(space=space))
        assert out[mask].mean() < 10 and out[~mask].mean() > 250


def test_gray_input_and_percentile_clipping() -> None:
    img = np.full((30, 30), 200, np.uint8)
    img[10:20, 10:20] = 100  # strong text
    img[12, 12] = 0  # one very dark outlier
    out = background_distance(img, BackgroundDistanceParams(percentile=95))
    assert out[15, 15] == 0  # clipped to black although the outlier is farther
    out = background_distance(img, BackgroundDistanceParams(percentile=100))
    assert 100 < out[15, 15] < 140  # half the outlier's distance


def test_uniform_and_tiny_images_are_white() -> None:
    stage = get_stage("background_distance")
    for img in (np.full((5, 5, 3), 77, np.uint8), np.zeros((1, 1), np.uint8), np.zeros((1, 1, 3), np.uint8)):
        out = stage(img, BackgroundDistanceParams(border=500))
        assert out.shape == img.shape[:2] and (out == 255).all()
