"""Pixel tests of the strike-through line stage (pipeline/stages/lines.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.registry import get_stage
from pipeline.stages.lines import StrikeLinesParams, line_cover, strike_lines, vertical_runs


def _glyphs_with_line(angle_px: int = 0, thickness: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three thick 'glyphs' (rings) crossed by a thin line; returns image, glyph mask, line-only mask."""
    img = np.full((80, 240), 255, np.uint8)
    glyphs = np.zeros_like(img)
    for cx in (50, 110, 170):
        cv2.ellipse(glyphs, (cx, 40), (18, 25), 0, 0, 360, 255, 9)
    line = np.zeros_like(img)
    cv2.line(line, (5, 40 - angle_px), (235, 40 + angle_px), 255, thickness)
    img[(glyphs > 0) | (line > 0)] = 0
    return img, glyphs > 0, (line > 0) & (glyphs == 0)


def test_vertical_runs_counts_each_run() -> None:
    mask = np.array([[1, 0], [1, 1], [0, 1], [1, 1]], bool)
    assert vertical_runs(mask).tolist() == [[2, 0], [2, 3], [0, 3], [1, 3]]


def test_thin_line_is_erased_and_glyphs_kept() -> None:
    img, glyphs, line_only = _glyphs_with_line()
    out = strike_lines(img, StrikeLinesParams(max_thickness=5, min_length=40, max_gap=60))
    ink = out == 0
    assert ink[line_only].mean() < 0.05  # the line between and beside the glyphs is gone
    assert ink[glyphs].mean() > 0.97  # the glyph strokes it crossed are kept


def test_slanted_line_within_max_angle_is_erased_steeper_kept() -> None:
    img, _, line_only = _glyphs_with_line(angle_px=25)  # about 12 degrees
    out = strike_lines(img, StrikeLinesParams(max_thickness=5, min_length=40, max_gap=60, max_angle=20))
    assert (out == 0)[line_only].mean() < 0.1
    out = strike_lines(img, StrikeLinesParams(max_thickness=5, min_length=40, max_gap=60, max_angle=5))
    assert (out == 0)[line_only].mean() > 0.9


def test_line_thicker_than_max_thickness_is_kept() -> None:
    img, _, line_only = _glyphs_with_line(thickness=7)
    out = strike_lines(img, StrikeLinesParams(max_thickness=3, min_length=40, max_gap=60))
    assert (out == 0)[line_only].mean() > 0.9


def test_short_piece_below_min_length_is_kept() -> None:
    img = np.full((40, 100), 255, np.uint8)
    img[20:22, 10:40] = 0  # a 30 px dash, e.g. a hyphen or a glyph's bar
    out = strike_lines(img, StrikeLinesParams(max_thickness=4, min_length=50))
    assert np.array_equal(out, img)


@pytest.mark.parametrize("min_cover", [0.0, 0.5])
def test_light_ink_polarity_and_input_untouched(min_cover: float) -> None:
    img, glyphs, line_only = _glyphs_with_line()
    light = 255 - img
    before = light.copy()
    params = StrikeLinesParams(ink="light", max_thickness=5, min_length=40, max_gap=60, min_cover=min_cover)
    out = strike_lines(light, params)
    assert np.array_equal(light, before)
    assert (out == 255)[glyphs].mean() > 0.97 and (out == 255)[line_only].mean() < 0.05
    assert set(np.unique(out)) <= {0, 255}


@pytest.mark.parametrize("min_cover", [0.0, 1.0])
def test_registered_and_tiny_images(min_cover: float) -> None:
    stage = get_stage("strike_lines")
    for img in (np.zeros((1, 1), np.uint8), np.full((1, 1, 3), 255, np.uint8), np.zeros((2, 300), np.uint8)):
        out = stage(img, StrikeLinesParams(min_length=2, max_gap=0, max_thickness=1, min_cover=min_cover))
        assert out.shape == img.shape[:2] and out.dtype == np.uint8


# --- min_cover: rows of glyph parts are not lines -----------------------------------------------
def _bars_in_a_row() -> tuple[np.ndarray, np.ndarray]:
    """Five 'glyphs' (a thick stem under a thin top bar, like a T) whose bars line up.

    The bars are 15 px long with 25 px between them: a chain the Hough transform takes for a
    line, though only about a third of its length is drawn. Returns image and bar mask.
    """
    img = np.full((80, 240), 255, np.uint8)
    bars = np.zeros(img.shape, bool)
    for x in range(20, 220, 40):
        bars[20:23, x : x + 15] = True
        img[20:23, x : x + 15] = 0
        img[23:60, x + 4 : x + 11] = 0  # stem: vertical runs far longer than a line's thickness
    return img, bars


_PARAMS = {"max_thickness": 5, "min_length": 60, "max_gap": 30}
"""Line parameters shared by the tests: lines at most 5 px thick, pieces of at least 60 px."""


def _solid(**changes: object) -> StrikeLinesParams:
    """``StrikeLinesParams`` from ``_PARAMS`` with some fields changed (``min_cover`` 0.5 unless given)."""
    return StrikeLinesParams(**{**_PARAMS, "min_cover": 0.5, **changes})


def test_line_cover_counts_covered_columns() -> None:
    candidates = np.zeros((5, 10), bool)
    candidates[2, 0:4] = True
    candidates[0, 6] = True  # outside the band below
    band = np.zeros((5, 10), bool)
    band[1:4, :] = True
    assert line_cover(candidates, band, 0, 9) == 0.4
    assert line_cover(candidates, band, 9, 0) == 0.4  # either order
    assert line_cover(candidates, band, 0, 3) == 1.0
    assert line_cover(candidates, band, 5, 9) == 0.0


def test_min_cover_still_erases_a_solid_line_and_keeps_the_glyphs() -> None:
    img, glyphs, line_only = _glyphs_with_line()
    out = strike_lines(img, _solid(max_gap=60))
    ink = out == 0
    assert ink[line_only].mean() < 0.05
    assert ink[glyphs].mean() > 0.97


def test_min_cover_keeps_aligned_glyph_bars() -> None:
    img, bars = _bars_in_a_row()
    plain = strike_lines(img, StrikeLinesParams(**_PARAMS))  # min_cover 0: every piece is erased
    assert (plain == 0)[bars].mean() < 0.5  # the bars are cut: the case min_cover is for
    out = strike_lines(img, _solid())
    assert np.array_equal(out, img)


def test_min_cover_one_keeps_a_line_broken_by_glyphs() -> None:
    img, _, line_only = _glyphs_with_line()
    out = strike_lines(img, _solid(max_gap=60, min_cover=1.0))
    assert (out == 0)[line_only].mean() > 0.9  # the crossings are not thin ink, so cover < 1
