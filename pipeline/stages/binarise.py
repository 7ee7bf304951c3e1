"""Binarise stages: turn gray into 0/255 ink on paper.

``threshold``
    Global and local thresholds (fixed, Otsu, adaptive mean/Gaussian, Sauvola, Niblack, ...).
``contrast_binarise``
    Contrast binarisation: find text stroke edges by local contrast, then threshold between them.

Degraded pages (faded print, stains, bleed-through, uneven light) defeat one global level and
often a plain local window too. Su, Lu & Tan ("Binarization of historical document images using
the local maximum and minimum", 2010; "Robust document image binarization technique for degraded
document images", 2013) observe that the *edges* of text strokes are the most reliable thing on
such a page: they have a high local contrast wherever the page is, whatever its brightness. The
stage here re-implements their method from the papers' description, with two additions: windows
that widen where a pixel has too few edges nearby (so thick strokes fill), and a post-processing
step that drops ink of much lower contrast than the page's text (bleed-through, paper grain).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import cv2
import numpy as np
from pydantic import Field

from ..params import Odd, StageParams, convention, number, odd_int
from ..registry import register
from ._image import fit_odd, spanning_edge_blobs, to_gray, weighted_median, whole_image_window
from ._memo import remember

# --- threshold --------------------------------------------------------------------------------


Method = Literal[
    "fixed", "otsu", "triangle", "adaptive_mean", "adaptive_gaussian", "sauvola", "niblack", "wolf"
]

SAUVOLA_R = 128.0
"""Sauvola's dynamic range of the standard deviation, for 8-bit images."""


class ThresholdParams(StageParams):
    main_fields: ClassVar[tuple[str, ...]] = ("method", "value", "window", "k")
    used_when: ClassVar[dict[str, dict[str, tuple[Any, ...]]]] = {
        "value": {"method": ("fixed",)},
        "window": {"method": ("adaptive_mean", "adaptive_gaussian", "sauvola", "niblack", "wolf")},
        "k": {"method": ("sauvola", "niblack", "wolf")},
        "c": {"method": ("adaptive_mean", "adaptive_gaussian")},
    }

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
    invert: bool = convention(False, "False: dark ink 0 on white 255; True: ink 255 on 0.")


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


@register("threshold", title="Black and white (threshold)", category="binarise", returns="binary 0/255")
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


# --- contrast_binarise ------------------------------------------------------------------------


_EPS = 1e-6
_MAX_STROKE = 60
"""Widest stroke the automatic estimate reports, px."""


class ContrastBinariseParams(StageParams):
    main_fields: ClassVar[tuple[str, ...]] = ("stroke_width", "k", "min_contrast")
    used_when: ClassVar[dict[str, dict[str, tuple[Any, ...]]]] = {
        "canny_high": {"canny": (True,)},
        "canny_ratio": {"canny": (True,)},
    }

    contrast_window: Odd = odd_int(
        3, 3, 15, "Window of the local max/min that measures contrast, px; 3 as in the papers."
    )
    smooth: Odd = odd_int(
        1, 1, 15, "Gaussian blur applied first, px kernel side; 1 = none (3 softens grain)."
    )
    canny: bool = Field(
        True, description="Keep only the high-contrast pixels Canny also finds: thin, well-placed edges."
    )
    canny_high: float = number(
        0.0,
        0.0,
        2000.0,
        "Canny's upper threshold, Sobel gradient magnitude; 0 = automatic (Otsu level of the magnitudes).",
        step=1.0,
    )
    canny_ratio: float = number(
        0.5, 0.05, 1.0, "Canny's lower threshold as a fraction of the upper one, ratio.", step=0.05
    )
    stroke_width: int = Field(
        0, ge=0, le=100, description="Text stroke width, px; 0 = estimated from the edge spacing."
    )
    window_factor: float = number(
        2.0, 1.0, 8.0, "Classification window side as a multiple of the stroke width, ratio.", step=0.1
    )
    min_edges: float = number(
        1.0,
        0.0,
        10.0,
        "Edge pixels a window needs, as a multiple of its side, ratio (the paper's N_min).",
        step=0.1,
    )
    k: float = number(
        0.5,
        -2.0,
        2.0,
        "Ink when gray <= mean + k * std of the window's edge pixels; higher = bolder, std units.",
        step=0.05,
    )
    levels: int = Field(
        3,
        ge=1,
        le=6,
        description="Window sizes tried, each double the last, for pixels with too few edges; count.",
    )
    min_contrast: float = number(
        0.6,
        0.0,
        1.0,
        "Drop ink blobs whose contrast to the paper is below this fraction of the text's; 0 = off, ratio.",
        step=0.05,
    )
    min_area: float = number(
        0.5,
        0.0,
        20.0,
        "Drop ink blobs smaller than this many squared stroke widths; 0 = off, ratio.",
        step=0.1,
    )
    margin_span: float = number(
        0.0,
        0.0,
        100.0,
        "Paint over the dark margins or frame round a photographed page first: dark bands along "
        "the image's edge spanning at least this share of its width or height; 0 = off, percent.",
        step=1.0,
    )


