"""Component stages: keep or drop connected pieces of ink by size, shape and stroke width.

Every stage here works on a binary image whose ink polarity is given by ``ink``: ``dark`` ink
is 0 on a 255 background (the default, what Tesseract wants), ``light`` ink is 255 on 0. A
non-binary input is read as binary first: pixels below 128 (luma for BGR) are ink for
``dark``, pixels at or above 128 are ink for ``light``. Outputs are binary 0/255 with the same
polarity as the input (``hull_mask`` returns a copy of its source instead).

Components are 8-connected throughout.

``strike_lines`` finds and erases thin straight strike-through lines drawn across text.
Captchas cross their glyphs with a long line about as dark as the text. Between the glyphs such
a line is a chain of short vertical ink runs (its thickness); where it crosses a glyph it merges
with the glyph's strokes into longer runs. ``strike_lines`` finds the straight pieces of the
thin runs with a probabilistic Hough transform and erases, along each piece, only the runs that
are still thin, so the glyphs it crosses keep their strokes.

In bold or distorted captchas the thin parts of the glyphs themselves (the bar of a 7, the tops
and bottoms of round digits) can line up along the cap line or the baseline, and the Hough
transform chains them into a "line" across the gaps between them; erasing it would cut the
glyphs. A real strike line is drawn between the glyphs too, so along most of its length there
is thin ink: ``min_cover`` leaves alone the pieces that are mostly gaps.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import cv2
import numpy as np
from pydantic import Field

from ..params import StageParams, convention, number
from ..registry import register
from ._image import Ink, ink_field, ink_image, ink_mask, kernel

_MAX_AREA = 100_000_000
_MAX_SIDE = 100_000
_MAX_ASPECT = 1000.0


# --------------------------------------------------------------------------- component_filter


class ComponentFilterParams(StageParams):
    main_fields: ClassVar[tuple[str, ...]] = ("min_area", "max_area", "min_height", "max_height")
    used_when: ClassVar[dict[str, dict[str, tuple[Any, ...]]]] = {
        name: {"border": ("top_bottom", "sides", "any")}
        for name in ("border_max_height", "border_max_fill", "border_max_width")
    }

    ink: Ink = ink_field()
    min_area: int = Field(
        0,
        ge=0,
        le=_MAX_AREA,
        description="Components with fewer pixels are removed; area == min_area is kept (px).",
        json_schema_extra={"size_power": 2},
    )
    max_area: int = Field(
        _MAX_AREA,
        ge=0,
        le=_MAX_AREA,
        description="Components with more pixels are removed; area == max_area is kept (px; top = no limit).",
        json_schema_extra={"size_power": 2},
    )
    min_width: int = Field(
        0,
        ge=0,
        le=_MAX_SIDE,
        description="Too narrow below this (see size_rule): removes widths <= min_width - 1 (px).",
    )
    max_width: int = Field(
        _MAX_SIDE,
        ge=0,
        le=_MAX_SIDE,
        description="Wider bounding boxes are removed; width == max_width is kept (px; top = no limit).",
    )
    min_height: int = Field(
        0,
        ge=0,
        le=_MAX_SIDE,
        description="Too short below this (see size_rule): removes heights <= min_height - 1 (px).",
    )
    max_height: int = Field(
        _MAX_SIDE,
        ge=0,
        le=_MAX_SIDE,
        description="Taller bounding boxes are removed; height == max_height is kept (px; top = no limit).",
    )
    size_rule: Literal["any", "both"] = Field(
        "any",
        description="How min_width/min_height combine: any = remove when too narrow OR too short; "
        "both = remove only when too narrow AND too short (specks go, '1' and '-' stay).",
    )
    min_aspect: float = number(
        0.0, 0.0, _MAX_ASPECT, "Bounding boxes with width/height below this are removed (ratio).", step=0.05
    )
    max_aspect: float = number(
        _MAX_ASPECT,
        0.0,
        _MAX_ASPECT,
        "Bounding boxes with width/height above this are removed (ratio).",
        step=0.05,
    )
    min_fill: float = number(
        0.0,
        0.0,
        1.0,
        "Components covering less of their bounding box are removed (area / box area ratio).",
        step=0.01,
    )
    max_fill: float = number(
        1.0,
        0.0,
        1.0,
        "Components covering more of their bounding box are removed (area / box area ratio).",
        step=0.01,
    )
    keep: Literal["all", "largest"] = Field(
        "all",
        description="all: every component that passes the bounds; largest: only the largest one by area.",
    )
    group_width: int = Field(
        0,
        ge=0,
        le=2000,
        description="Width of the closing that groups nearby ink before measuring (px; 0, 1 = no grouping).",
    )
    group_height: int = Field(
        0,
        ge=0,
        le=2000,
        description="Height of the closing that groups nearby ink before measuring (px; 0, 1 = no grouping).",
    )
    border: Literal["off", "top_bottom", "sides", "any"] = Field(
        "off",
        description="Remove components touching these image edges (see the border_max_* limits): off, "
        "top or bottom, left or right, any edge.",
    )
    border_max_height: float = number(
        100.0,
        0.0,
        100.0,
        "border: only edge-touching components at most this tall are removed, percent of the "
        "image height (100 = all of them).",
        step=1.0,
    )
    border_max_fill: float = number(
        1.0,
        0.0,
        1.0,
        "border: only edge-touching components covering at most this share of their bounding box "
        "are removed (ratio; 1 = all of them).",
        step=0.01,
    )
    border_max_width: float = number(
        100.0,
        0.0,
        100.0,
        "border: only edge-touching components at most this wide are removed, percent of the "
        "image width (100 = all of them).",
        step=1.0,
    )

    ordered: ClassVar[tuple[tuple[str, str], ...]] = (
        ("min_area", "max_area"),
        ("min_width", "max_width"),
        ("min_height", "max_height"),
        ("min_aspect", "max_aspect"),
        ("min_fill", "max_fill"),
    )


@register(
    "component_filter",
    title="Remove specks and blobs",
    category="components",
    returns="binary 0/255, same polarity",
)
def component_filter(image: np.ndarray, p: ComponentFilterParams) -> np.ndarray:
    """Remove ink components (or groups of them) by area, size, aspect ratio and fill.

    Components are the 8-connected pieces of ink (``cv2.connectedComponentsWithStats``). Each is
    measured on its bounding box: ``width``, ``height`` (px), ``aspect`` = width / height,
    ``area`` (pixel count) and ``fill`` = area / (width * height). Every bound is inclusive on
    the kept side: a component is kept when ``min_x <= x <= max_x``. For integer sizes "remove
    sizes <= 10" is therefore ``min_* = 11``.

    ``size_rule`` decides how ``min_width`` and ``min_height`` combine: ``any`` removes a
    component narrower than ``min_width`` *or* shorter than ``min_height``; ``both`` removes it
    only when it is narrower than ``min_width`` *and* shorter than ``min_height`` (the classic
    speck rule: "width <= 10 and height <= 10" is ``min_width=11, min_height=11,
    size_rule=both``). Every other bound removes on its own.

    ``keep=largest`` then keeps only the largest surviving component by area (the first one in
    raster order on a tie); with no survivor the output has no ink.

    Grouping (``group_width`` x ``group_height`` > 1 x 1): the components are found on a
    morphological closing of the ink by a rectangle of that size, so ink closer than the kernel
    (e.g. the letters of a text line with a wide flat kernel) forms one group. All measurements
    are of the closed group; whole groups are kept or dropped, and the output keeps the
    *original* ink pixels of kept groups (the closing itself is never output). With an even
    kernel size OpenCV's centred anchor shifts the closing by one pixel, so the outermost ink
    column/row of a group can fall outside it: such ungrouped ink is left alone by the bounds
    and dropped by ``keep=largest``.

    ``border`` (default ``off``) also removes the components (or groups) whose bounding box
    touches the chosen image edges, ``top_bottom``, ``sides`` (left, right) or ``any``, when
    they are at most ``border_max_height`` % of the image height tall, at most
    ``border_max_width`` % of its width wide and cover at most ``border_max_fill`` of their
    bounding box (all three must hold): the partial neighbour digits at the top and bottom of a
    rolling-counter window, a sliver of the next digit at the side, or a frame cut by the crop
    (thin lines: a low fill even when they span the crop), while a character that fills the
    crop (taller, wider or more solid than the limits) stays. Two filters in a row remove what
    either limit catches.
    """
    mask = ink_mask(image, p.ink)
    ink = mask.astype(np.uint8) * 255
    gw, gh = max(1, p.group_width), max(1, p.group_height)
    grouped = ink if gw == 1 and gh == 1 else cv2.morphologyEx(ink, cv2.MORPH_CLOSE, kernel("rect", gw, gh))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(grouped, connectivity=8)

    st = stats[1:].astype(np.float64)
    width, height, area = st[:, cv2.CC_STAT_WIDTH], st[:, cv2.CC_STAT_HEIGHT], st[:, cv2.CC_STAT_AREA]
    aspect = width / np.maximum(height, 1.0)
    fill = area / np.maximum(width * height, 1.0)

    narrow, short = width < p.min_width, height < p.min_height
    too_small = (narrow & short) if p.size_rule == "both" else (narrow | short)
    keep = (
        ~too_small
        & (area >= p.min_area)
        & (area <= p.max_area)
        & (width <= p.max_width)
        & (height <= p.max_height)
        & (aspect >= p.min_aspect)
        & (aspect <= p.max_aspect)
        & (fill >= p.min_fill)
        & (fill <= p.max_fill)
    )
    if p.border != "off":
        left, top = st[:, cv2.CC_STAT_LEFT], st[:, cv2.CC_STAT_TOP]
        rows, cols = mask.shape
        vertical = (top <= 0) | (top + height >= rows)
        horizontal = (left <= 0) | (left + width >= cols)
        touches = {"top_bottom": vertical, "sides": horizontal, "any": vertical | horizontal}[p.border]
        small = (height <= rows * p.border_max_height / 100.0) & (width <= cols * p.border_max_width / 100.0)
        small &= fill <= p.border_max_fill
        keep &= ~(touches & small)

    lut = np.zeros(n, dtype=bool)
    if p.keep == "largest":
        if keep.any():
            lut[1 + int(np.argmax(np.where(keep, area, -1.0)))] = True
    else:
        lut[0] = True  # ink left outside every group by an even closing kernel is not judged
        lut[1:] = keep
    return ink_image(mask & lut[labels], p.ink)


# --------------------------------------------------------------------------- stroke_width_filter


class StrokeWidthFilterParams(StageParams):
    ink: Ink = ink_field()
    mode: Literal["core", "components"] = Field(
        "core",
        description="core: keep only the inner pixels of strokes wider than min_width; "
        "components: keep whole components whose stroke width is in [min_width, max_width].",
    )
    min_width: float = number(
        3.0,
        0.0,
        200.0,
        "Thinnest stroke kept (px): core keeps pixels farther than min_width/2 from the background.",
    )
    max_width: float = number(
        500.0, 0.0, 500.0, "Thickest stroke kept in components mode (px; top of range = no limit).", step=0.5
    )

    ordered: ClassVar[tuple[tuple[str, str], ...]] = (("min_width", "max_width"),)


def _label_medians(labels: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Median of ``values`` per label ``0..n-1`` (``nan`` for labels without values)."""
    order = np.lexsort((values, labels))
    lab, val = labels[order], values[order].astype(np.float64)
    counts = np.bincount(lab, minlength=n)
    starts = np.cumsum(counts) - counts
    medians = np.full(n, np.nan)
    present = counts > 0
    lo = starts[present] + (counts[present] - 1) // 2
    hi = starts[present] + counts[present] // 2
    medians[present] = (val[lo] + val[hi]) / 2.0
    return medians


