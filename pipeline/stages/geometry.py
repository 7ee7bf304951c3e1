"""Geometry stages: rescale (to a text height), deskew, quarter turns, crop and pad.

These stages take gray or BGR images and keep the channels. Where they need to find the text
(``rescale`` to a text height, ``deskew``) they threshold the luma with Otsu's method and take
the *minority* class as ink, so dark-on-light and light-on-dark text both work.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import cv2
import numpy as np
from pydantic import Field, model_validator

from ..params import StageParams, convention, number
from ..registry import register
from ._image import (
    check_output_size,
    evened_ink,
    is_binary,
    spanning_edge_blobs,
    text_mask,
    to_gray,
    weighted_median,
)

BorderColour = Literal["white", "black", "replicate"]


def _border(colour: BorderColour, image: np.ndarray) -> tuple[int, tuple[int, ...] | int]:
    """OpenCV border mode and value for a border colour choice."""
    if colour == "replicate":
        return cv2.BORDER_REPLICATE, 0
    value = 255 if colour == "white" else 0
    return cv2.BORDER_CONSTANT, (value,) * 3 if image.ndim == 3 else value


# --------------------------------------------------------------------------- rescale


TextMeasure = Literal["plain", "evened", "weighted"]
"""How :func:`text_height` finds the text (see its docstring)."""


class RescaleParams(StageParams):
    main_fields: ClassVar[tuple[str, ...]] = ("mode", "factor", "target_height")
    used_when: ClassVar[dict[str, dict[str, tuple[Any, ...]]]] = {
        "factor": {"mode": ("factor",)},
        "target_height": {"mode": ("text_height",)},
        "shrink_only": {"mode": ("text_height",)},
        "measure": {"mode": ("text_height",)},
        "target_image_height": {"mode": ("image_height",)},
    }

    mode: Literal["factor", "text_height", "image_height"] = Field(
        "factor",
        description="factor: scale by a fixed factor; text_height: scale so the text reaches "
        "target_height; image_height: scale so the whole image is target_image_height tall.",
    )
    factor: float = number(
        2.0, 0.1, 8.0, "Scale factor in factor mode (ratio; 2 = twice as wide and tall).", 0.05
    )
    target_height: int = Field(
        30,
        ge=10,
        le=200,
        description="Text height to reach in text_height mode: median height of the characters (px).",
    )
    measure: TextMeasure = Field(
        "plain",
        description="text_height mode, how the text is found: plain = Otsu's threshold of the "
        "image; evened = of a copy at most 2000 px wide whose grain and lighting are evened out "
        "first (for photographed or stained pages, where plain may measure the grain instead); "
        "weighted = the median over the ink's pixels rather than its pieces (pieces wider than "
        "1.5 times their height left out), after a 3 px median filter (for a line strewn with "
        "specks, which plain would measure instead of the letters).",
    )
    shrink_only: bool = Field(
        False,
        description="text_height mode: only shrink, leaving text already at most target_height "
        "px tall as it is (for photos whose text is larger than the engine needs).",
    )
    target_image_height: int = Field(
        64,
        ge=8,
        le=2000,
        description="Height of the output image in image_height mode, for one-character crops (px).",
    )
    interpolation: Literal["auto", "nearest", "linear", "cubic", "area"] = Field(
        "auto", description="Resampling: auto = area when shrinking, cubic when enlarging."
    )
    max_pixels: float = number(
        50.0,
        0.1,
        500.0,
        "Upper bound on the output size; the factor is lowered to respect it (megapixels).",
        0.1,
        tune=False,
    )


_MIN_TEXT_HEIGHT = 5
_MIN_TEXT_AREA = 12
_MAX_GLYPH_ASPECT = 1.5
"""``weighted`` text height: components wider than this many times their height (letters run
together, or joined by a stroke across them) are left out while narrower ones remain (ratio)."""


EVENED_WIDTH = 2000
"""Widest copy the ``evened`` text height is measured on (px); wider images are reduced first."""


def text_height(image: np.ndarray, *, measure: TextMeasure = "plain") -> float | None:
    """Median height of the character-like ink components (px), or ``None`` when there are none.

    Ink is the minority class of an Otsu threshold; 8-connected components smaller than
    5 px high or 12 px in area (specks) and those taller than 90 % of the image (frames,
    borders) are ignored. ``measure``:

    * ``plain``: the median over the components, each counting once;
    * ``evened``: ink is that of a copy at most :data:`EVENED_WIDTH` px wide, its grain evened
      out by a 3 px median and its lighting by the paper's brightness
      (:func:`~pipeline.stages._image.evened_ink`), without the page's dark margins
      (:func:`_without_dark_margins`), and the copy's heights are scaled back to the image's
      (the specks' limits apply to the copy). On a grainy page this measures the glyphs where
      plain measures the grain; the measured height is then too low rather than too high;
    * ``weighted``: ink is that of the image after a 3 px median filter, and the median is
      taken over the ink's pixels (each component weighs its area), so that hundreds of specks
      left between the letters do not outvote them; components wider than
      :data:`_MAX_GLYPH_ASPECT` times their height (letters joined by a pen stroke across them)
      are left out unless nothing else is left. On 96 speckled lines of
      ``scripts/make_devsets.py`` shrunk to 0.6 or enlarged 2.5 times, it stays within 10 % of
      the height measured at full size for 95 % of them (median 2 %), where ``plain`` measures
      the specks (median 5 px) at every size.
    """
    if measure == "evened":
        ink, copy, scale = evened_ink(image, EVENED_WIDTH, median=3)
        ink = _without_dark_margins(ink, copy)
    elif measure == "weighted":
        ink, scale = text_mask(cv2.medianBlur(to_gray(image), 3)).view(np.uint8), 1.0
    else:
        ink, scale = text_mask(image).view(np.uint8), 1.0
    if not ink.any():
        return None
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights, areas = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_AREA]
    ok = (heights >= _MIN_TEXT_HEIGHT) & (areas >= _MIN_TEXT_AREA) & (heights <= 0.9 * ink.shape[0])
    if not ok.any():
        return None
    if measure != "weighted":
        return float(np.median(heights[ok])) / scale
    single = ok & (stats[1:, cv2.CC_STAT_WIDTH] <= _MAX_GLYPH_ASPECT * heights)
    if single.any():
        ok = single
    return weighted_median(heights[ok], areas[ok])


MARGIN_SPAN = 0.9
"""Share of the image's width or height an ink blob touching its edge must span to be a dark
margin rather than text (ratio)."""
MARGIN_MIN_SIDE = 150
"""Shortest side (px of the measured copy) of an image whose edge blobs may be dark margins: a
crop, a captcha or a digit touches its edges with its own strokes."""


def _without_dark_margins(ink: np.ndarray, copy: np.ndarray) -> np.ndarray:
    """``ink`` (uint8 0/1 of dark-on-light ``copy``) measured again without the page's dark margins.

    A dark margin (the black corners a skewed scan leaves, a scanner's lid) is an ink blob that
    touches the image's edge and spans :data:`MARGIN_SPAN` of its width or height, in an image
    at least :data:`MARGIN_MIN_SIDE` px each way. Otsu's
    threshold then splits the margins from everything else, and the text falls on the paper's
    side but for its darkest specks. Without margins, ``ink`` is returned as it is; with them,
    ink is the dark class of Otsu's threshold of the copy's other pixels.
    """
    height, width = ink.shape
    if min(height, width) < MARGIN_MIN_SIDE:
        return ink
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    margin = spanning_edge_blobs(stats, ink.shape, MARGIN_SPAN)
    if not margin.any():
        return ink
    outside = cv2.dilate(margin[labels].view(np.uint8), np.ones((5, 5), np.uint8)) == 0
    if not outside.any():
        return ink
    level, _ = cv2.threshold(copy[outside].reshape(1, -1), 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return ((copy <= level) & outside).view(np.uint8)


_INTERPOLATION = {
    "nearest": cv2.INTER_NEAREST,
    "linear": cv2.INTER_LINEAR,
    "cubic": cv2.INTER_CUBIC,
    "area": cv2.INTER_AREA,
}


@register("rescale", title="Resize", category="geometry", returns="same as input")
def rescale(image: np.ndarray, p: RescaleParams) -> np.ndarray:
    """Resize by a factor, or so the text is target_height px tall (Tesseract likes ~30 px).

    ``factor`` mode scales both sides by ``factor``. ``text_height`` mode measures the current
    text height as the median height of the ink components (Otsu threshold, minority class is
    ink, specks under 5 px high or 12 px in area ignored; with ``measure`` evened, on a copy
    whose lighting is evened out; see :func:`text_height`) and scales by
    ``target_height / current``, clamped to the factor range 0.1..8 (0.1..1 with
    ``shrink_only``); when no text is found the image is returned unchanged. For lower-case
    text the median component height lies between the x-height and the ascender height.
    ``image_height`` mode scales by ``target_image_height / image height``, clamped to the same
    0.1..8 range: for crops of a single character (meter digits), whose height follows the
    crop, where measuring the text fails (seven-segment and dot-matrix digits fall apart into
    small pieces).

    The factor is then lowered if needed so the output has at most ``max_pixels`` megapixels.
    Output sides are ``round(side * factor)``, at least 1 px. ``auto`` interpolation uses
    ``area`` when shrinking and ``cubic`` when enlarging.
    """
    if p.mode == "factor":
        factor = p.factor
    elif p.mode == "image_height":
        factor = min(8.0, max(0.1, p.target_image_height / image.shape[0]))
    else:
        current = text_height(image, measure=p.measure)
        if current is None:
            return image.copy()
        factor = min(1.0 if p.shrink_only else 8.0, max(0.1, p.target_height / current))
    h, w = image.shape[:2]
    limit = p.max_pixels * 1e6
    if h * w * factor * factor > limit:
        factor = math.sqrt(limit / (h * w))
    new_w, new_h = max(1, round(w * factor)), max(1, round(h * factor))
    if (new_w, new_h) == (w, h):
        return image.copy()
    check_output_size(new_w, new_h, "the rescaled image")
    if p.interpolation == "auto":
        method = cv2.INTER_AREA if new_w * new_h < w * h else cv2.INTER_CUBIC
    else:
        method = _INTERPOLATION[p.interpolation]
    return cv2.resize(image, (new_w, new_h), interpolation=method)


# --------------------------------------------------------------------------- deskew


class DeskewParams(StageParams):
    max_angle: float = number(10.0, 0.5, 45.0, "Largest skew searched, either way (degrees).", 0.5)
    resolution: float = number(0.1, 0.05, 5.0, "Precision of the skew search (degrees).", 0.05)
    expand: bool = Field(True, description="Grow the canvas so no corner is cut off by the rotation.")
    fill: BorderColour = convention("white", "Colour of the corners uncovered by the rotation.")

    ordered: ClassVar[tuple[tuple[str, str], ...]] = (("resolution", "max_angle"),)


_MAX_POINTS = 100_000


def _profile_scores(xs: np.ndarray, ys: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Sum of squared 1-px bin counts of the ink projected across direction ``angle`` (deg)."""
    scores = np.empty(len(angles))
    for i, angle in enumerate(np.deg2rad(angles)):
        r = xs * math.sin(angle) + ys * math.cos(angle)
        counts = np.bincount(np.floor(r - r.min()).astype(np.intp))
        scores[i] = float(np.dot(counts, counts))
    return scores


def estimate_skew(image: np.ndarray, max_angle: float = 10.0, resolution: float = 0.1) -> float:
    """Skew of the text lines in degrees, counter-clockwise positive as displayed.

    A positive angle means the lines rise to the right. Projection-profile search: the ink
    (Otsu, minority class) is projected onto the axis perpendicular to each candidate line
    direction, into 1-px bins; the direction whose profile is sharpest (largest sum of
    squared bin counts: lines fall into few, full bins) wins. Angles in
    ``[-max_angle, max_angle]`` are tried every ``max(resolution, 1)`` degrees, then every
    ``resolution`` degrees around the best one. At most 100 000 ink pixels are used (evenly
    subsampled). Returns 0 when there is no ink.
    """
    ys, xs = np.nonzero(text_mask(image))
    if len(xs) < 2:
        return 0.0
    step = max(1, len(xs) // _MAX_POINTS)
    xs, ys = xs[::step].astype(np.float64), ys[::step].astype(np.float64)
    xs -= xs.mean()
    ys -= ys.mean()
    coarse = max(resolution, 1.0)
    n = math.floor(max_angle / coarse + 1e-9)
    angles = np.arange(-n, n + 1) * coarse
    best = float(angles[int(np.argmax(_profile_scores(xs, ys, angles)))])
    if resolution < coarse:
        k = math.ceil(coarse / resolution)
        fine = best + np.arange(-k, k + 1) * resolution
        fine = fine[np.abs(fine) <= max_angle + 1e-9]
        best = float(fine[int(np.argmax(_profile_scores(xs, ys, fine)))])
    return best


def rotate(image: np.ndarray, angle: float, expand: bool, fill: BorderColour) -> np.ndarray:
    """Rotate counter-clockwise (as displayed) by ``angle`` degrees about the centre.

    ``expand`` grows the canvas to hold the whole rotated image. Binary 0/255 images use
    nearest-neighbour interpolation (they stay binary), others cubic.
    """
    h, w = image.shape[:2]
    centre = ((w - 1) / 2.0, (h - 1) / 2.0)
    matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
    out_w, out_h = w, h
    if expand:
        cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
        out_w = max(1, math.ceil(w * cos + h * sin - 1e-6))
        out_h = max(1, math.ceil(w * sin + h * cos - 1e-6))
        check_output_size(out_w, out_h, "the rotated image")
        matrix[0, 2] += (out_w - 1) / 2.0 - centre[0]
        matrix[1, 2] += (out_h - 1) / 2.0 - centre[1]
    mode, value = _border(fill, image)
    flags = cv2.INTER_NEAREST if is_binary(image) else cv2.INTER_CUBIC
    return cv2.warpAffine(image, matrix, (out_w, out_h), flags=flags, borderMode=mode, borderValue=value)


@register("deskew", title="Straighten", category="geometry", returns="same as input")
def deskew(image: np.ndarray, p: DeskewParams) -> np.ndarray:
    """Straighten tilted text lines: find the skew by projection profiles and rotate it away.

    The skew is found by :func:`estimate_skew` (Otsu ink, minority class; the line direction in
    ``[-max_angle, max_angle]`` whose horizontal projection profile is sharpest, to
    ``resolution`` degrees). Sign convention: a positive skew is counter-clockwise as displayed
    (lines rising to the right), and the image is rotated clockwise by it. The rotation is
    about the centre, with ``expand`` growing the canvas to keep the corners, and the uncovered
    area filled white, black or by replicating the edge. Binary 0/255 input stays binary
    (nearest neighbour), other input is resampled with cubic interpolation. No skew found
    (or no ink) returns the image unchanged.
    """
    angle = estimate_skew(image, p.max_angle, p.resolution)
    if angle == 0.0:
        return image.copy()
    return rotate(image, -angle, p.expand, p.fill)


# --------------------------------------------------------------------------- rotate


class RotateParams(StageParams):
    clockwise: Literal[0, 90, 180, 270] = convention(
        0,
        "Turn applied, clockwise (degrees): 90 stands up a page whose lines run from bottom to "
        "top, 180 one upside down, 270 one whose lines run from top to bottom.",
    )


_TURNS = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


@register("rotate", title="Turn upright", category="geometry", returns="same as input")
def quarter_turn(image: np.ndarray, p: RotateParams) -> np.ndarray:
    """Turn the image by quarter turns (exact: pixels are moved, not resampled).

    For a scan or photo whose page lies on its side or upside down with no EXIF orientation
    tag to say so (EXIF-tagged photos are turned when read). ``--preset auto`` puts this stage
    in front of the preset it chooses when it finds such a page.
    """
    if p.clockwise == 0:
        return image.copy()
    return cv2.rotate(image, _TURNS[p.clockwise])


# --------------------------------------------------------------------------- crop


class CropParams(StageParams):
    unit: Literal["px", "percent"] = convention(
        "px",
        "Unit of the four margins: pixels, or percent of the image height (top/bottom) or width.",
    )
    top: float = number(0.0, 0.0, 10_000.0, "Removed from the top (px, or % of the height).", 1.0)
    bottom: float = number(0.0, 0.0, 10_000.0, "Removed from the bottom (px, or % of the height).", 1.0)
    left: float = number(0.0, 0.0, 10_000.0, "Removed from the left (px, or % of the width).", 1.0)
    right: float = number(0.0, 0.0, 10_000.0, "Removed from the right (px, or % of the width).", 1.0)

    def sized_fields(self) -> dict[str, int]:
        """Margins follow the image's size only when given in px."""
        return {} if self.unit == "percent" else super().sized_fields()

    @model_validator(mode="after")
    def _percent(self) -> CropParams:
        if self.unit == "percent":
            for name in ("top", "bottom", "left", "right"):
                if getattr(self, name) > 100.0:
                    raise ValueError(f"{name} ({getattr(self, name)}) must be <= 100 when unit is percent")
        return self


def _cut(first: float, second: float, size: int, unit: str) -> tuple[int, int]:
    """Pixels to remove at both ends of a side of ``size`` px, leaving at least 1 px."""
    if unit == "percent":
        first, second = first * size / 100.0, second * size / 100.0
    a = min(round(first), size - 1)
    b = min(round(second), size - 1 - a)
    return max(0, a), max(0, b)


@register("crop", title="Crop", category="geometry", returns="same as input")
def crop(image: np.ndarray, p: CropParams) -> np.ndarray:
    """Cut a margin off each side, in pixels or percent of the image size.

    Margins are rounded to whole pixels. The image never becomes empty: the top (left) margin
    is clamped to leave at least 1 px, then the bottom (right) margin to what is left.
    """
    h, w = image.shape[:2]
    top, bottom = _cut(p.top, p.bottom, h, p.unit)
    left, right = _cut(p.left, p.right, w, p.unit)
    return image[top : h - bottom, left : w - right].copy()


# --------------------------------------------------------------------------- pad


class PadParams(StageParams):
    size: int = Field(10, ge=0, le=500, description="Border added on every side (px).")
    color: BorderColour = convention("white", "Border colour: white, black, or replicate the edge pixels.")


@register("pad", title="Add a margin", category="geometry", returns="same as input")
def pad(image: np.ndarray, p: PadParams) -> np.ndarray:
    """Add a border on every side (Tesseract advises ~10 pt of white around cropped text)."""
    if p.size == 0:
        return image.copy()
    check_output_size(image.shape[1] + 2 * p.size, image.shape[0] + 2 * p.size, "the padded image")
    mode, value = _border(p.color, image)
    return cv2.copyMakeBorder(image, p.size, p.size, p.size, p.size, mode, value=value)