_PAIRS = np.arange(256.0)
_CONTRAST_OF_PAIR = ((_PAIRS[:, None] - _PAIRS[None, :]) / (_PAIRS[:, None] + _PAIRS[None, :] + _EPS)).ravel()
"""Su et al.'s contrast ``(max - min) / (max + min + eps)`` of every 8-bit (max, min) pair, at
index ``max * 256 + min``."""


def _scaled_contrast(gray: np.ndarray, window: int) -> np.ndarray | None:
    """Su et al.'s contrast over a ``window`` square, scaled so the page's highest is 255 (uint8);
    ``None`` when the page has no contrast at all.

    The max and min are 8-bit, so the contrast is one of 65,536 values: it is looked up, not
    computed per pixel (the same float64 arithmetic, on the pairs the page holds).
    """
    box = np.ones((window, window), np.uint8)
    high = cv2.dilate(gray, box, borderType=cv2.BORDER_REPLICATE)
    low = cv2.erode(gray, box, borderType=cv2.BORDER_REPLICATE)
    pair = (high.astype(np.uint16) << 8) | low.astype(np.uint16)  # max * 256 + min
    # By bands of about a megapixel: numpy widens uint16 indices to int64, 8 bytes a pixel
    # (100 MB more at once for a 12 MP photo, enough to pass a worker's memory limit).
    rows = max(1, 2**20 // pair.shape[1])
    bands = [slice(top, top + rows) for top in range(0, pair.shape[0], rows)]
    present = np.zeros(65536, bool)
    for band in bands:
        present |= np.bincount(pair[band].ravel(), minlength=65536) > 0
    highest = float(_CONTRAST_OF_PAIR[present].max())
    if highest <= 0:
        return None
    lookup = np.clip(np.rint(_CONTRAST_OF_PAIR * (255.0 / highest)), 0, 255).astype(np.uint8)
    scaled = np.empty(gray.shape, np.uint8)
    for band in bands:
        scaled[band] = lookup[pair[band]]
    return scaled


def _box_sum(image: np.ndarray, side: int, top: int, border: int = cv2.BORDER_CONSTANT) -> np.ndarray:
    """Exact sums over ``side`` x ``side`` windows of a uint8/uint16 image whose pixels are at most
    ``top``: in int32 while no sum can overflow it, else in float64 (still exact for integers;
    OpenCV sums integer images in int32 whatever the output type, so the input is converted)."""
    if top * side * side < 2**31:
        return cv2.boxFilter(image, cv2.CV_32S, (side, side), normalize=False, borderType=border)
    return cv2.boxFilter(image.astype(np.float64), -1, (side, side), normalize=False, borderType=border)


def _otsu_gradient(gray: np.ndarray) -> float:
    """Otsu level of the Sobel (3x3) gradient magnitudes, in Canny's units; at least 1."""
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE)
    magnitude = cv2.magnitude(gx, gy)
    top = float(magnitude.max())
    if top <= 0:
        return 1.0
    scaled = np.clip(np.rint(magnitude * (255.0 / top)), 0, 255).astype(np.uint8)
    level, _ = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return max(1.0, level * top / 255.0)


def _high_contrast(gray: np.ndarray, p: ContrastBinariseParams) -> np.ndarray:
    """Mask of the stroke-edge pixels: contrast above its Otsu level (and on a Canny edge)."""
    scaled = _scaled_contrast(gray, p.contrast_window)
    if scaled is None:
        return np.zeros(gray.shape, bool)
    level, _ = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    edges = scaled > level
    if p.canny:
        high = p.canny_high or _otsu_gradient(gray)
        edges &= cv2.Canny(gray, p.canny_ratio * high, high, L2gradient=True) > 0
    return edges