def stroke_widths(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels (8-connected) of a boolean ink mask and the estimated stroke width of each (px).

    The width of label ``i`` is ``2 * median(d) - 1`` over the ridge pixels of the component,
    where ``d`` is the exact Euclidean distance to the background and the ridge is the ink
    pixels whose ``d`` is a maximum of their 3x3 neighbourhood (the medial line). A straight
    stroke ``w`` px wide has ridge distance ``(w + 1) / 2`` for odd ``w`` and ``w / 2`` for
    even ``w``, so it measures ``w`` (odd) or ``w - 1`` (even). Index 0 (background) is ``nan``.
    """
    ink = mask.astype(np.uint8) * 255
    n, labels = cv2.connectedComponents(ink, connectivity=8)
    dist = cv2.distanceTransform(ink, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    ridge = mask & (dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8)))
    medians = _label_medians(labels[ridge], dist[ridge], n)
    return labels, 2.0 * medians - 1.0


@register(
    "stroke_width_filter",
    title="Keep strokes as wide as text",
    category="components",
    returns="binary 0/255, same polarity",
)
def stroke_width_filter(image: np.ndarray, p: StrokeWidthFilterParams) -> np.ndarray:
    """Keep ink by stroke width (distance transform): drop hairlines, keep the text's strokes.

    The ink's distance transform (``cv2.distanceTransform``, L2, precise mask) gives each ink
    pixel its Euclidean distance to the nearest background pixel.

    ``core``: keep the ink pixels whose distance is greater than ``min_width / 2``: the cores
    of strokes about ``min_width`` px wide or wider (a straight stroke ``w`` px wide keeps a
    core when ``w > min_width``, or ``w == min_width`` for odd ``w``); thinner lines and specks
    vanish and the strokes that stay are thinned by about ``min_width`` px. ``max_width`` is
    not used.

    ``components``: estimate each 8-connected component's stroke width as ``2 * median - 1``
    of the distance along its ridge (medial line: ink pixels that are a 3x3 maximum of the
    distance), which is exact for straight strokes of odd width, and keep the whole,
    unthinned component when ``min_width <= width <= max_width``.
    """
    mask = ink_mask(image, p.ink)
    if p.mode == "core":
        ink = mask.astype(np.uint8) * 255
        dist = cv2.distanceTransform(ink, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        return ink_image(dist > p.min_width / 2, p.ink)
    labels, widths = stroke_widths(mask)
    with np.errstate(invalid="ignore"):
        keep = (widths >= p.min_width) & (widths <= p.max_width)
    keep[0] = False
    return ink_image(keep[labels], p.ink)


# --------------------------------------------------------------------------- hull_mask


class HullMaskParams(StageParams):
    ink: Ink = ink_field()
    per_component: bool = Field(
        True, description="True: one convex hull per ink component; False: one hull around all the ink."
    )
    margin: int = Field(
        0, ge=0, le=200, description="Grow the hull mask by this many pixels (round dilation, px)."
    )
    fill: Literal["white", "black"] = convention("white", "Value of the pixels outside the mask.")


@register("hull_mask", title="Keep the area around the text", category="components", returns="same as source")
def hull_mask(image: np.ndarray, p: HullMaskParams, *, source: np.ndarray) -> np.ndarray:
    """Copy the source inside the convex hulls of the ink; fill the rest white (or black).

    The mask is the filled convex hull of each 8-connected ink component of ``image`` (or of
    all the ink at once with ``per_component=False``), dilated by a disc of radius ``margin``
    px. The output is ``source`` (gray or BGR, channels kept) inside the mask and ``fill``
    elsewhere. When ``source`` and ``image`` differ in size (a rescale in between), the mask is
    resized to the source with nearest-neighbour interpolation. Without ink the output is all
    ``fill``.
    """
    ink = ink_mask(image, p.ink).astype(np.uint8) * 255
    mask: np.ndarray = np.zeros_like(ink)
    if p.per_component:
        contours, _ = cv2.findContours(ink, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        for contour in contours:
            cv2.fillPoly(mask, [cv2.convexHull(contour)], 255)
    else:
        points = cv2.findNonZero(ink)
        if points is not None:
            cv2.fillPoly(mask, [cv2.convexHull(points)], 255)
    if p.margin > 0:
        mask = cv2.dilate(mask, kernel("ellipse", 2 * p.margin + 1, 2 * p.margin + 1))
    if mask.shape[:2] != source.shape[:2]:
        mask = cv2.resize(mask, (source.shape[1], source.shape[0]), interpolation=cv2.INTER_NEAREST)
    inside = mask > 0
    if source.ndim == 3:
        inside = inside[:, :, None]
    value = np.uint8(255 if p.fill == "white" else 0)
    return np.where(inside, source, value).astype(np.uint8)


# --- strike_lines -----------------------------------------------------------------------------


class StrikeLinesParams(StageParams):
    main_fields: ClassVar[tuple[str, ...]] = ("max_thickness", "min_length")

    ink: Ink = ink_field()
    max_thickness: int = Field(
        8,
        ge=1,
        le=200,
        description="Thickest line erased, measured across it (px); keep it below the glyph stroke width.",
    )
    min_length: int = Field(
        60,
        ge=2,
        le=20000,
        description="Shortest straight piece of thin ink taken for a line (px); longer than a glyph.",
    )
    max_gap: int = Field(
        30,
        ge=0,
        le=20000,
        description="Longest break bridged along one line, e.g. where it crosses a glyph (px).",
    )
    max_angle: float = number(
        30.0, 0.0, 60.0, "Steepest line erased, measured from the horizontal (degrees).", step=1.0
    )
    margin: int = Field(1, ge=0, le=50, description="Extra width erased on each side of a found line (px).")
    min_cover: float = number(
        0.0,
        0.0,
        1.0,
        "Share of a found piece's columns that must hold thin ink along it, or it is kept as a row "
        "of glyph parts (ratio; 0 = erase every piece).",
        step=0.05,
    )


def vertical_runs(mask: np.ndarray) -> np.ndarray:
    """Length (px) of the vertical run of ``True`` pixels each pixel belongs to; 0 off the mask."""
    h, w = mask.shape
    on = mask.astype(np.int32)
    up = np.zeros((h, w), np.int32)
    down = np.zeros((h, w), np.int32)
    if h == 0 or w == 0:
        return up
    up[0] = on[0]
    for y in range(1, h):
        up[y] = (up[y - 1] + 1) * on[y]
    down[h - 1] = on[h - 1]
    for y in range(h - 2, -1, -1):
        down[y] = (down[y + 1] + 1) * on[y]
    return np.where(mask, up + down - 1, 0)


def line_cover(candidates: np.ndarray, band: np.ndarray, x1: int, x2: int) -> float:
    """Share of the columns ``x1..x2`` (inclusive, either order) where ``band`` holds a candidate.

    ``candidates`` and ``band`` are boolean masks of the same shape: the thin ink, and the pixels
    around one line piece. Returns a ratio in 0..1 (0 for an empty column range).
    """
    left, right = sorted((int(x1), int(x2)))
    left, right = max(left, 0), min(right, candidates.shape[1] - 1)
    if right < left:
        return 0.0
    covered = (candidates & band)[:, left : right + 1].any(axis=0)
    return float(covered.mean())


@register(
    "strike_lines",
    title="Remove lines through the text",
    category="components",
    returns="binary 0/255, same polarity",
)
def strike_lines(image: np.ndarray, p: StrikeLinesParams) -> np.ndarray:
    """Erase thin straight strike-through lines while keeping the glyphs they cross.

    Ink pixels whose vertical run is at most ``max_thickness / cos(max_angle)`` px long are
    line candidates. A probabilistic Hough transform (1 px, 1 degree; votes = min_length / 2)
    finds straight pieces of candidates at least ``min_length`` px long, bridging breaks up to
    ``max_gap`` px. Pieces steeper than ``max_angle`` are ignored, and so are pieces where fewer
    than ``min_cover`` of the columns between their ends hold a candidate within the band
    below (chains of glyph parts that happen to line up). Along each remaining piece, in a band
    ``max_thickness + 2 * margin`` px wide, ink pixels whose vertical run is at most
    ``max_thickness / cos(angle) + 0.5`` px are erased; longer runs (a glyph stroke crossed by
    the line) stay. Only near-horizontal lines are handled; thin lines in any direction are
    better removed by an opening (``morphology``). Output is binary with the input's polarity.
    """
    mask = ink_mask(image, p.ink)
    runs = vertical_runs(mask)
    limit = p.max_thickness / math.cos(math.radians(p.max_angle))
    candidates = mask & (runs <= limit)
    erase = np.zeros(mask.shape, bool)
    if candidates.any():
        votes = max(1, p.min_length // 2)
        pieces = cv2.HoughLinesP(
            candidates.astype(np.uint8) * 255,
            1,
            np.pi / 180,
            votes,
            minLineLength=p.min_length,
            maxLineGap=p.max_gap,
        )
        width = max(1, min(p.max_thickness + 2 * p.margin, 255))
        for x1, y1, x2, y2 in pieces[:, 0] if pieces is not None else []:
            angle = math.degrees(math.atan2(abs(int(y2) - int(y1)), abs(int(x2) - int(x1))))
            if angle > p.max_angle:
                continue
            band = np.zeros(mask.shape, np.uint8)
            cv2.line(band, (int(x1), int(y1)), (int(x2), int(y2)), 255, width)
            in_band = band > 0
            if p.min_cover > 0 and line_cover(candidates, in_band, x1, x2) < p.min_cover:
                continue
            thin = runs <= p.max_thickness / math.cos(math.radians(angle)) + 0.5
            erase |= in_band & thin
    return ink_image(mask & ~erase, p.ink)
