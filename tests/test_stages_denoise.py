"""Denoise stages (pipeline/stages/denoise.py): Gaussian, median, bilateral, non-local means."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import scipy.ndimage as ndi

from pipeline.stages._image import stroke_width
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

from .stage_images import (
    count_specks,
    random_gray,
    salt_and_pepper,
)

# --- denoise -----------------------------------------------------------------------------------


def test_gaussian_blur_equals_opencv() -> None:
    img = random_gray((30, 40, 3))
    out = gaussian_blur(img, GaussianBlurParams(ksize_w=7, ksize_h=3, sigma=1.5))
    assert np.array_equal(out, cv2.GaussianBlur(img, (7, 3), 1.5, sigmaY=1.5))
    assert np.array_equal(gaussian_blur(img, GaussianBlurParams(ksize_w=1, ksize_h=1)), img)


@pytest.mark.parametrize(("kw", "kh"), [(3, 3), (5, 3), (3, 5)])
def test_median_removes_salt_and_pepper(kw: int, kh: int) -> None:
    clean, noisy = salt_and_pepper()
    assert count_specks(clean) == 0
    assert count_specks(noisy) >= 250
    out = median_blur(noisy, MedianBlurParams(ksize_w=kw, ksize_h=kh))
    assert count_specks(out) == 0
    assert np.count_nonzero(out != clean) <= 12  # only the blocks' corners are rounded


def _strokes(width: int) -> np.ndarray:
    """White paper with dark strokes exactly ``width`` px wide: upright bars, crossbars and an L."""
    img = np.full((80, 200), 235, np.uint8)
    for x in range(10, 120, 22):
        img[15:65, x : x + width] = 30
    for y in range(15, 65, 16):
        img[y : y + width, 130:190] = 30
    img[70 - width : 70, 20:110] = 30  # the L's foot, joined to the first bar
    return img


@pytest.mark.parametrize("width", [1, 2, 3, 5, 8])
def test_stroke_width_is_measured_from_area_and_outline(width: int) -> None:
    """``stroke_width`` of strokes drawn ``width`` px wide, within the pixel grid's rounding,
    and unmoved by specks."""
    img = _strokes(width)
    measured = stroke_width(img)
    assert measured is not None and abs(measured - width) <= 0.25 * width
    specked = img.copy()
    rng = np.random.default_rng(width)
    specked[rng.integers(0, 80, 60), rng.integers(0, 200, 60)] = 30  # 1 px specks
    assert stroke_width(specked) == pytest.approx(measured, abs=0.3)
    assert stroke_width(np.full((20, 20), 200, np.uint8)) is None


def test_median_leaves_thin_strokes_alone_with_min_stroke() -> None:
    """A 3 px median erases 1 px strokes; with ``min_stroke`` above their width it leaves the
    image as it is, and still cleans speckled bold strokes."""
    thin = _strokes(1)
    erased = median_blur(thin, MedianBlurParams())
    assert (erased < 128).sum() < 0.5 * (thin < 128).sum()  # the failure min_stroke prevents
    kept = median_blur(thin, MedianBlurParams(min_stroke=2.5))
    np.testing.assert_array_equal(kept, thin)
    assert kept is not thin
    bold = _strokes(5)
    specked = bold.copy()
    specked[np.random.default_rng(0).random(bold.shape) < 0.02] = 0
    specked[np.random.default_rng(1).random(bold.shape) < 0.02] = 255
    cleaned = median_blur(specked, MedianBlurParams(min_stroke=2.5))
    np.testing.assert_array_equal(cleaned, median_blur(specked, MedianBlurParams()))
    assert count_specks(cleaned) < count_specks(specked)


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
