"""Binarise stages: global and local thresholds that turn gray into 0/255 ink on paper."""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
from pydantic import Field

from ..params import Odd, StageParams, number, odd_int
from ..registry import register
from ._image import fit_odd, to_gray, whole_image_window

Method = Literal[
    "fixed", "otsu", "triangle", "adaptive_mean", "adaptive_gaussian", "sauvola", "niblack", "wolf"
]

SAUVOLA_R = 128.0
"""Sauvola's dynamic range of the standard deviation, for 8-bit images."""


class ThresholdParams(StageParams):
    method: Method = Field(
        "otsu",
        description="fixed: one given level; otsu, triangle: one level from the histogram; adaptive_*, "
        "sauvola, niblack, wolf: a level per pixel from its window.",
    )
    value: int = Field(127, ge=0, le=255, description="fixed: threshold, 0-255 gray level.")
    window: Odd = odd_int(31, 3, 301, "Local methods: side of the window, px; about 2-3 text heights.")
    k: float = number(
        0.2,
        -1.0,
        1.0,
        "sauvola/niblack/wolf: sensitivity factor; typical sauvola 0.2-0.5, niblack -0.2, wolf 0.5.",
        step=0.01,
    )
    c: float = number(
        2.0, -50.0, 50.0, "adaptive_*: offset subtracted from the local mean, gray levels.", step=1.0
    )
    invert: bool = Field(False, description="False: dark ink 0 on white 255; True: ink 255 on 0.")


def _local_mean_std(gray: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of every ``window`` x ``window`` neighbourhood (float64)."""
    size = (window, window)
    mean = cv2.boxFilter(gray, cv2.CV_64F, size, borderType=cv2.BORDER_REPLICATE)
    mean_sq = cv2.sqrBoxFilter(gray, cv2.CV_64F, size, borderType=cv2.BORDER_REPLICATE)
    std = np.sqrt(np.maximum(mean_sq - mean * mean, 0.0))
    return mean, std


def threshold_surface(gray: np.ndarray, p: ThresholdParams) -> float | np.ndarray:
    """The threshold of every pixel of an 8-bit gray image: a scalar or an array of its shape.

    A pixel is background (paper) when it is strictly above its threshold, ink otherwise; this
    is OpenCV's ``THRESH_BINARY`` rule. With ``m`` and ``s`` the mean and standard deviation of
    the pixel's window:

    - ``fixed``: ``value``; ``otsu``: Otsu (1979); ``triangle``: Zack et al. (1977).
    - ``adaptive_mean`` / ``adaptive_gaussian``: the box / Gaussian-weighted window mean, rounded to
      8 bits, minus ``c`` (as ``cv2.adaptiveThreshold``).
    - ``niblack``: ``m + k s`` (Niblack 1986).
    - ``sauvola``: ``m (1 + k (s / R - 1))`` with ``R = 128`` (Sauvola & Pietikäinen 2000).
    - ``wolf``: ``(1 - k) m + k M + k (s / S) (m - M)``, with ``M`` the image's darkest level and ``S``
      the largest window deviation in the image (Wolf & Jolion 2004).

    The window is clamped to the image for tiny images; windows are border-replicated.
    """
    method = p.method
    if method == "fixed":
        return float(p.value)
    if method in ("otsu", "triangle"):
        flag = cv2.THRESH_OTSU if method == "otsu" else cv2.THRESH_TRIANGLE
        level, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + flag)
        return float(level)
    window = fit_odd(p.window, whole_image_window(gray), minimum=3)
    if method == "adaptive_mean":
        border = cv2.BORDER_REPLICATE | cv2.BORDER_ISOLATED
        mean = cv2.boxFilter(gray, cv2.CV_8U, (window, window), borderType=border)
        return mean.astype(np.float64) - p.c
    if method == "adaptive_gaussian":
        border = cv2.BORDER_REPLICATE | cv2.BORDER_ISOLATED
        # Float blur rounded to 8 bits, as cv2.adaptiveThreshold does.
        blurred = cv2.GaussianBlur(gray.astype(np.float32), (window, window), 0, borderType=border)
        return np.clip(np.rint(blurred), 0, 255) - p.c
    mean, std = _local_mean_std(gray, window)
    if method == "niblack":
        return mean + p.k * std
    if method == "sauvola":
        return mean * (1.0 + p.k * (std / SAUVOLA_R - 1.0))
    # wolf
    darkest = float(gray.min())
    max_std = float(std.max())
    spread = std / max_std if max_std > 0 else np.zeros_like(std)
    return (1.0 - p.k) * mean + p.k * darkest + p.k * spread * (mean - darkest)


def apply_threshold(gray: np.ndarray, surface: float | np.ndarray, invert: bool = False) -> np.ndarray:
    """Binary 0/255 image: pixels above ``surface`` are 255 (paper), the others 0 (ink).

    With ``invert`` the two values are swapped (ink 255 on 0).
    """
    paper = gray > surface
    if invert:
        paper = ~paper
    return np.where(paper, np.uint8(255), np.uint8(0))


@register("threshold", category="binarise", returns="binary 0/255")
def threshold(image: np.ndarray, p: ThresholdParams) -> np.ndarray:
    """Binarise: dark ink 0 on white 255 with a global or local threshold.

    Global methods (``fixed``, ``otsu``, ``triangle``) use one level for the whole image and suit
    evenly lit scans; local ones (``adaptive_mean``, ``adaptive_gaussian``, ``sauvola``,
    ``niblack``, ``wolf``) compute a level per pixel from its ``window`` and cope with shading
    and stains; Sauvola is the usual choice for documents. See :func:`threshold_surface` for
    the formulas. Pixels at or below their threshold become ink. Colour images are reduced to
    luma first. ``otsu`` gives exactly ``cv2.threshold(gray, 0, 255, THRESH_BINARY + THRESH_OTSU)``
    (``THRESH_BINARY_INV`` with ``invert``).
    """
    gray = to_gray(image)
    return apply_threshold(gray, threshold_surface(gray, p), p.invert)
