"""Small helpers shared by the stages: channel conversions and kernel construction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import cv2
import numpy as np

from ..image_conventions import INK_LEVEL
from ..params import convention

KernelShape = Literal["rect", "ellipse", "cross"]

_SHAPES = {"rect": cv2.MORPH_RECT, "ellipse": cv2.MORPH_ELLIPSE, "cross": cv2.MORPH_CROSS}


OUTPUT_CHECK: Callable[[int, int, str], None] | None = None
"""``check(width, height, what)`` that raises when a stage may not make an image that large; Clarity's
runner sets it (:func:`pipeline.limits.check_stage_pixels`). ``None`` (e.g. in an exported script):
no bound."""


def check_output_size(width: int, height: int, what: str) -> None:
    """Ask :data:`OUTPUT_CHECK` before a stage makes a ``width`` x ``height`` image (``what`` it is)."""
    if OUTPUT_CHECK is not None:
        OUTPUT_CHECK(width, height, what)


def to_gray(image: np.ndarray) -> np.ndarray:
    """8-bit single-channel luma of a gray or BGR image (gray images are returned as is)."""
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def to_bgr(image: np.ndarray) -> np.ndarray:
    """3-channel BGR version of a gray or BGR image (BGR images are returned as is)."""
    if image.ndim == 3:
        return image
    return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)


def kernel(shape: KernelShape, width: int, height: int) -> np.ndarray:
    """Structuring element of ``shape`` with ``width`` x ``height`` pixels."""
    return cv2.getStructuringElement(_SHAPES[shape], (int(width), int(height)))


def frame_pixels(image: np.ndarray, width: int) -> np.ndarray:
    """The pixels of the outer frame ``width`` px wide (all pixels when the frame covers them).

    Returns shape ``(n,)`` for gray and ``(n, channels)`` for colour images.
    """
    h, w = image.shape[:2]
    inner = np.zeros((h, w), bool)
    inner[width : h - width, width : w - width] = True
    return image[~inner]


def is_binary(image: np.ndarray) -> bool:
    """True when every pixel is 0 or 255."""
    return bool(np.isin(image, (0, 255)).all())


Ink = Literal["dark", "light"]


def ink_field() -> Any:
    """The ``ink`` parameter of stages that read binary ink: which pixels are the text."""
    return convention(
        "dark",
        "Which pixels are ink: dark (0 on 255, pixels < 128) or light (255 on 0, pixels >= 128).",
    )


def ink_mask(image: np.ndarray, ink: Ink = "dark") -> np.ndarray:
    """Boolean mask of the ink pixels of a binary (or gray/BGR) image.

    ``dark`` ink is every pixel below 128 (on luma for BGR), ``light`` ink every pixel at or
    above 128; for a 0/255 image this is exactly the 0 (dark) or 255 (light) pixels.
    """
    gray = to_gray(image)
    return gray < INK_LEVEL if ink == "dark" else gray >= INK_LEVEL


def ink_image(mask: np.ndarray, ink: Ink = "dark") -> np.ndarray:
    """Binary uint8 image from an ink mask: ink 0 on 255 for ``dark``, 255 on 0 for ``light``."""
    if ink == "dark":
        return np.where(mask, np.uint8(0), np.uint8(255))
    return np.where(mask, np.uint8(255), np.uint8(0))


def fit_odd(size: int, limit: int, minimum: int = 1) -> int:
    """Largest odd value <= ``size`` and <= ``limit`` (kept >= ``minimum``, which should be odd).

    Used to clamp kernel and window sizes to small images: pass ``limit = 2 * max(h, w) + 1``
    for a window that never needs to reach further than the whole image.
    """
    value = min(int(size), int(limit))
    if value % 2 == 0:
        value -= 1
    return max(value, minimum)


def whole_image_window(image: np.ndarray) -> int:
    """Smallest odd window that, centred on any pixel, covers the whole image."""
    return 2 * max(image.shape[0], image.shape[1]) + 1


def text_mask(image: np.ndarray) -> np.ndarray:
    """Boolean ink mask: Otsu threshold of the luma, minority class taken as ink."""
    gray = to_gray(image)
    if gray.size == 0 or int(gray.min()) == int(gray.max()):
        return np.zeros(gray.shape, dtype=bool)
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    dark = binary == 0
    return ~dark if np.count_nonzero(dark) * 2 > dark.size else dark


EVEN_WINDOW = 31
"""Side of the square dilation that estimates the paper's brightness in :func:`evened_ink` (px)."""


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The smallest of ``values`` whose weight, with that of the smaller ones, reaches half of the
    total: e.g. the height of the ink components weighed by their pixel counts, which hundreds
    of specks do not outvote. ``values`` and ``weights`` are 1-D, the same length, not empty."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def gray_within(image: np.ndarray, max_width: int) -> tuple[np.ndarray, float]:
    """A gray copy of ``image`` at most ``max_width`` px wide (area interpolation; the gray image
    itself when it is narrow enough), and its width over the image's (at most 1)."""
    gray = to_gray(image)
    scale = min(1.0, max_width / max(gray.shape[1], 1))
    if scale < 1:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return gray, scale


