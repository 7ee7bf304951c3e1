"""Binarise stages (pipeline/stages/binarise.py): threshold and contrast_binarise."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.registry import get_stage
from pipeline.stages._image import is_binary
from pipeline.stages.binarise import (
    ContrastBinariseParams,
    ThresholdParams,
    _box_sum,
    _edge_blobs,
    _paper_level,
    _scaled_contrast,
    contrast_binarise,
    estimate_stroke_width,
    threshold,
    threshold_surface,
)

from .stage_images import (
    THRESHOLD_METHODS,
    naive_window_stats,
    page,
    random_gray,
    reference_blob_cleaning,
    reference_paper_level,
    shaded_page,
)


def _page(stroke: int = 3, shade: bool = True, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic page: rows of bars and rings (the 'text', mask returned) on shaded, grainy paper."""
    rng = np.random.default_rng(seed)
    h, w = 160, 240
    mask = np.zeros((h, w), np.uint8)
    for row in range(4):
        y = 15 + row * 38
        for col in range(9):
            x = 10 + col * 25
            if col % 2:
                cv2.rectangle(mask, (x, y), (x + 12, y + 20), 1, stroke)
            else:
                cv2.line(mask, (x + 6, y), (x + 6, y + 20), 1, stroke)
    ink = mask.astype(bool)
    paper = np.full((h, w), 220.0)
    if shade:  # light falling off from left to right, plus a dark diagonal band
        paper *= np.linspace(1.0, 0.4, w)[None, :]
        yy, xx = np.mgrid[0:h, 0:w]
        paper -= 40.0 * np.exp(-(((xx - yy) / 25.0) ** 2))
    img = paper * np.where(ink, 0.55, 1.0) + rng.normal(0, 3, (h, w))
    return np.clip(img, 0, 255).astype(np.uint8), ink


def _f(out: np.ndarray, ink: np.ndarray) -> float:
    pred = out == 0
    tp = (pred & ink).sum()
    return 2 * tp / max(pred.sum() + ink.sum(), 1)


def test_binary_dark_ink_and_input_untouched() -> None:
    img, _ = _page()
    before = img.copy()
    out = contrast_binarise(img, ContrastBinariseParams())
    assert np.array_equal(img, before)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert set(np.unique(out)) <= {0, 255}
    colour = contrast_binarise(cv2.cvtColor(img, cv2.COLOR_GRAY2BGR), ContrastBinariseParams())
    assert np.array_equal(colour, out)


def test_recovers_text_under_shading_where_global_otsu_fails() -> None:
    img, ink = _page()
    out = contrast_binarise(img, ContrastBinariseParams())
    _, otsu = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    assert _f(out, ink) > 0.9
    assert _f(out, ink) > _f(otsu, ink) + 0.1
    assert (out[~cv2.dilate(ink.astype(np.uint8), np.ones((3, 3))).astype(bool)] == 255).mean() > 0.995


def test_thick_strokes_are_filled_by_wider_windows() -> None:
    img, ink = _page(stroke=9, shade=False)
    one = contrast_binarise(img, ContrastBinariseParams(levels=1, stroke_width=3))
    more = contrast_binarise(img, ContrastBinariseParams(levels=3, stroke_width=3))
    assert _f(more, ink) > 0.95
    assert _f(more, ink) > _f(one, ink) + 0.05


def test_k_makes_strokes_bolder_and_stroke_width_estimate() -> None:
    img, ink = _page(stroke=5, shade=False)
    thin = (contrast_binarise(img, ContrastBinariseParams(k=-1.0)) == 0).sum()
    bold = (contrast_binarise(img, ContrastBinariseParams(k=1.5)) == 0).sum()
    assert bold > thin
    width = int(ink[30, :25].sum())  # the first vertical stroke
    edges = cv2.Canny(img, 50, 150) > 0
    assert width <= estimate_stroke_width(img, edges) <= width + 2  # edges sit just outside the ink


def test_faint_blobs_and_specks_are_dropped() -> None:
    img, ink = _page(shade=False)
    faint = img.copy()
    cv2.circle(faint, (231, 100), 6, 175, -1)  # a blob 1/3 as dark against the paper as the text
    faint[5, 5] = 60  # one dark speck
    keep = contrast_binarise(faint, ContrastBinariseParams(min_contrast=0.0, min_area=0.0))
    drop = contrast_binarise(faint, ContrastBinariseParams(min_contrast=0.6, min_area=0.5))
    assert keep[100, 231] == 0 and drop[100, 231] == 255
    assert keep[5, 5] == 0 and drop[5, 5] == 255
    assert _f(drop, ink) > 0.9


def _framed(text: np.ndarray) -> np.ndarray:
    """``text`` photographed off-centre: dark bands along the top, right and part of the bottom edge."""
    framed = text.copy()
    framed[:6, :] = 5
    framed[:, -8:] = 5
    framed[-5:, :150] = 5
    return framed


