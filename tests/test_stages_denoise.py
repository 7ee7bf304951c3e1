"""Denoise stages (pipeline/stages/denoise.py): Gaussian, median, bilateral, non-local means."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import scipy.ndimage as ndi

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