def commonest_level(gray: np.ndarray) -> int:
    """The gray level most pixels of uint8 ``gray`` have (the paper's, on most text images)."""
    return int(np.argmax(np.bincount(gray.ravel(), minlength=256)))


def evened_ink(image: np.ndarray, max_width: int, median: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """Ink of a copy of ``image`` at most ``max_width`` px wide whose lighting is evened out.

    The copy is reduced (area interpolation) and made dark text on light (inverted when its
    median is below 128); with ``median`` (an odd side, px of the copy; 0 = none) a median
    filter evens out grain for the ink, not for the copy returned. The copy is then divided by
    its :data:`EVEN_WINDOW` px dilation (the paper's brightness around each pixel), so shading,
    stains and a dim corner do not read as ink; ink is the dark class of Otsu's threshold of
    that. Returns ``(ink, copy, scale)``: a uint8 mask (1 = ink) of the copy's size, the reduced
    dark-on-light gray copy before evening, and the copy's size over the image's (at most 1).
    """
    small, scale = gray_within(image, max_width)
    if np.median(small) < 128:  # light ink on a dark ground: make it dark on light
        small = 255 - small
    smooth = cv2.medianBlur(small, median) if median else small
    window = cv2.getStructuringElement(cv2.MORPH_RECT, (EVEN_WINDOW, EVEN_WINDOW))
    background = np.maximum(cv2.dilate(smooth, window), 1).astype(np.float32)
    even = np.clip(smooth.astype(np.float32) / background * 255, 0, 255).astype(np.uint8)
    _, ink = cv2.threshold(even, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return ink, small, scale


def spanning_edge_blobs(stats: np.ndarray, shape: tuple[int, ...], share: float) -> np.ndarray:
    """Per blob of ``cv2.connectedComponentsWithStats``' ``stats`` for an image of ``shape``: True
    for one that touches the image's edge and whose bounding box spans at least ``share`` (0-1)
    of its width or height (row 0, the background, is False). A page's dark margin or frame is
    one; what else it must be is the caller's rule."""
    height, width = shape[:2]
    left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    wide, tall = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    touches = (left == 0) | (top == 0) | (left + wide == width) | (top + tall == height)
    spanning = touches & ((wide >= share * width) | (tall >= share * height))
    spanning[0] = False
    return spanning


MIN_STROKE_BLOB_AREA = 20
"""Ink components with fewer pixels (specks) are left out of the stroke width (px)."""


def stroke_width(image: np.ndarray) -> float | None:
    """Mean stroke width of the text (px): twice the ink area over the length of its outlines.

    A stroke ``w`` px wide and ``L`` long has area ``w L`` and an outline ``2 L`` long, and glyphs
    are made of strokes. Ink is :func:`text_mask`'s, without the components smaller than
    :data:`MIN_STROKE_BLOB_AREA`; outlines are outer edges and holes. ``None`` without such ink.
    """
    mask = text_mask(image).view(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    large = stats[:, cv2.CC_STAT_AREA] >= MIN_STROKE_BLOB_AREA
    large[0] = False
    ink = large[labels].view(np.uint8)
    contours, _ = cv2.findContours(ink, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    outline = sum(cv2.arcLength(c, True) for c in contours)
    if outline <= 0:
        return None
    return 2.0 * np.count_nonzero(ink) / outline