def estimate_stroke_width(gray: np.ndarray, edges: np.ndarray, default: int = 3) -> int:
    """Most frequent horizontal distance between two edge pixels with darker gray between them, px.

    Each row is scanned: consecutive edge pixels 2 to 60 px apart whose midpoint is darker than
    both of them enclose a stroke. ``default`` when no such pair exists.
    """
    ys, xs = np.nonzero(edges)
    if len(xs) < 2:
        return default
    gap = xs[1:] - xs[:-1]
    pair = (ys[1:] == ys[:-1]) & (gap >= 2) & (gap <= _MAX_STROKE)
    if not pair.any():
        return default
    row, left, right, gap = ys[1:][pair], xs[:-1][pair], xs[1:][pair], gap[pair]
    middle = gray[row, (left + right) // 2].astype(np.int32)
    rim = np.minimum(gray[row, left], gray[row, right]).astype(np.int32)
    inside = middle < rim
    if not inside.any():
        return default
    return int(np.argmax(np.bincount(gap[inside])))


def _window_stats(
    gray: np.ndarray, edges: np.ndarray, width: int, p: ContrastBinariseParams
) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel: mean and standard deviation of the edge pixels' gray in the smallest window
    with enough edges (float64; NaN where no window has enough, so such a pixel is never ink).

    Windows start at ``window_factor * width`` and double ``levels - 1`` times. The window sums
    are exact integers (:func:`_box_sum`). Nothing here depends on ``k``.
    """
    weight = edges.astype(np.uint8)
    first = gray * weight
    second = first.astype(np.uint16) * first
    side = max(3, round(p.window_factor * width) | 1)
    mean = np.full(gray.shape, np.nan)
    std = np.full(gray.shape, np.nan)
    pending = np.ones(gray.shape, bool)
    for _ in range(p.levels):
        count = _box_sum(weight, side, 1)
        total = _box_sum(first, side, 255)
        total_sq = _box_sum(second, side, 255 * 255)
        enough = pending & (count >= max(p.min_edges * side, 1.0) - 0.5)
        if enough.any():  # in place where it can be: a 12 MP page's arrays are 100 MB each
            n = count[enough]
            level_mean = total[enough] / n
            mean[enough] = level_mean
            spread = total_sq[enough] / n
            level_mean *= level_mean
            spread -= level_mean
            np.maximum(spread, 0.0, out=spread)
            std[enough] = np.sqrt(spread, out=spread)
            del n, level_mean, spread
            pending &= ~enough
        del count, total, total_sq, enough
        if not pending.any():
            break
        side = 2 * side + 1
    return mean, std


_AFTER_STATS = frozenset({"k", "min_contrast", "min_area"})
"""The fields the edge statistics do not read; every other field is part of their memo key, so a
field added later is safe by default."""


def _page_stats(gray: np.ndarray, p: ContrastBinariseParams) -> tuple[int, np.ndarray, np.ndarray]:
    """Stroke width, and :func:`_window_stats`' mean and std: all that comes before ``k``."""
    edges = _high_contrast(gray, p)
    width = p.stroke_width or estimate_stroke_width(gray, edges)
    mean, std = _window_stats(gray, edges, width, p)
    return width, mean, std


def _paper_level(gray: np.ndarray, ink: np.ndarray, at: np.ndarray, side: int) -> np.ndarray:
    """Local paper brightness at the flat pixel indices ``at``: the mean of the non-ink pixels in a
    ``side`` window, 4x wider (twice) where it holds none, else the page's mean paper level."""
    paper = (~ink).astype(np.uint8)
    paper_values = gray * paper
    level = np.empty(at.size)
    pending = np.arange(at.size)  # positions in ``at`` with no paper pixel found yet
    for _ in range(3):
        pixels = at[pending]
        count = _box_sum(paper, side, 1, cv2.BORDER_REFLECT).ravel()[pixels]
        total = _box_sum(paper_values, side, 255, cv2.BORDER_REFLECT).ravel()[pixels]
        found = count > 0.5
        level[pending[found]] = total[found] / count[found]
        pending = pending[~found]
        if pending.size == 0:
            return level
        side = 4 * side + 1
    level[pending] = float(gray[~ink].mean()) if (~ink).any() else float(gray.max())
    return level


def _clean_components(gray: np.ndarray, ink: np.ndarray, width: int, p: ContrastBinariseParams) -> np.ndarray:
    """Drop ink blobs that are too small or much fainter (against the paper) than the page's text.

    Works on the ink pixels only (their flat indices): the blobs are made of nothing else.
    """
    if p.min_contrast <= 0 and p.min_area <= 0:
        return ink
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.view(np.uint8), connectivity=8)
    if count <= 1:
        return ink
    area = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    keep = area >= p.min_area * width * width
    at = np.flatnonzero(ink)
    blob = labels.ravel()[at]
    if p.min_contrast > 0:
        paper = _paper_level(gray, ink, at, max(15, 8 * width + 1))
        contrast = np.clip((paper - gray.ravel()[at]) / np.maximum(paper, 1.0), 0.0, 1.0)
        mean = np.bincount(blob, weights=contrast, minlength=count) / np.maximum(area, 1)
        # The text's contrast: the area-weighted median over the blobs.
        typical = weighted_median(mean[1:], area[1:])
        keep &= mean >= p.min_contrast * typical
    kept = np.zeros_like(ink)
    kept.ravel()[at] = keep[blob]
    return kept


