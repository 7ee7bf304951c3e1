"""Denoise stages: Gaussian, median, bilateral and non-local means filters."""

from __future__ import annotations

from itertools import pairwise
from typing import ClassVar, Literal

import cv2
import numpy as np
from pydantic import Field

from ..params import Odd, StageParams, convention, number, odd_int
from ..registry import register
from ._image import fit_odd, stroke_width, whole_image_window

# --- gaussian_blur -----------------------------------------------------------------------------


class GaussianBlurParams(StageParams):
    ksize_w: Odd = odd_int(5, 1, 99, "Kernel width, px (1 = no blur across).")
    ksize_h: Odd = odd_int(5, 1, 99, "Kernel height, px (1 = no blur down).")
    sigma: float = number(
        0.0, 0.0, 50.0, "Standard deviation, px; 0 = derived from the kernel size.", step=0.1
    )


@register("gaussian_blur", title="Soften (Gaussian blur)", category="denoise", returns="same as input")
def gaussian_blur(image: np.ndarray, p: GaussianBlurParams) -> np.ndarray:
    """Smooth with a Gaussian kernel: softens grain and fine noise, also blurs edges.

    ``sigma`` applies in both directions; at 0 OpenCV derives each direction's sigma from its
    kernel size (``0.3 * ((k - 1) * 0.5 - 1) + 0.8``). Borders are reflected (``cv2.GaussianBlur``
    default).
    """
    return cv2.GaussianBlur(image, (p.ksize_w, p.ksize_h), sigmaX=p.sigma, sigmaY=p.sigma)


# --- median_blur -------------------------------------------------------------------------------


class MedianBlurParams(StageParams):
    ksize_w: Odd = odd_int(3, 1, 51, "Window width, px (1 = no filtering across).")
    ksize_h: Odd = odd_int(3, 1, 51, "Window height, px (1 = no filtering down).")
    border: Literal["replicate", "zero"] = convention(
        "replicate",
        "Pixels beyond the edge: 'replicate' repeats the edge pixel, 'zero' counts them as "
        "black (as scipy.signal.medfilt does, which thins light strokes along the edge).",
    )
    min_stroke: float = number(
        0.0,
        0.0,
        20.0,
        "Leave the image as it is when its text strokes are thinner than this (a 3 px median "
        "erases strokes 1-2 px wide); 0 = always filter, px.",
        step=0.5,
    )