def test_dark_margins_round_a_page_are_painted_over() -> None:
    """A page photo's dark frame outweighs faint text: its edges set the contrast level and the
    text is lost (the failure seen on generated page photos), unless ``margin_span`` paints the
    frame over first. Without a frame the setting changes nothing."""
    img, ink = _page(shade=False)
    faint = np.clip(img.astype(int) + np.where(ink, 60, 0), 0, 255).astype(np.uint8)
    framed = _framed(faint)
    lost = contrast_binarise(framed, ContrastBinariseParams())
    kept = contrast_binarise(framed, ContrastBinariseParams(margin_span=25))
    assert _f(lost, ink) < 0.1 and (lost[:6] == 0).mean() > 0.8  # the frame is the "text"
    assert _f(kept, ink) > 0.95
    assert (kept[:6] == 255).all() and (kept[:, -8:] == 255).all() and (kept[-5:, :150] == 255).all()
    plain = [contrast_binarise(faint, ContrastBinariseParams(margin_span=span)) for span in (0, 25)]
    np.testing.assert_array_equal(plain[0], plain[1])


def test_only_long_bands_hugging_the_edge_are_margins() -> None:
    """``_edge_blobs``: a band along the edge is a margin; a glyph touching the edge is too short
    to be one; a tangle of noise joined to the edge, reaching deep into the page, is not one."""
    dark = np.zeros((200, 300), np.uint8)
    dark[:6, :200] = 1  # a band along the top, two thirds of the width
    dark[80:100, 290:] = 1  # a glyph cut by the right edge, 10 % of the height
    rng = np.random.default_rng(0)
    dark[120:, :120] = rng.random((80, 120)) < 0.6  # a dense tangle from the bottom-left corner
    _, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    margins = _edge_blobs(labels, stats, 0.25)
    assert margins[labels[2, 100]]
    assert not margins[labels[90, 295]]
    tangle = np.bincount(labels[120:, :120][dark[120:, :120] > 0]).argmax()
    assert stats[tangle, cv2.CC_STAT_WIDTH] >= 0.25 * 300 and not margins[tangle]
    assert margins.sum() == 1 and not margins[0]


