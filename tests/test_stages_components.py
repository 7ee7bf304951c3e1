"""Component stages (pipeline/stages/components.py): filters, stroke width, hulls, strike lines."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.registry import get_stage
from pipeline.stages.components import (
    ComponentFilterParams,
    HullMaskParams,
    StrikeLinesParams,
    StrokeWidthFilterParams,
    component_filter,
    hull_mask,
    line_cover,
    strike_lines,
    stroke_width_filter,
    vertical_runs,
)

from .stage_images import (
    framed_counter_window,
    hershey_text,
    lines_image,
    n_components,
    noisy_light_text,
    reference_hull,
    shapes_image,
    side_window,
)


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


# ----------------------------------------------------------------------------- seed 001: exact


def test_seed001_speck_rule_exact() -> None:
    t = noisy_light_text()
    ref = t.copy()
    _, lab, st, _ = cv2.connectedComponentsWithStats(ref, connectivity=8)
    ref[(st[lab, 2] <= 10) & (st[lab, 3] <= 10) & (lab > 0)] = 0
    p = ComponentFilterParams(ink="light", min_width=11, min_height=11, size_rule="both")
    out = component_filter(t, p)
    assert np.array_equal(out, ref)
    assert np.count_nonzero(ref) < np.count_nonzero(t)  # something was removed
    # "any" is a different (stricter) rule: it also drops the thin scratches
    strict = component_filter(t, p.model_copy(update={"size_rule": "any"}))
    assert np.count_nonzero(strict) < np.count_nonzero(out)


def test_seed001_largest_line_exact() -> None:
    t = noisy_light_text()
    ref = t.copy()
    m = cv2.morphologyEx(ref, cv2.MORPH_CLOSE, np.ones((1, 150), np.uint8))
    _, lab, st, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    big = 1 + np.argmax(st[1:, 4])
    ref[lab != big] = 0
    out = component_filter(
        t, ComponentFilterParams(ink="light", group_width=150, group_height=1, keep="largest")
    )
    assert np.array_equal(out, ref)
    assert 0 < np.count_nonzero(ref) < np.count_nonzero(t)


def test_seed001_whole_recipe_exact() -> None:
    t = noisy_light_text(11)
    ref = t.copy()
    _, lab, st, _ = cv2.connectedComponentsWithStats(ref, connectivity=8)
    ref[(st[lab, 2] <= 10) & (st[lab, 3] <= 10) & (lab > 0)] = 0
    m = cv2.morphologyEx(ref, cv2.MORPH_CLOSE, np.ones((1, 150), np.uint8))
    _, lab, st, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    ref[lab != 1 + np.argmax(st[1:, 4])] = 0
    m = cv2.morphologyEx(ref, cv2.MORPH_CLOSE, np.ones((1, 15), np.uint8))
    _, lab, st, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    ref[(st[lab, 2] <= 30) & (st[lab, 3] <= 30) & (lab > 0)] = 0

    out = component_filter(
        t, ComponentFilterParams(ink="light", min_width=11, min_height=11, size_rule="both")
    )
    out = component_filter(
        out, ComponentFilterParams(ink="light", group_width=150, group_height=1, keep="largest")
    )
    out = component_filter(
        out,
        ComponentFilterParams(
            ink="light", group_width=15, group_height=1, min_width=31, min_height=31, size_rule="both"
        ),
    )
    assert np.array_equal(out, ref)
    # the same recipe on dark ink gives the inverted result
    dark = 255 - t
    d = component_filter(dark, ComponentFilterParams(min_width=11, min_height=11, size_rule="both"))
    d = component_filter(d, ComponentFilterParams(group_width=150, group_height=1, keep="largest"))
    d = component_filter(
        d,
        ComponentFilterParams(group_width=15, group_height=1, min_width=31, min_height=31, size_rule="both"),
    )
    assert np.array_equal(d, 255 - ref)


# ----------------------------------------------------------------------------- component_filter


@pytest.mark.parametrize("width", [14, 15, 16])
def test_grouped_size_rule_exact_even_and_odd_kernels(width: int) -> None:
    # even kernels shift OpenCV's closing by 1 px: ink outside every group is kept, like the seed's loop
    t = noisy_light_text(3)
    ref = t.copy()
    m = cv2.morphologyEx(ref, cv2.MORPH_CLOSE, np.ones((1, width), np.uint8))
    _, lab, st, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    ref[(st[lab, 2] <= 30) & (st[lab, 3] <= 30) & (lab > 0)] = 0
    p = ComponentFilterParams(ink="light", group_width=width, group_height=1, min_width=31, min_height=31)
    assert np.array_equal(component_filter(t, p.model_copy(update={"size_rule": "both"})), ref)


def test_size_bounds_are_inclusive() -> None:
    img = np.full((40, 120), 255, np.uint8)
    img[5:15, 5:15] = 0  # 10 x 10: removed by min 11 (both)
    img[5:16, 25:36] = 0  # 11 x 11: kept
    img[5:10, 45:56] = 0  # 11 wide x 5 high: kept with "both", removed with "any"
    img[5:16, 65:70] = 0  # 5 wide x 11 high: kept with "both", removed with "any"
    both = component_filter(img, ComponentFilterParams(min_width=11, min_height=11, size_rule="both"))
    assert n_components(both < 128) == 3 and (both[5:15, 5:15] == 255).all()
    any_rule = component_filter(img, ComponentFilterParams(min_width=11, min_height=11))
    assert n_components(any_rule < 128) == 1 and (any_rule[5:16, 25:36] == 0).all()
    capped = component_filter(img, ComponentFilterParams(max_width=10, max_height=10))
    assert n_components(capped < 128) == 1 and (capped[5:15, 5:15] == 0).all()


def test_specks_removed_count() -> None:
    img = hershey_text("Clarity", scale=1.5)
    before = n_components(img < 128)
    rng = np.random.default_rng(3)
    dots = 0
    while dots < 25:  # 2x2 dots on the background, away from the text and from each other
        y, x = int(rng.integers(1, img.shape[0] - 3)), int(rng.integers(1, img.shape[1] - 3))
        if (img[y - 1 : y + 3, x - 1 : x + 3] == 255).all():
            img[y : y + 2, x : x + 2] = 0
            dots += 1
    assert n_components(img < 128) == before + 25
    out = component_filter(img, ComponentFilterParams(min_area=5))
    assert n_components(out < 128) == before
    assert set(np.unique(out)) <= {0, 255}
    # inclusive bound: area 4 is removed by min_area=5 but kept by min_area=4
    assert n_components(component_filter(img, ComponentFilterParams(min_area=4)) < 128) == before + 25


def test_aspect_and_fill_filters() -> None:
    img = shapes_image()
    wide = component_filter(img, ComponentFilterParams(min_aspect=2.0))
    assert (
        (wide[10:14, 10:50] == 0).all()
        and (wide[10:30, 70:90] == 255).all()
        and (wide[40:90, 10:14] == 255).all()
    )
    assert n_components(wide < 128) == 1
    tall = component_filter(img, ComponentFilterParams(max_aspect=0.5))
    assert n_components(tall < 128) == 1 and (tall[40:90, 10:14] == 0).all()
    hollow = component_filter(img, ComponentFilterParams(max_fill=0.5))
    assert n_components(hollow < 128) == 1 and hollow[20, 110] == 0
    solid = component_filter(img, ComponentFilterParams(min_fill=0.5))
    assert n_components(solid < 128) == 3 and hollow[20, 110] == 0 and solid[20, 110] == 255


def test_width_height_bounds_and_largest() -> None:
    img = shapes_image()
    # any: the square only (bars are too thin one way); both: bars survive too
    any_rule = component_filter(img, ComponentFilterParams(min_width=10, min_height=10, max_width=30))
    assert n_components(any_rule < 128) == 1 and (any_rule[10:30, 70:90] == 0).all()
    both_rule = component_filter(
        img, ComponentFilterParams(min_width=10, min_height=10, size_rule="both", max_width=50)
    )
    assert n_components(both_rule < 128) == 3
    largest = component_filter(img, ComponentFilterParams(keep="largest"))
    assert n_components(largest < 128) == 1 and largest[20, 110] == 0  # the ring: 468 px > 400 px square
    none_left = component_filter(img, ComponentFilterParams(min_area=10_000, keep="largest"))
    assert (none_left == 255).all()


def test_component_filter_non_binary_and_bgr() -> None:
    img = shapes_image()
    gray = np.where(img == 0, 100, 200).astype(np.uint8)  # ink < 128
    out = component_filter(gray, ComponentFilterParams(min_aspect=2.0))
    assert np.array_equal(out, component_filter(img, ComponentFilterParams(min_aspect=2.0)))
    bgr = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    assert np.array_equal(component_filter(bgr, ComponentFilterParams(min_aspect=2.0)), out)


# ----------------------------------------------------------------------------- stroke width


def test_stroke_core_exact() -> None:
    t = noisy_light_text()
    for min_width in (0.0, 1.0, 2.0, 3.0, 4.5, 7.0):
        ref = ((cv2.distanceTransform(t, cv2.DIST_L2, cv2.DIST_MASK_PRECISE) > min_width / 2) * 255).astype(
            np.uint8
        )
        out = stroke_width_filter(t, StrokeWidthFilterParams(ink="light", min_width=min_width))
        assert np.array_equal(out, ref)
        assert np.array_equal(
            stroke_width_filter(255 - t, StrokeWidthFilterParams(min_width=min_width)), 255 - ref
        )


def test_stroke_width_keeps_thick_drops_thin() -> None:
    img = lines_image()
    core = stroke_width_filter(img, StrokeWidthFilterParams(min_width=5))
    assert (core[40, :] == 255).all() and (core[61, :] == 255).all()
    assert (core[14, 20:180] == 0).all()  # the centre of the thick bar stays
    comps = stroke_width_filter(img, StrokeWidthFilterParams(mode="components", min_width=5))
    expected = img.copy()
    expected[30:70] = 255
    assert np.array_equal(comps, expected)  # whole thick bar and ring kept, unthinned; lines gone
    only_ring = stroke_width_filter(img, StrokeWidthFilterParams(mode="components", min_width=5, max_width=8))
    assert (only_ring[10:19] == 255).all() and (only_ring[80:111] == img[80:111]).all()


def test_hull_mask_exact_reference() -> None:
    t = noisy_light_text(5)
    src = np.random.default_rng(0).integers(0, 256, t.shape, dtype=np.uint8)
    out = hull_mask(t, HullMaskParams(ink="light"), source=src)
    assert np.array_equal(out, reference_hull(t, src))


def test_hull_mask_shapes_and_fill() -> None:
    img = np.full((60, 80), 255, np.uint8)
    img[10:50, 10:14] = 0  # an "L": its hull is a triangle
    img[46:50, 10:50] = 0
    img[5:8, 70:73] = 0  # a small square far away
    src = np.full((60, 80, 3), 77, np.uint8)
    out = hull_mask(img, HullMaskParams(), source=src)
    assert out.shape == (60, 80, 3) and out.dtype == np.uint8
    assert (out[40, 20] == 77).all()  # inside the triangle
    assert (out[12, 45] == 255).all()  # outside the triangle
    assert (out[30, 60] == 255).all()  # between the two components
    one = hull_mask(img, HullMaskParams(per_component=False, fill="black"), source=src)
    assert (one[30, 50] == 77).all() and (one[55, 75] == 0).all()
    grown = hull_mask(img, HullMaskParams(margin=3), source=src[:, :, 0])
    assert grown.ndim == 2 and grown[9, 9] == 77 and grown[5, 5] == 255
    big_src = np.full((120, 160), 77, np.uint8)  # source twice the size: mask is resized
    scaled = hull_mask(img, HullMaskParams(), source=big_src)
    assert scaled.shape == (120, 160) and scaled[80, 40] == 77 and scaled[24, 90] == 255
    empty = hull_mask(np.full((20, 20), 255, np.uint8), HullMaskParams(), source=np.zeros((20, 20), np.uint8))
    assert (empty == 255).all()


@pytest.mark.parametrize(
    ("border", "max_height", "kept"),
    [
        ("off", 100.0, {"digit", "top", "bottom", "frame", "speck"}),
        ("top_bottom", 100.0, {"digit", "speck"}),  # the frame spans top to bottom: removed too
        ("top_bottom", 50.0, {"digit", "frame", "speck"}),
        ("sides", 50.0, {"digit", "top", "bottom", "frame"}),
        ("sides", 100.0, {"digit", "top", "bottom"}),
        ("any", 50.0, {"digit", "frame"}),
        ("any", 0.0, {"digit", "top", "bottom", "frame", "speck"}),
    ],
)
def test_component_filter_border(border: str, max_height: float, kept: set[str]) -> None:
    img = framed_counter_window()
    out = component_filter(img, ComponentFilterParams(border=border, border_max_height=max_height))
    probes = {"digit": (30, 18), "top": (2, 18), "bottom": (57, 18), "frame": (30, 1), "speck": (31, 34)}
    assert {name for name, (y, x) in probes.items() if out[y, x] == 0} == kept
    assert set(np.unique(out)) <= {0, 255}
    light = component_filter(
        255 - img, ComponentFilterParams(ink="light", border=border, border_max_height=max_height)
    )
    assert np.array_equal(light, 255 - out)


@pytest.mark.parametrize(
    ("limits", "kept"),
    [
        ({}, set()),  # every side-touching component goes, the digit too
        ({"border_max_width": 20.0}, {"digit", "frame"}),  # only narrow pieces: the sliver
        ({"border_max_fill": 0.2}, {"digit", "sliver"}),  # only hollow pieces: the frame
        ({"border_max_width": 30.0, "border_max_fill": 0.5}, {"digit", "frame", "sliver"}),  # both must hold
    ],
)
def test_component_filter_border_width_and_fill_limits(limits: dict[str, float], kept: set[str]) -> None:
    img = side_window()
    out = component_filter(img, ComponentFilterParams(border="sides", **limits))
    probes = {"digit": (30, 30), "frame": (30, 12), "sliver": (30, 1)}
    assert {name for name, (y, x) in probes.items() if out[y, x] == 0} == kept


def test_component_filter_border_off_is_the_default() -> None:
    img = framed_counter_window()
    assert np.array_equal(component_filter(img, ComponentFilterParams()), img)


@pytest.mark.parametrize("name", ["component_filter", "stroke_width_filter"])
def test_binary_polarity(name: str) -> None:
    stage = get_stage(name)
    img = lines_image()
    before = img.copy()
    dark = stage(
        img, stage.params(min_width=3) if name == "stroke_width_filter" else stage.params(min_area=100)
    )
    light = stage(
        255 - img,
        stage.params(
            ink="light", **({"min_width": 3} if name == "stroke_width_filter" else {"min_area": 100})
        ),
    )
    assert np.array_equal(img, before)
    assert dark.dtype == np.uint8 and dark.shape == img.shape and set(np.unique(dark)) == {0, 255}
    assert np.array_equal(light, 255 - dark)
    assert np.count_nonzero(dark == 255) > np.count_nonzero(dark == 0)  # still dark ink on white
