"""Invariants of the tone stages: tone_band finds the glyphs' band, auto_polarity makes text dark."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.stages.tone import (
    AutoPolarityParams,
    ToneBandParams,
    auto_polarity,
    find_tone_band,
    text_is_light,
    tone_band,
)


def captcha_like(glyph_tone: int = 120, distractor_tone: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """White image with a big glyph block at ``glyph_tone`` and thin distractor text; glyph mask."""
    img = np.full((60, 160), 250, np.uint8)
    glyphs = np.zeros(img.shape, bool)
    glyphs[15:45, 20:60] = True
    glyphs[15:45, 80:120] = True
    img[glyphs] = glyph_tone
    cv2.putText(img, "powered by", (5, 56), cv2.FONT_HERSHEY_PLAIN, 0.8, distractor_tone, 1, cv2.LINE_8)
    glyphs &= img == glyph_tone
    return img, glyphs


@pytest.mark.parametrize("tone", [60, 100, 120, 180])
def test_tone_band_finds_the_glyph_tone(tone: int) -> None:
    img, glyphs = captcha_like(tone, distractor_tone=20 if tone > 90 else 190)
    out = tone_band(img, ToneBandParams(width=9, output="mask"))
    assert set(np.unique(out)) <= {0, 255}
    assert np.array_equal(out == 255, glyphs)
    low, high = find_tone_band(img, ToneBandParams(width=9))
    assert low <= tone <= high and high - low + 1 == 9


def test_tone_band_ink_output_is_dark_glyphs_on_white() -> None:
    img, glyphs = captcha_like()
    out = tone_band(img, ToneBandParams(width=5, output="ink"))
    assert np.array_equal(out == 0, glyphs)
    assert img.max() == 250  # input untouched


def test_tone_band_second_peak_and_side() -> None:
    img, _ = captcha_like(120, 40)
    img[2:10, 2:150] = 40  # make the distractor tone the second populated band
    first = find_tone_band(img, ToneBandParams(width=5, peak=1))
    second = find_tone_band(img, ToneBandParams(width=5, peak=2))
    assert first[0] <= 120 <= first[1]
    assert second[0] <= 40 <= second[1]
    lighter = find_tone_band(img, ToneBandParams(width=5, side="lighter"))
    assert lighter is None  # nothing lighter than the white background


def test_tone_band_fraction_narrows_to_a_flat_fill() -> None:
    img, _ = captcha_like(120, 20)
    rng = np.random.default_rng(0)
    fill = img == 120
    img[fill] = rng.integers(118, 123, int(fill.sum()))  # glyphs spread over 118..122
    band = find_tone_band(img, ToneBandParams(width=41, fraction=0.3))
    assert band is not None and 116 <= band[0] <= 118 and 122 <= band[1] <= 124
    assert find_tone_band(img, ToneBandParams(width=41)) == (100, 140)


def test_tone_band_flat_and_tiny_images_select_nothing() -> None:
    for img in (np.full((8, 8), 200, np.uint8), np.zeros((1, 1), np.uint8)):
        assert (tone_band(img, ToneBandParams(output="mask")) == 0).all()


def digit(light: bool, colour: bool = False) -> np.ndarray:
    img = np.full((60, 36), 200, np.uint8)
    cv2.putText(img, "5", (4, 48), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 50, 4)
    if light:
        img = 255 - img
    return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR) if colour else img


@pytest.mark.parametrize("method", ["border", "minority", "centre"])
@pytest.mark.parametrize("colour", [False, True])
def test_auto_polarity_makes_text_dark_on_light(method: str, colour: bool) -> None:
    p = AutoPolarityParams(method=method)
    dark, light = digit(False, colour), digit(True, colour)
    assert np.array_equal(auto_polarity(dark, p), dark)
    assert np.array_equal(auto_polarity(light, p), dark)
    assert auto_polarity(light, p) is not light
    assert light[0, 0].min() == 55  # input untouched


def test_auto_polarity_border_sees_a_large_light_digit() -> None:
    # A bold digit covering more than half the crop: minority gets it wrong, border does not.
    img = np.full((40, 30), 30, np.uint8)
    img[4:36, 4:26] = 220
    assert text_is_light(img, "border")
    assert not text_is_light(img, "minority")


def counter_window(light: bool) -> np.ndarray:
    """A faint digit in a counter-wheel window with a black frame edge on the left."""
    img = np.full((60, 36), 90, np.uint8)
    img[20:44, 12:26] = 130  # the digit: 40 levels lighter than its background
    img[:, :4] = 5  # the dark edge of the window
    return img if light else np.where(img == 130, 50, img).astype(np.uint8)


@pytest.mark.parametrize("light", [False, True])
def test_auto_polarity_centre_is_not_misled_by_a_dark_frame_edge(light: bool) -> None:
    img = counter_window(light)
    assert text_is_light(img, "centre", margin=10, centre=20) is light
    # Otsu splits the frame from the rest, so border calls the light digit dark.
    assert not text_is_light(counter_window(True), "border")


def test_auto_polarity_centre_ignores_a_neighbour_digit_in_the_ring() -> None:
    # Dark digit in the middle, and the dark bottom of the previous digit at the top edge.
    img = np.full((60, 36), 200, np.uint8)
    img[20:44, 12:26] = 60
    img[0:8, 6:30] = 40
    assert not text_is_light(img, "centre")
    assert text_is_light(255 - img, "centre")


def test_auto_polarity_flat_and_tiny_images_unchanged() -> None:
    for img in (np.full((5, 5), 9, np.uint8), np.zeros((1, 1), np.uint8), np.zeros((1, 1, 3), np.uint8)):
        for method in ("border", "minority", "centre"):
            assert np.array_equal(auto_polarity(img, AutoPolarityParams(method=method, centre=45)), img)
