"""Colour stages (pipeline/stages/colour.py): grayscale, invert, color_range, background_distance."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from pipeline.registry import get_stage
from pipeline.stages.colour import (
    BackgroundDistanceParams,
    ColorRangeParams,
    background_distance,
    color_range,
)

from .stage_images import (
    random_gray,
)


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


def test_min_above_max_message_names_the_fields() -> None:
    with pytest.raises(ValidationError, match="c0_min"):
        ColorRangeParams(c0_min=200, c0_max=100)


# --- color_range --------------------------------------------------------------------------------


def test_color_range_gray_equals_inrange() -> None:
    gray = random_gray((40, 50))
    out = color_range(gray, ColorRangeParams(c0_min=100, c0_max=105))
    assert np.array_equal(out, cv2.inRange(gray, 100, 105))
    assert 0 < np.count_nonzero(out) < out.size


def test_color_range_bgr_equals_inrange() -> None:
    rng = np.random.default_rng(3)
    img = rng.integers(95, 110, (40, 50, 3), dtype=np.uint8)
    p = ColorRangeParams(space="bgr", c0_min=100, c0_max=104, c1_min=100, c1_max=104, c2_min=100, c2_max=104)
    out = color_range(img, p)
    assert np.array_equal(out, cv2.inRange(img, (100, 100, 100), (104, 104, 104)))
    assert 0 < np.count_nonzero(out) < out.size


def test_color_range_ink_output_is_the_inverse_of_the_mask() -> None:
    gray = random_gray((20, 20))
    mask = color_range(gray, ColorRangeParams(c0_max=99))
    ink = color_range(gray, ColorRangeParams(c0_max=99, output="ink"))
    assert np.array_equal(ink, 255 - mask)
    assert np.array_equal(ink == 0, gray <= 99)


def test_color_range_converts_between_gray_and_colour() -> None:
    bgr = random_gray((20, 30, 3))
    luma = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    assert np.array_equal(
        color_range(bgr, ColorRangeParams(c0_min=50, c0_max=150)), cv2.inRange(luma, 50, 150)
    )
    gray = random_gray((20, 30))
    p = ColorRangeParams(space="bgr", c0_max=120, c1_max=120, c2_max=120)
    assert np.array_equal(color_range(gray, p), cv2.inRange(gray, 0, 120))


def test_color_range_hsv_picks_red_ink_only() -> None:
    img = np.full((10, 30, 3), 255, np.uint8)
    img[:, :10] = (0, 0, 200)  # red
    img[:, 10:20] = (200, 0, 0)  # blue
    p = ColorRangeParams(
        space="hsv", c0_min=0, c0_max=10, c1_min=100, c1_max=255, c2_min=50, c2_max=255, output="ink"
    )
    out = color_range(img, p)
    assert (out[:, :10] == 0).all()
    assert (out[:, 10:] == 255).all()


def test_color_range_lab_neutral_band_drops_coloured_pixels() -> None:
    img = np.zeros((4, 6, 3), np.uint8)
    img[:, :3] = (90, 90, 90)  # gray: a = b = 128
    img[:, 3:] = (0, 200, 0)  # green: a far below 128
    p = ColorRangeParams(space="lab", c1_min=120, c1_max=136, c2_min=120, c2_max=136)
    out = color_range(img, p)
    assert (out[:, :3] == 255).all()
    assert (out[:, 3:] == 0).all()