def _median_rect(channel: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """Median of each ``kh`` x ``kw`` window of a uint8 channel, border replicated.

    The median is the smallest level ``v`` present in the image with at least ``n // 2 + 1``
    window pixels ``<= v``. One box filter per distinct level counts those pixels, whatever the
    window size: a binary image takes a single pass. Equal to
    ``scipy.ndimage.median_filter(mode="nearest")``.
    """
    levels = np.flatnonzero(np.bincount(channel.ravel(), minlength=256))
    needed = kh * kw // 2 + 1
    out = np.full(channel.shape, levels[0], np.uint8)
    for level, following in pairwise(levels):
        at_most = (channel <= level).view(np.uint8)
        counts = cv2.boxFilter(
            at_most, cv2.CV_32S, (kw, kh), normalize=False, borderType=cv2.BORDER_REPLICATE
        )
        out[counts < needed] = following
    return out


@register("median_blur", title="Remove salt-and-pepper noise", category="denoise", returns="same as input")
def median_blur(image: np.ndarray, p: MedianBlurParams) -> np.ndarray:
    """Replace each pixel by the median of its window: removes salt-and-pepper specks.

    Keeps edges sharper than a blur. Square windows use ``cv2.medianBlur``; rectangular ones
    (e.g. 5 wide x 3 high, to spare thin horizontal strokes) use an exact level-counting
    median whose time does not grow with the window. Both filter each channel of a colour
    image separately. The border is replicated, or with ``border="zero"`` the image is padded
    with black (0) for the filtering and the padding cut off again.

    With ``min_stroke``, the text's mean stroke width is measured first
    (:func:`~pipeline.stages._image.stroke_width`: twice the ink area over its outline length,
    specks left out), and an image whose strokes are thinner is returned unchanged (a copy).
    """
    if p.min_stroke > 0:
        measured = stroke_width(image)
        if measured is None or measured < p.min_stroke:
            return image.copy()
    limit = whole_image_window(image)
    kw, kh = fit_odd(p.ksize_w, limit), fit_odd(p.ksize_h, limit)
    if p.border == "zero" and max(kw, kh) > 1:
        dy, dx = kh // 2, kw // 2
        padded = cv2.copyMakeBorder(image, dy, dy, dx, dx, cv2.BORDER_CONSTANT, value=0)
        filtered = _median(padded, kw, kh)
        return np.ascontiguousarray(filtered[dy : dy + image.shape[0], dx : dx + image.shape[1]])
    return _median(image, kw, kh)


def _median(image: np.ndarray, kw: int, kh: int) -> np.ndarray:
    """Median over ``kh`` x ``kw`` windows (odd sizes), border replicated, per channel."""
    if kw == kh:
        return cv2.medianBlur(image, kw) if kw > 1 else image.copy()
    if image.ndim == 2:
        return _median_rect(image, kh, kw)
    channels = [_median_rect(np.ascontiguousarray(image[:, :, c]), kh, kw) for c in range(image.shape[2])]
    return np.dstack(channels)


# --- bilateral ---------------------------------------------------------------------------------


class BilateralParams(StageParams):
    diameter: int = Field(9, ge=1, le=31, description="Neighbourhood diameter, px (above 9 is slow).")
    sigma_color: float = number(
        75.0, 1.0, 255.0, "Gray-level difference still smoothed across, 0-255 gray levels.", step=1.0
    )
    sigma_space: float = number(75.0, 1.0, 100.0, "Spatial reach of the smoothing, px.", step=1.0)


@register("bilateral", title="Smooth, keeping edges", category="denoise", returns="same as input")
def bilateral(image: np.ndarray, p: BilateralParams) -> np.ndarray:
    """Edge-preserving smoothing: averages only neighbours of similar gray level.

    Flattens paper texture and blotches while keeping text edges (Tomasi & Manduchi 1998,
    via ``cv2.bilateralFilter``). Pixels differing by much more than ``sigma_color`` are not
    mixed; ``sigma_space`` weighs neighbours by distance within ``diameter``.
    """
    return cv2.bilateralFilter(image, p.diameter, p.sigma_color, p.sigma_space)


# --- nl_means ----------------------------------------------------------------------------------


class NlMeansParams(StageParams):
    h: float = number(10.0, 1.0, 50.0, "Filter strength, gray levels: higher removes more noise and detail.")
    template_window: Odd = odd_int(7, 3, 21, "Side of the patch compared between pixels, px.")
    search_window: Odd = odd_int(
        21, 3, 51, "Side of the area searched for similar patches, px (slow if big)."
    )

    ordered: ClassVar[tuple[tuple[str, str], ...]] = (("template_window", "search_window"),)


@register("nl_means", title="Remove grain", category="denoise", returns="same as input")
def nl_means(image: np.ndarray, p: NlMeansParams) -> np.ndarray:
    """Non-local means: average pixels whose surrounding patches look alike.

    Strong denoising that preserves strokes (Buades, Coll & Morel 2005). Gray images use
    ``cv2.fastNlMeansDenoising``; colour images ``cv2.fastNlMeansDenoisingColored``, with the
    same strength ``h`` for luminance and colour.
    """
    if image.ndim == 2:
        return cv2.fastNlMeansDenoising(image, None, p.h, p.template_window, p.search_window)
    return cv2.fastNlMeansDenoisingColored(image, None, p.h, p.h, p.template_window, p.search_window)
