"""Line stages: find and erase thin straight strike-through lines drawn across text.

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

import cv2
import numpy as np
from pydantic import Field

from ..params import StageParams, number
from ..registry import register
from ._image import Ink, ink_field, ink_image, ink_mask


class StrikeLinesParams(StageParams):
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


@register("strike_lines", category="components", returns="binary 0/255, same polarity")
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
