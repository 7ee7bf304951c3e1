"""Pixel-level tests of the colour, denoise, binarise and morphology stages."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest
import scipy.ndimage as ndi
from pydantic import ValidationError

from pipeline.registry import get_stage
from pipeline.stages._image import is_binary
from pipeline.stages.binarise import ThresholdParams, threshold, threshold_surface
from pipeline.stages.colour import (
    BackgroundFlattenParams,
    ColorRangeParams,
    NormalizeParams,
    background_flatten,
    color_range,
    normalize,
)
from pipeline.stages.denoise import (
    BilateralParams,
    GaussianBlurParams,
    MedianBlurParams,
    NlMeansParams,
    bilateral,
    gaussian_blur,
    median_blur,
    nl_means,
)
from pipeline.stages.morphology import MorphologyParams, morphology

THRESHOLD_METHODS = (
    "fixed",
    "otsu",
    "triangle",
    "adaptive_mean",
    "adaptive_gaussian",
    "sauvola",
    "niblack",
    "wolf",
)


# --- synthetic images --------------------------------------------------------------------------


def page(text: str = "Clarity 42", scale: float = 1.0, pad: int = 12) -> np.ndarray:
    """Black text (0) on white (255), 8-bit gray, no anti-aliasing."""
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    img = np.full((h + base + 2 * pad, w + 2 * pad), 255, np.uint8)
    cv2.putText(img, text, (pad, pad + h), cv2.FONT_HERSHEY_SIMPLEX, scale, 0, 2, cv2.LINE_8)
    return img


def shaded_page() -> tuple[np.ndarray, np.ndarray]:
    """A text page lit unevenly (paper 250 on the left down to 120 on the right), and its ink mask."""
    clean = page("Uneven light 0123", scale=1.0)
    ink = clean == 0
    light = np.linspace(250, 120, clean.shape[1])[None, :] * np.ones((clean.shape[0], 1))
    shaded = np.where(ink, light * 0.25, light)
    return np.clip(np.rint(shaded), 0, 255).astype(np.uint8), ink


def random_gray(shape: tuple[int, ...] = (23, 31), seed: int = 7) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


# --- every stage: shape, dtype, purity, tiny images --------------------------------------------

CASES: list[tuple[str, dict[str, Any]]] = [
    ("color_range", {}),
    ("color_range", {"space": "bgr", "c0_min": 10, "c0_max": 200, "output": "ink"}),
    ("color_range", {"space": "hsv", "c0_max": 179}),
    ("color_range", {"space": "lab", "c1_min": 100, "c1_max": 150}),
    ("normalize", {}),
    ("normalize", {"low_percentile": 5, "high_percentile": 95}),
    ("normalize", {"method": "clahe", "tiles": 64, "clip_limit": 40}),
    ("background_flatten", {}),
    ("background_flatten", {"method": "morph", "size": 301}),
    ("background_flatten", {"method": "median", "size": 301}),
    ("gaussian_blur", {"ksize_w": 99, "ksize_h": 1, "sigma": 50}),
    ("gaussian_blur", {}),
    ("median_blur", {}),
    ("median_blur", {"ksize_w": 51, "ksize_h": 49}),
    ("median_blur", {"ksize_w": 5, "ksize_h": 3}),
    ("bilateral", {"diameter": 31}),
    ("nl_means", {"template_window": 21, "search_window": 51}),
    *[("threshold", {"method": m, "window": 301}) for m in THRESHOLD_METHODS],
    *[("threshold", {"method": m, "window": 3, "invert": True}) for m in THRESHOLD_METHODS],
    *[("morphology", {"op": op, "width": 301, "height": 1}) for op in ("erode", "dilate", "open", "close")],
    *[
        ("morphology", {"op": op, "shape": "ellipse", "ink": "light"})
        for op in ("tophat", "blackhat", "gradient")
    ],
    ("morphology", {"shape": "cross", "width": 301, "height": 301, "iterations": 10}),
]
GRAY_OUTPUT = {"color_range", "background_flatten", "threshold"}
BINARY_OUTPUT = {"color_range", "threshold"}


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (1, 1, 3), (2, 3, 3), (17, 26), (17, 26, 3)])
@pytest.mark.parametrize(("name", "params"), CASES)
def test_stage_keeps_shape_dtype_and_input(name: str, params: dict[str, Any], shape: tuple[int, ...]) -> None:
    stage = get_stage(name)
    image = random_gray(shape, seed=len(shape) * 100 + shape[0])
    before = image.copy()
    out = stage(image, stage.params(**params))
    assert out.dtype == np.uint8
    assert np.array_equal(image, before), "the stage modified its input"
    expected = shape[:2] if name in GRAY_OUTPUT else shape
    assert out.shape == expected
    if name in BINARY_OUTPUT:
        assert is_binary(out)


def test_stages_are_registered_with_expected_returns() -> None:
    returns = {
        "color_range": "binary 0/255",
        "normalize": "same as input",
        "background_flatten": "gray",
        "gaussian_blur": "same as input",
        "median_blur": "same as input",
        "bilateral": "same as input",
        "nl_means": "same as input",
        "threshold": "binary 0/255",
        "morphology": "same as input",
    }
    for name, what in returns.items():
        stage = get_stage(name)
        assert stage.returns == what
        assert stage.summary, f"{name} has no one-line summary"
        for field, info in stage.params.model_fields.items():
            assert info.description, f"{name}.{field} has no description"


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "kwargs"),
    [
        (GaussianBlurParams, {"ksize_w": 4}),
        (GaussianBlurParams, {"ksize_h": 0}),
        (MedianBlurParams, {"ksize_w": 6}),
        (NlMeansParams, {"template_window": 8}),
        (NlMeansParams, {"template_window": 21, "search_window": 7}),
        (ThresholdParams, {"window": 30}),
        (ThresholdParams, {"value": 256}),
        (ThresholdParams, {"method": "bernsen"}),
        (BackgroundFlattenParams, {"size": 50}),
        (BackgroundFlattenParams, {"size": 303}),
        (ColorRangeParams, {"c0_min": 200, "c0_max": 100}),
        (ColorRangeParams, {"c2_min": 11, "c2_max": 10}),
        (ColorRangeParams, {"c1_max": 256}),
        (NormalizeParams, {"low_percentile": 60}),
        (MorphologyParams, {"width": 0}),
        (MorphologyParams, {"iterations": 11}),
        (MorphologyParams, {"ink": "grey"}),
        (MorphologyParams, {"kernel": 3}),
    ],
)
def test_invalid_params_raise(model: type, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        model(**kwargs)


def test_min_above_max_message_names_the_fields() -> None:
    with pytest.raises(ValidationError, match="c0_min"):
        ColorRangeParams(c0_min=200, c0_max=100)


def test_params_are_frozen() -> None:
    p = ThresholdParams()
    with pytest.raises(ValidationError):
        p.window = 5  # type: ignore[misc]


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


# --- denoise -----------------------------------------------------------------------------------


def test_gaussian_blur_equals_opencv() -> None:
    img = random_gray((30, 40, 3))
    out = gaussian_blur(img, GaussianBlurParams(ksize_w=7, ksize_h=3, sigma=1.5))
    assert np.array_equal(out, cv2.GaussianBlur(img, (7, 3), 1.5, sigmaY=1.5))
    assert np.array_equal(gaussian_blur(img, GaussianBlurParams(ksize_w=1, ksize_h=1)), img)


def salt_and_pepper() -> tuple[np.ndarray, np.ndarray]:
    clean = np.full((120, 160), 255, np.uint8)
    clean[30:60, 20:70] = 0
    clean[70:100, 90:140] = 0
    rng = np.random.default_rng(11)
    noisy = clean.copy()
    ys, xs = rng.integers(0, 120, 300), rng.integers(0, 160, 300)
    noisy[ys, xs] = 255 - noisy[ys, xs]  # isolated specks: black on paper, white in the blocks
    return clean, noisy


def count_specks(img: np.ndarray) -> int:
    """Black and white connected blobs of fewer than 10 pixels."""
    specks = 0
    for blobs in (img == 0, img == 255):
        _, _, stats, _ = cv2.connectedComponentsWithStats(blobs.astype(np.uint8), connectivity=8)
        specks += int(np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] < 10))
    return specks


@pytest.mark.parametrize(("kw", "kh"), [(3, 3), (5, 3), (3, 5)])
def test_median_removes_salt_and_pepper(kw: int, kh: int) -> None:
    clean, noisy = salt_and_pepper()
    assert count_specks(clean) == 0
    assert count_specks(noisy) >= 250
    out = median_blur(noisy, MedianBlurParams(ksize_w=kw, ksize_h=kh))
    assert count_specks(out) == 0
    assert np.count_nonzero(out != clean) <= 12  # only the blocks' corners are rounded


@pytest.mark.parametrize(("kh", "kw"), [(3, 5), (5, 3), (1, 7), (9, 1), (3, 3), (15, 31)])
def test_median_matches_scipy_with_replicated_border(kh: int, kw: int) -> None:
    gray = random_gray((25, 37))
    expected = ndi.median_filter(gray, size=(kh, kw), mode="nearest")
    assert np.array_equal(median_blur(gray, MedianBlurParams(ksize_w=kw, ksize_h=kh)), expected)
    bgr = random_gray((25, 37, 3))
    expected = ndi.median_filter(bgr, size=(kh, kw, 1), mode="nearest")
    assert np.array_equal(median_blur(bgr, MedianBlurParams(ksize_w=kw, ksize_h=kh)), expected)


def test_bilateral_smooths_noise_and_keeps_the_edge() -> None:
    rng = np.random.default_rng(2)
    step = np.where(np.arange(60)[None, :] < 30, 60, 200) * np.ones((40, 1))
    noisy = np.clip(step + rng.normal(0, 8, step.shape), 0, 255).astype(np.uint8)
    out = bilateral(noisy, BilateralParams(diameter=9, sigma_color=40, sigma_space=5))
    assert np.array_equal(out, cv2.bilateralFilter(noisy, 9, 40, 5))
    assert out[:, 5:25].std() < noisy[:, 5:25].std() * 0.6
    assert out[:, 31].mean() - out[:, 28].mean() > 120


@pytest.mark.parametrize("channels", [1, 3])
def test_nl_means_reduces_noise(channels: int) -> None:
    rng = np.random.default_rng(4)
    shape = (40, 50) if channels == 1 else (40, 50, 3)
    noisy = np.clip(128 + rng.normal(0, 12, shape), 0, 255).astype(np.uint8)
    out = nl_means(noisy, NlMeansParams(h=15))
    assert out.shape == noisy.shape
    assert out.astype(float).std() < noisy.astype(float).std() * 0.5


# --- threshold ---------------------------------------------------------------------------------


@pytest.mark.parametrize("invert", [False, True])
def test_otsu_equals_opencv(invert: bool) -> None:
    gray = page()
    noisy = np.clip(gray.astype(int) + np.random.default_rng(8).integers(-40, 40, gray.shape), 0, 255)
    gray = noisy.astype(np.uint8)
    flag = (cv2.THRESH_BINARY_INV if invert else cv2.THRESH_BINARY) + cv2.THRESH_OTSU
    out = threshold(gray, ThresholdParams(method="otsu", invert=invert))
    assert np.array_equal(out, cv2.threshold(gray, 0, 255, flag)[1])


def test_triangle_and_fixed_equal_opencv() -> None:
    gray = random_gray((30, 30))
    tri = threshold(gray, ThresholdParams(method="triangle"))
    assert np.array_equal(tri, cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_TRIANGLE)[1])
    fixed = threshold(gray, ThresholdParams(method="fixed", value=90))
    assert np.array_equal(fixed, cv2.threshold(gray, 90, 255, cv2.THRESH_BINARY)[1])


@pytest.mark.parametrize("c", [2.0, -3.0, 2.5])
@pytest.mark.parametrize("method", ["adaptive_mean", "adaptive_gaussian"])
def test_adaptive_equals_opencv(method: str, c: float) -> None:
    gray, _ = shaded_page()
    cv_method = cv2.ADAPTIVE_THRESH_MEAN_C if method == "adaptive_mean" else cv2.ADAPTIVE_THRESH_GAUSSIAN_C
    expected = cv2.adaptiveThreshold(gray, 255, cv_method, cv2.THRESH_BINARY, 15, c)
    assert np.array_equal(threshold(gray, ThresholdParams(method=method, window=15, c=c)), expected)


def test_bimodal_image_splits_at_the_gap() -> None:
    rng = np.random.default_rng(9)
    gray = np.empty((20, 40), np.uint8)
    gray[:, :20] = rng.integers(40, 60, (20, 20))
    gray[:, 20:] = rng.integers(190, 210, (20, 20))
    for method in ("otsu", "triangle", "fixed"):
        out = threshold(gray, ThresholdParams(method=method))
        assert (out[:, :20] == 0).all(), method
        assert (out[:, 20:] == 255).all(), method


@pytest.mark.parametrize("method", THRESHOLD_METHODS)
def test_every_method_gives_binary_and_invert_swaps(method: str) -> None:
    gray, _ = shaded_page()
    k = -0.2 if method == "niblack" else 0.3
    out = threshold(gray, ThresholdParams(method=method, k=k))
    inv = threshold(gray, ThresholdParams(method=method, k=k, invert=True))
    assert is_binary(out)
    assert np.array_equal(inv, 255 - out)
    bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    assert np.array_equal(threshold(bgr, ThresholdParams(method=method, k=k)), out)


@pytest.mark.parametrize(("method", "k"), [("sauvola", 0.2), ("wolf", 0.5), ("niblack", -0.2)])
def test_local_methods_recover_text_on_a_shaded_page(method: str, k: float) -> None:
    shaded, ink = shaded_page()
    out = threshold(shaded, ThresholdParams(method=method, window=25, k=k))
    near_ink = cv2.dilate(ink.astype(np.uint8), np.ones((25, 25), np.uint8)).astype(bool)
    errors = np.count_nonzero((out == 0) != ink)
    errors_near = np.count_nonzero(((out == 0) != ink) & near_ink)
    # Niblack is known to turn blank paper into noise; judge it near the text only.
    wrong = errors_near if method == "niblack" else errors
    assert wrong < 0.02 * ink.size
    assert np.count_nonzero(out[ink] == 0) > 0.95 * np.count_nonzero(ink)


def naive_window_stats(gray: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    r = window // 2
    padded = np.pad(gray.astype(np.float64), r, mode="edge")
    h, w = gray.shape
    mean, std = np.empty((h, w)), np.empty((h, w))
    for y in range(h):
        for x in range(w):
            patch = padded[y : y + window, x : x + window]
            mean[y, x], std[y, x] = patch.mean(), patch.std()
    return mean, std


def test_sauvola_niblack_wolf_surfaces_follow_their_formulas() -> None:
    gray = (random_gray((12, 15)) // 2 + 60).astype(np.uint8)  # darkest level is not 0
    m, s = naive_window_stats(gray, 5)
    sauvola = threshold_surface(gray, ThresholdParams(method="sauvola", window=5, k=0.3))
    assert np.allclose(sauvola, m * (1 + 0.3 * (s / 128 - 1)))
    niblack = threshold_surface(gray, ThresholdParams(method="niblack", window=5, k=-0.2))
    assert np.allclose(niblack, m - 0.2 * s)
    low = float(gray.min())
    wolf = threshold_surface(gray, ThresholdParams(method="wolf", window=5, k=0.5))
    assert np.allclose(wolf, 0.5 * m + 0.5 * low + 0.5 * (s / s.max()) * (m - low))


# --- morphology --------------------------------------------------------------------------------


def test_morphology_close_equals_opencv_line_kernel() -> None:
    gray = page("a line of words", scale=0.8)
    gray = np.hstack([gray, gray])  # wider than the 150 px kernel
    out = morphology(gray, MorphologyParams(op="close", shape="rect", width=150, height=1, ink="light"))
    expected = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, np.ones((1, 150), np.uint8))
    assert np.array_equal(out, expected)


@pytest.mark.parametrize("op", ["erode", "dilate", "open", "close", "tophat", "blackhat", "gradient"])
@pytest.mark.parametrize("shape", ["rect", "ellipse", "cross"])
def test_light_ink_is_plain_opencv_and_dark_ink_is_inverted(op: str, shape: str) -> None:
    gray = random_gray((20, 25))
    p = MorphologyParams(op=op, shape=shape, width=5, height=3, iterations=2, ink="light")
    kern = cv2.getStructuringElement(
        {"rect": cv2.MORPH_RECT, "ellipse": cv2.MORPH_ELLIPSE, "cross": cv2.MORPH_CROSS}[shape], (5, 3)
    )
    cv_op = getattr(cv2, f"MORPH_{op.upper()}")
    assert np.array_equal(morphology(gray, p), cv2.morphologyEx(gray, cv_op, kern, iterations=2))
    dark = morphology(gray, p.model_copy(update={"ink": "dark"}))
    assert np.array_equal(dark, 255 - cv2.morphologyEx(255 - gray, cv_op, kern, iterations=2))


def test_dark_ink_dilate_thickens_and_erode_thins_the_text() -> None:
    gray = page()
    dark = np.count_nonzero(gray == 0)
    thick = morphology(gray, MorphologyParams(op="dilate", width=3, height=3))
    thin = morphology(gray, MorphologyParams(op="erode", width=3, height=3))
    assert np.count_nonzero(thick == 0) > dark * 1.3
    assert np.count_nonzero(thin == 0) < dark * 0.8
    assert np.array_equal(thick, cv2.erode(gray, np.ones((3, 3), np.uint8)))


def test_dark_ink_open_removes_specks_and_close_bridges_gaps() -> None:
    img = np.full((30, 40), 255, np.uint8)
    img[10:20, 5:15] = 0
    img[10:20, 16:26] = 0  # two blocks with a one-pixel gap
    img[2, 35] = 0  # a speck
    opened = morphology(img, MorphologyParams(op="open", width=3, height=3))
    assert opened[2, 35] == 255
    assert (opened[10:20, 5:15] == 0).all()
    closed = morphology(img, MorphologyParams(op="close", width=3, height=1))
    assert (closed[10:20, 5:26] == 0).all()


def test_iterations_repeat_the_operation() -> None:
    img = page()
    twice = morphology(img, MorphologyParams(op="dilate", width=3, height=3, iterations=2))
    once_bigger = morphology(img, MorphologyParams(op="dilate", width=5, height=5))
    assert np.array_equal(twice, once_bigger)


def test_morphology_works_per_channel_on_colour() -> None:
    bgr = random_gray((15, 20, 3))
    out = morphology(bgr, MorphologyParams(op="dilate", width=3, height=3))
    for c in range(3):
        channel = np.ascontiguousarray(bgr[:, :, c])
        assert np.array_equal(
            out[:, :, c], morphology(channel, MorphologyParams(op="dilate", width=3, height=3))
        )