@pytest.mark.parametrize(("min_contrast", "min_area"), [(0.6, 0.5), (0.9, 0.0), (0.3, 2.0), (0.0, 1.0)])
@pytest.mark.parametrize("seed", [0, 1])
def test_blob_cleaning_matches_its_whole_image_definition(
    min_contrast: float, min_area: float, seed: int
) -> None:
    """The stage works out the blobs' contrast at the ink pixels only; the pixels must be those of
    the whole-image definition, on a shaded page with faint blobs and specks of every size."""
    img, _ = _page(seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(25):  # faint blobs and specks, from 1 px to 7 px across
        x, y, r = int(rng.integers(5, 235)), int(rng.integers(5, 155)), int(rng.integers(0, 4))
        cv2.circle(img, (x, y), r, int(img[y, x]) - int(rng.integers(10, 80)), -1)
    img[70:90, 200:240] = 0  # a blob with no paper within 33 px of its middle
    fixed = {"stroke_width": 3, "k": 0.1}
    raw = contrast_binarise(img, ContrastBinariseParams(min_contrast=0.0, min_area=0.0, **fixed)) == 0
    params = ContrastBinariseParams(min_contrast=min_contrast, min_area=min_area, **fixed)
    cleaned = contrast_binarise(img, params)
    expected = reference_blob_cleaning(img, raw, 3, min_contrast, min_area)
    assert (cleaned != 255).sum() < raw.sum()  # something was dropped, so the test can fail
    np.testing.assert_array_equal(cleaned, expected)


def test_paper_level_at_ink_pixels_is_the_whole_image_level() -> None:
    """Exactly the whole-image level at the pixels asked for: found in the first window, in a 4x
    wider one (inside a big dark block), and the page's mean paper (no paper within reach)."""
    rng = np.random.default_rng(3)
    gray = rng.integers(120, 250, (300, 1000)).astype(np.uint8)
    ink = rng.random(gray.shape) < 0.2
    ink[50:250, 100:300] = True  # paper only in the wider window at its middle
    ink[:, 400:] = True  # no paper within 4 x 4 x 15 px of the right end
    at = np.flatnonzero(ink)
    got = _paper_level(gray, ink, at, 15)
    np.testing.assert_array_equal(got, reference_paper_level(gray, ink, 15).ravel()[at])
    assert len(np.unique(got[at % 1000 > 900])) == 1  # the fallback is reached


@pytest.mark.parametrize(("window", "shape"), [(3, (120, 170)), (5, (2500, 1000))])  # 1 and 3 bands
def test_contrast_looked_up_by_pair_is_the_per_pixel_formula(window: int, shape: tuple[int, int]) -> None:
    gray = random_gray(shape, seed=window)
    box = np.ones((window, window), np.uint8)
    high = cv2.dilate(gray, box, borderType=cv2.BORDER_REPLICATE).astype(np.float64)
    low = cv2.erode(gray, box, borderType=cv2.BORDER_REPLICATE).astype(np.float64)
    contrast = (high - low) / (high + low + 1e-6)
    expected = np.clip(np.rint(contrast * (255.0 / contrast.max())), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(_scaled_contrast(gray, window), expected)
    assert _scaled_contrast(np.full((9, 9), 77, np.uint8), window) is None  # no contrast at all


def test_blank_tiny_and_uniform_images_are_white() -> None:
    stage = get_stage("contrast_binarise")
    for img in (np.zeros((1, 1), np.uint8), np.full((7, 5), 128, np.uint8), np.full((3, 3, 3), 9, np.uint8)):
        out = stage(img, ContrastBinariseParams())
        assert out.shape == img.shape[:2] and (out == 255).all()


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


@pytest.mark.parametrize("side", [3, 31, 181, 183, 401])
@pytest.mark.parametrize("border", [cv2.BORDER_CONSTANT, cv2.BORDER_REFLECT])
def test_window_sums_are_exact_whatever_their_type(side: int, border: int) -> None:
    # contrast_binarise sums 8-bit values and their squares in int32 while no sum can overflow
    # it, in float64 beyond (side 183 for squares): both must equal float64 sums of the same pixels.
    rng = np.random.default_rng(side)
    values = rng.integers(0, 256, (300, 420), dtype=np.uint8)
    squares = values.astype(np.uint16) * values
    for image, top in ((values, 255), (squares, 255 * 255), ((values > 128).astype(np.uint8), 1)):
        got = _box_sum(image, side, top, border)
        want = cv2.boxFilter(image.astype(np.float64), -1, (side, side), normalize=False, borderType=border)
        assert np.array_equal(got.astype(np.float64), want)
    assert _box_sum(squares, 183, 255 * 255).dtype == np.float64  # an int32 sum could overflow there
    assert _box_sum(squares, 181, 255 * 255).dtype == np.int32


# --- the memo of contrast_binarise's edge statistics --------------------------------------------


def test_moving_k_reuses_the_edge_statistics_and_gives_the_same_pixels(monkeypatch) -> None:
    import pipeline.stages.binarise as binarise
    from pipeline.stages import _memo

    assert binarise._AFTER_STATS.issubset(ContrastBinariseParams.model_fields)  # no stale name
    img, _ = _page()
    calls = []
    real = binarise._page_stats
    monkeypatch.setattr(binarise, "_page_stats", lambda gray, p: calls.append(p.k) or real(gray, p))
    _memo.clear()
    ks = (0.0, 0.3, -0.4, 1.1)
    remembered = [contrast_binarise(img, ContrastBinariseParams(k=k, min_area=1.0)) for k in ks]
    assert calls == [0.0]  # computed once; k, and the blob filter, do not change the statistics
    for k, out in zip(ks, remembered, strict=True):
        _memo.clear()
        assert np.array_equal(out, contrast_binarise(img, ContrastBinariseParams(k=k, min_area=1.0)))
    assert len(calls) == 1 + len(ks)
    contrast_binarise(img, ContrastBinariseParams(window_factor=3.0))  # a setting they read
    assert len(calls) == 2 + len(ks)
    contrast_binarise(img.copy(), ContrastBinariseParams(window_factor=3.0))  # same pixels, new array
    assert len(calls) == 2 + len(ks)
    contrast_binarise(img // 2, ContrastBinariseParams(window_factor=3.0))  # other pixels
    assert len(calls) == 3 + len(ks)


def test_memo_keeps_read_only_results_and_skips_oversized_ones() -> None:
    from pipeline.stages import _memo

    _memo.clear()
    img = np.arange(12, dtype=np.uint8).reshape(3, 4)
    made = []

    def compute() -> tuple[np.ndarray, int]:
        made.append(1)
        return np.zeros(3), 7

    first = _memo.remember("t", img, (1,), compute)
    again = _memo.remember("t", img.copy(), (1,), compute)
    assert again is first and len(made) == 1 and not first[0].flags.writeable
    _memo.remember("t", img, (2,), compute)
    _memo.remember("other", img, (1,), compute)
    assert len(made) == 3
    big = np.zeros(_memo.MEMO_BYTES // 8 + 1)
    _memo.remember("big", img, (), lambda: big)
    assert _memo.remember("big", img, (), lambda: np.ones(1)).shape == (1,)  # not kept: recomputed
