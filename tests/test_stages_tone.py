"""Tone stages (pipeline/stages/tone.py): normalize, background_flatten, tone_band, auto_polarity."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from pipeline.stages.tone import (
    AutoPolarityParams,
    BackgroundFlattenParams,
    NormalizeParams,
    ToneBandParams,
    auto_polarity,
    background_flatten,
    find_tone_band,
    normalize,
    text_is_light,
    tone_band,
)

from .stage_images import (
    page,
    shaded_page,
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


def test_tone_band_core_finds_a_flat_tone_among_spread_ones() -> None:
    img, glyphs = captcha_like(120, 20)
    rng = np.random.default_rng(0)
    spread = np.zeros(img.shape, bool)
    spread[:15, :] = True
    spread[46:, :] = True  # more pixels than the glyphs, at 150-189: anti-aliased text in many grays
    img[spread] = rng.integers(150, 190, int(spread.sum()))
    assert spread.sum() > glyphs.sum()
    wide = find_tone_band(img, ToneBandParams(width=41))
    assert wide is not None and wide[0] > 120  # the 41-level window holding the most pixels
    params = ToneBandParams(width=41, core=9, fraction=0.1, output="mask")
    # the fullest 9 levels: the glyphs' one gray, narrowed to it (counts averaged over 3 levels)
    assert find_tone_band(img, params) == (119, 121)
    assert np.array_equal(tone_band(img, params) == 255, glyphs)


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


# --- normalize ---------------------------------------------------------------------------------


def test_minmax_stretches_to_full_range_monotonically() -> None:
    gray = np.tile(np.arange(50, 151, dtype=np.uint8), (5, 1))
    out = normalize(gray, NormalizeParams())
    assert out.min() == 0
    assert out.max() == 255
    assert (np.diff(out[0].astype(int)) >= 0).all()
    assert abs(int(out[0, 50]) - 128) <= 1


def test_minmax_percentiles_ignore_outliers() -> None:
    rng = np.random.default_rng(5)
    gray = rng.integers(100, 141, (50, 50), dtype=np.uint8)
    gray[0, :5] = 0
    gray[1, :5] = 255
    plain = normalize(gray, NormalizeParams())
    clipped = normalize(gray, NormalizeParams(low_percentile=1, high_percentile=99))
    bulk = (slice(2, None), slice(None))
    assert np.ptp(plain[bulk]) <= 41  # outliers at 0 and 255 leave the bulk unstretched
    assert np.ptp(clipped[bulk]) >= 240


def test_minmax_leaves_a_flat_image_unchanged() -> None:
    flat = np.full((5, 7), 77, np.uint8)
    assert np.array_equal(normalize(flat, NormalizeParams()), flat)


def test_clahe_equals_opencv_and_raises_contrast() -> None:
    dull = np.random.default_rng(6).integers(120, 136, (64, 64), dtype=np.uint8)
    out = normalize(dull, NormalizeParams(method="clahe", clip_limit=3.0, tiles=4))
    assert np.array_equal(out, cv2.createCLAHE(clipLimit=3.0, tileGridSize=(4, 4)).apply(dull))
    assert out.std() > dull.std() * 3


def test_normalize_colour_keeps_the_colour() -> None:
    img = np.zeros((10, 20, 3), np.uint8)
    img[:, :10] = (40, 40, 120)  # dim red
    img[:, 10:] = (110, 110, 110)  # gray
    out = normalize(img, NormalizeParams())
    assert out.shape == img.shape
    red = out[0, 0].astype(int)
    assert red[2] > red[0] + 40 and red[2] > red[1] + 40  # still red
    assert np.ptp(out[0, 15].astype(int)) <= 3  # still neutral
    assert int(cv2.cvtColor(out, cv2.COLOR_BGR2LAB)[:, :, 0].max()) == 255


# --- background_flatten ------------------------------------------------------------------------


# Sizes above 31 px take the downscaled path.
@pytest.mark.parametrize(("method", "size"), [("median", 31), ("morph", 31), ("median", 151), ("morph", 101)])
def test_background_flatten_evens_out_lighting(method: str, size: int) -> None:
    shaded, ink = shaded_page()
    out = background_flatten(shaded, BackgroundFlattenParams(method=method, size=size))
    assert out.shape == shaded.shape
    paper = ~cv2.dilate(ink.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert shaded[paper].std() > 30
    if method == "morph":  # documented: a closing overestimates the background near the edge
        paper[:, : size // 2] = paper[:, -(size // 2) :] = False
    assert out[paper].std() < 3
    assert out[paper].mean() > 240
    assert out[ink].mean() < 110  # the text keeps its contrast


@pytest.mark.parametrize("method", ["median", "morph"])
def test_background_flatten_divides_by_the_paper_level(method: str) -> None:
    ink = page() == 0
    dim = np.where(ink, 50, 200).astype(np.uint8)
    out = background_flatten(dim, BackgroundFlattenParams(method=method, size=31))
    assert (out[~ink] == 255).all()
    assert (out[ink] == round(50 / 200 * 255)).all()


def test_background_flatten_erase_keeps_bold_dense_text_dark() -> None:
    # Bars 9 px wide with 3 px gaps: ink fills 75% of any 31 px window, so a plain median
    # takes the ink for the background and washes the text out.
    dense = np.full((120, 240), 200, np.uint8)
    for x in range(40, 200, 12):
        dense[30:90, x : x + 9] = 60
    ink = dense == 60
    plain = background_flatten(dense, BackgroundFlattenParams(size=31))
    erased = background_flatten(dense, BackgroundFlattenParams(size=31, erase=11))
    assert plain[ink].mean() > 200  # washed out
    assert erased[ink].mean() < 90  # about 60 / 200 * 255 = 77
    assert (erased[~ink] >= 250).mean() > 0.99  # the paper stays white
    # Strokes wider than the closing are not erased from the estimate.
    too_narrow = background_flatten(dense, BackgroundFlattenParams(size=31, erase=7))
    assert too_narrow[ink].mean() > 200


def test_background_flatten_erase_ignored_by_morph() -> None:
    shaded, _ = shaded_page()
    a = background_flatten(shaded, BackgroundFlattenParams(method="morph", size=31))
    b = background_flatten(shaded, BackgroundFlattenParams(method="morph", size=31, erase=15))
    assert np.array_equal(a, b)


def test_background_flatten_colour_gives_gray() -> None:
    shaded, _ = shaded_page()
    bgr = cv2.cvtColor(shaded, cv2.COLOR_GRAY2BGR)
    out = background_flatten(bgr, BackgroundFlattenParams(size=31))
    assert out.ndim == 2
    assert np.array_equal(out, background_flatten(shaded, BackgroundFlattenParams(size=31)))


@pytest.mark.parametrize("method", ["median", "morph"])
def test_background_flatten_every_large_size_step_changes_the_output(method: str) -> None:
    # A slider step that changes nothing looks broken: windows above 31 px run on a downscaled
    # copy, and that copy must differ for each size (an integer factor made 77, 79, 81 one window).
    shaded, _ = shaded_page()
    big = cv2.resize(shaded, None, fx=4, fy=4, interpolation=cv2.INTER_LINEAR)
    outs = [background_flatten(big, BackgroundFlattenParams(method=method, size=s)) for s in range(71, 91, 2)]
    for a, b in itertools.pairwise(outs):
        assert not np.array_equal(a, b)
