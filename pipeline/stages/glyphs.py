"""Glyph stages: move whole characters of a binary image.

``level_glyphs`` puts the characters of a captcha back on one line. Captcha generators draw
each glyph at its own height, so the characters of one code jump up and down; Tesseract reads
one line (psm 7) along a baseline it fits to all of them, and glyphs far above or below it come
out split, doubled or as other characters. The stage groups the ink into glyphs (8-connected
components whose columns overlap, so the dot of an ``i`` stays with its stem) and shifts each
glyph vertically so that its bottom (or its middle) lies at the median of them all. With
``spacing`` the characters are also set at an even distance apart: captcha generators space
them widely, and Tesseract's line reader tends to read a character twice or see one in a wide
gap (on 96 generated gray-band captchas, CER 0.251 with the gaps as drawn, 0.219 with gaps of
0.15 times the line height). No pixel changes value: whole glyphs move.

Like the component stages it reads a binary image with ``ink`` polarity (pixels below 128 are
``dark`` ink) and returns binary 0/255 of the same polarity. The image grows taller when a
moved glyph would leave it, by just enough rows at the top or bottom.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
from pydantic import Field

from ..params import StageParams, number
from ..registry import register
from ._image import Ink, ink_field, ink_image, ink_mask


class LevelGlyphsParams(StageParams):
    ink: Ink = ink_field()
    align: Literal["bottom", "middle"] = Field(
        "bottom",
        description="Which edge of each glyph is lined up: bottom (its lowest ink row, the "
        "baseline for most characters) or middle (half way between its top and bottom rows).",
    )
    min_area: int = Field(
        20,
        ge=0,
        le=100_000,
        description="Glyphs with fewer ink pixels stay where they are and do not count for the "
        "common line: specks, dots left alone (px).",
        json_schema_extra={"size_power": 2},
    )
    overlap: float = number(
        0.5,
        0.0,
        1.0,
        "Two pieces of ink are one glyph when their columns overlap by at least this share of "
        "the narrower one's width (ratio; 0 = any shared column).",
        step=0.05,
    )
    spacing: float = number(
        0.0,
        0.0,
        1.0,
        "Gap left between neighbouring characters, as a share of the height of the line of "
        "characters (its median glyph height; ratio). Runs of columns holding ink stay whole, "
        "only the empty columns between them are narrowed or widened. 0 = characters keep "
        "their columns.",
        step=0.05,
    )


def glyph_groups(starts: np.ndarray, ends: np.ndarray, overlap: float) -> np.ndarray:
    """Glyph number of each piece, from its first and one-past-last column.

    Pieces are taken from left to right; a piece joins the glyph before it when their column
    ranges overlap by at least ``overlap`` times the narrower width (and by one column at least).
    """
    group = np.zeros(len(starts), dtype=np.int64)
    order = np.argsort(starts, kind="stable")
    current, lo, hi = -1, 0, 0
    for i in order:
        shared = min(hi, ends[i]) - max(lo, starts[i])
        narrower = min(hi - lo, ends[i] - starts[i])
        if current >= 0 and shared >= max(1.0, overlap * narrower):
            lo, hi = min(lo, starts[i]), max(hi, ends[i])
        else:
            current, lo, hi = current + 1, starts[i], ends[i]
        group[i] = current
    return group


@register(
    "level_glyphs",
    title="Put the characters on one line",
    category="geometry",
    returns="binary 0/255, same polarity",
)
def level_glyphs(image: np.ndarray, p: LevelGlyphsParams) -> np.ndarray:
    """Move each character up or down so that all of them stand on one line (for Tesseract).

    Each glyph's bottom (``align=bottom``) or middle is moved to the median of those of the
    glyphs of at least ``min_area`` px; with fewer than two such glyphs the image is returned
    as binary, unmoved. See the module docstring.
    """
    mask = ink_mask(image, p.ink)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n < 3:
        return ink_image(mask, p.ink)
    st = stats[1:]
    left, width = st[:, cv2.CC_STAT_LEFT], st[:, cv2.CC_STAT_WIDTH]
    top, height = st[:, cv2.CC_STAT_TOP], st[:, cv2.CC_STAT_HEIGHT]
    group = glyph_groups(left, left + width, p.overlap)
    glyphs = int(group.max()) + 1
    g_top = np.full(glyphs, np.iinfo(np.int64).max)
    g_bottom = np.full(glyphs, -1)
    np.minimum.at(g_top, group, top)
    np.maximum.at(g_bottom, group, top + height - 1)
    g_area = np.bincount(group, weights=st[:, cv2.CC_STAT_AREA], minlength=glyphs)
    line_of = g_bottom if p.align == "bottom" else (g_top + g_bottom) / 2.0
    counted = g_area >= max(p.min_area, 1)
    if counted.sum() < 2:
        return ink_image(mask, p.ink)
    target = float(np.median(line_of[counted]))
    shift = np.where(counted, np.rint(target - line_of), 0).astype(np.int64)
    piece_shift = np.concatenate(([0], shift[group]))
    rows, cols = mask.shape
    ys, xs = np.nonzero(mask)
    new_ys = ys + piece_shift[labels[ys, xs]]
    above = max(0, -int(new_ys.min()))
    below = max(0, int(new_ys.max()) - (rows - 1))
    out = np.zeros((rows + above + below, cols), dtype=bool)
    out[new_ys + above, xs] = True
    if p.spacing > 0:
        line_height = float(np.median((g_bottom - g_top + 1)[counted]))
        out = respaced(out, max(1, round(p.spacing * line_height)))
    return ink_image(out, p.ink)


def respaced(mask: np.ndarray, gap: int) -> np.ndarray:
    """``mask`` with every run of empty columns between two runs of ink columns made ``gap``
    columns wide; the margins left of the first and right of the last ink column are kept."""
    inked = mask.any(axis=0)
    cols = np.flatnonzero(inked)
    if cols.size == 0:
        return mask
    breaks = np.flatnonzero(np.diff(cols) > 1)
    starts = np.concatenate(([cols[0]], cols[breaks + 1]))
    ends = np.concatenate((cols[breaks] + 1, [cols[-1] + 1]))
    blank = np.zeros((mask.shape[0], gap), dtype=bool)
    kept = [mask[:, : starts[0]]]
    for a, b in zip(starts, ends, strict=True):
        kept += [mask[:, a:b], blank]
    kept[-1] = mask[:, ends[-1] :]  # the right margin instead of a last gap
    return np.hstack(kept)