EDGE_BAND = 0.05
"""Width of the band along the image's edge that holds a page's dark margins, as a share of the
image's shorter side (ratio)."""
EDGE_SHARE = 0.75
"""Share of a blob's pixels that must lie in that band for it to be a margin (ratio). Margins of
generated page photos had 0.85-1.0 there; a tangle of dense noise joined to the edge reaches far
into the page and had 0.18."""


def _fill_margins(gray: np.ndarray, share: float) -> np.ndarray:
    """``gray`` with its dark margins set to the median gray of the rest (a copy), or ``gray``
    itself when it has none.

    The margins are the blobs of the dark side of Otsu's threshold that :func:`_edge_blobs`
    finds with ``share`` (0-1), grown by 2 px to cover their blurred rims.
    """
    _, dark = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    margin = _edge_blobs(labels, stats, share)
    if not margin.any():
        return gray
    mask = cv2.dilate(margin[labels].view(np.uint8), np.ones((5, 5), np.uint8)) > 0
    filled = gray.copy()
    filled[mask] = np.uint8(np.median(gray[~mask])) if not mask.all() else gray.max()
    return filled


def _edge_blobs(labels: np.ndarray, stats: np.ndarray, share: float) -> np.ndarray:
    """Per blob of ``cv2.connectedComponentsWithStats``' ``labels`` and ``stats`` (row 0, the
    background, is False): True for a page's dark margin or frame.

    That is a blob that touches the image's edge, whose bounding box spans at least ``share``
    (0-1) of the image's width or height, and with :data:`EDGE_SHARE` of its pixels in the band
    :data:`EDGE_BAND` wide along the edge. Only such candidates' pixels are looked at.
    """
    height, width = labels.shape
    candidate = spanning_edge_blobs(stats, labels.shape, share)
    if not candidate.any():
        return candidate
    at = np.flatnonzero(candidate[labels])
    rows, cols = np.divmod(at, width)
    depth = np.minimum(np.minimum(rows, height - 1 - rows), np.minimum(cols, width - 1 - cols))
    band = depth < EDGE_BAND * min(height, width)
    in_band = np.bincount(labels.ravel()[at], weights=band, minlength=len(stats))
    return candidate & (in_band >= EDGE_SHARE * stats[:, cv2.CC_STAT_AREA])


@register(
    "contrast_binarise",
    title="Black and white by local contrast",
    category="binarise",
    returns="binary 0/255",
)
def contrast_binarise(image: np.ndarray, p: ContrastBinariseParams) -> np.ndarray:
    """Binarise degraded pages from their stroke edges (Su, Lu & Tan): dark ink 0 on white 255.

    1. Local contrast ``(max - min) / (max + min)`` in a ``contrast_window`` square; pixels above
       its Otsu level are stroke edges (kept only where Canny also finds an edge, with ``canny``).
    2. The stroke width is the most frequent distance between paired edges along rows (or
       ``stroke_width``).
    3. A pixel is ink when its window (``window_factor`` stroke widths; doubled up to ``levels`` - 1
       times while it holds fewer than ``min_edges`` x side edge pixels) has enough edges and its
       gray is at most their mean + ``k`` x their standard deviation.
    4. Blobs smaller than ``min_area`` squared stroke widths, or whose mean contrast to the local
       paper is below ``min_contrast`` times the text's (area-weighted median blob), are removed.

    With ``margin_span``, the dark margins or frame round a photographed page are painted the
    page's median gray before step 1 (:func:`_fill_margins`): their contrast would otherwise set
    the edge level, and the text's fainter edges would fall below it.

    Expects dark text on a lighter page; colour images are reduced to luma first.
    """
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if p.margin_span > 0:
        gray = _fill_margins(gray, p.margin_span / 100.0)
    if p.smooth > 1:
        gray = cv2.GaussianBlur(gray, (p.smooth, p.smooth), 0, borderType=cv2.BORDER_REPLICATE)
    settings = tuple((name, value) for name, value in vars(p).items() if name not in _AFTER_STATS)
    width, mean, std = remember("contrast_binarise", gray, settings, lambda: _page_stats(gray, p))
    with np.errstate(invalid="ignore"):  # False where NaN: too few edges nearby
        ink = gray <= (mean if p.k == 0 else mean + p.k * std)
    ink = _clean_components(gray, ink, width, p)
    return np.where(ink, np.uint8(0), np.uint8(255))
