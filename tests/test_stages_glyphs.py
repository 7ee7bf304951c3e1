"""Glyph stages (pipeline/stages/glyphs.py): putting a captcha's characters back on one line."""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from pipeline.registry import get_stage
from pipeline.stages.glyphs import LevelGlyphsParams, glyph_groups, level_glyphs


def _blocks(bottoms: list[int], height: int = 20, width: int = 12, rows: int = 80) -> np.ndarray:
    """Dark blocks on white, 10 px apart, each ending (last ink row) at its bottom row."""
    image = np.full((rows, 20 + len(bottoms) * (width + 10)), 255, np.uint8)
    for i, bottom in enumerate(bottoms):
        x = 10 + i * (width + 10)
        image[bottom - height + 1 : bottom + 1, x : x + width] = 0
    return image


def _extents(image: np.ndarray, ink_value: int = 0) -> list[tuple[int, int]]:
    """(first, last) ink row of each 8-connected piece, left to right."""
    _, _, stats, _ = cv2.connectedComponentsWithStats((image == ink_value).astype(np.uint8), connectivity=8)
    pieces = sorted(stats[1:], key=lambda s: s[cv2.CC_STAT_LEFT])
    return [(int(s[cv2.CC_STAT_TOP]), int(s[cv2.CC_STAT_TOP] + s[cv2.CC_STAT_HEIGHT] - 1)) for s in pieces]


def _bottoms(image: np.ndarray, ink_value: int = 0) -> list[int]:
    """Last ink row of each 8-connected piece, left to right."""
    return [bottom for _, bottom in _extents(image, ink_value)]


def test_glyphs_at_different_heights_end_on_the_median_bottom() -> None:
    image = _blocks([40, 52, 47, 60, 44])
    out = level_glyphs(image, LevelGlyphsParams())
    assert out.shape == image.shape
    assert _bottoms(out) == [47] * 5
    assert (out == 0).sum() == (image == 0).sum()  # moved, not redrawn
    # nothing moves sideways: the same columns hold ink
    assert np.array_equal((out == 0).any(axis=0), (image == 0).any(axis=0))


def test_middle_alignment_lines_up_the_middles() -> None:
    image = np.full((80, 80), 255, np.uint8)
    for x, (top, bottom) in zip((10, 30, 50), ((10, 30), (30, 60), (20, 50)), strict=True):
        image[top : bottom + 1, x : x + 12] = 0  # middles 20, 45, 35
    out = level_glyphs(image, LevelGlyphsParams(align="middle"))
    assert [(a + b) / 2 for a, b in _extents(out)] == [35, 35, 35]
    assert [b for _, b in _extents(level_glyphs(image, LevelGlyphsParams()))] == [50, 50, 50]


def test_the_dot_of_an_i_moves_with_its_stem() -> None:
    image = _blocks([40, 60, 50], width=6)  # stems at columns 10, 26 and 42, 6 px wide
    image[30:33, 27:31] = 0  # a dot 8 rows above the second stem (rows 41-60)
    out = level_glyphs(image, LevelGlyphsParams())
    ink = out == 0
    assert (20, 22) in _extents(out)  # the dot moved up by 10, as its stem (now rows 31-50)
    assert ink[31:51, 26:32].all() and not ink[23:31, 26:32].any()


def test_specks_stay_where_they_are_and_do_not_count() -> None:
    image = _blocks([40, 50])
    image[70:72, 60:62] = 0  # a 4 px speck, far below the line
    out = level_glyphs(image, LevelGlyphsParams(min_area=20))
    assert out[70:72, 60:62].min() == 0 and (out[70:72, 60:62] == 0).all()
    assert _bottoms(out)[:2] == [45, 45]  # the median of the two glyphs, not pulled by the speck


def test_fewer_than_two_glyphs_are_left_as_they_are() -> None:
    single = _blocks([40])
    assert np.array_equal(level_glyphs(single, LevelGlyphsParams()), single)
    empty = np.full((30, 30), 255, np.uint8)
    assert np.array_equal(level_glyphs(empty, LevelGlyphsParams()), empty)


def test_the_image_grows_when_a_glyph_would_leave_it() -> None:
    image = np.full((80, 70), 255, np.uint8)
    image[11:31, 10:22] = 0  # bottom 30
    image[11:31, 30:42] = 0  # bottom 30
    image[0:40, 50:62] = 0  # a tall glyph from the top row down to 39: moves up by 9
    out = level_glyphs(image, LevelGlyphsParams())
    assert out.shape == (89, 70)  # 9 rows added at the top
    assert [b for _, b in _extents(out)] == [39, 39, 39] and _extents(out)[2] == (0, 39)
    assert (out == 0).sum() == (image == 0).sum()
    assert level_glyphs(_blocks([40, 52, 47]), LevelGlyphsParams()).shape == (80, 86)  # room enough


def test_light_ink_is_moved_too() -> None:
    image = 255 - _blocks([40, 52, 47])
    out = level_glyphs(image, LevelGlyphsParams(ink="light"))
    assert _bottoms(out, ink_value=255) == [47, 47, 47]


def test_pieces_overlapping_in_columns_are_one_glyph() -> None:
    starts, ends = np.array([0, 2, 20, 30, 31]), np.array([10, 8, 28, 40, 50])
    assert glyph_groups(starts, ends, 0.5).tolist() == [0, 0, 1, 2, 2]
    assert glyph_groups(starts, ends, 1.0).tolist() == [0, 0, 1, 2, 3]  # 30-40 in 31-50: 9 of 10


def test_registered_under_its_name() -> None:
    assert get_stage("level_glyphs").func is level_glyphs


def _column_runs(image: np.ndarray) -> list[tuple[int, int]]:
    """(first, one-past-last) column of each run of columns holding ink."""
    cols = np.flatnonzero((image == 0).any(axis=0))
    runs, start = [], int(cols[0])
    for a, b in itertools.pairwise(cols):
        if b != a + 1:
            runs.append((start, int(a) + 1))
            start = int(b)
    return [*runs, (start, int(cols[-1]) + 1)]


def test_spacing_sets_the_gaps_between_characters_to_a_share_of_their_height() -> None:
    image = np.full((80, 200), 255, np.uint8)
    for x0, x1 in ((10, 22), (60, 72), (75, 90), (150, 160)):  # gaps 38, 3 and 60 px
        image[30:50, x0:x1] = 0  # 20 px tall glyphs
    image[25:28, 77:80] = 0  # an accent over the third glyph: its columns, one run with it
    out = level_glyphs(image, LevelGlyphsParams(spacing=0.25))
    assert _column_runs(out) == [(10, 22), (27, 39), (44, 59), (64, 74)]  # gaps of 0.25 x 20 px
    assert out.shape == (80, 114)  # both margins kept: 10 on the left, 40 on the right
    assert (out == 0).sum() == (image == 0).sum()
    assert (out[25:28, 46:49] == 0).all()  # the accent moved with its glyph
    assert np.array_equal(level_glyphs(image, LevelGlyphsParams(spacing=0.0)) == 0, image == 0)
