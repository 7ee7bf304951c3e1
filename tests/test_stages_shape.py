"""Component and geometry stages: exact seed recipes, filters, hulls, rescale, deskew, crop, pad."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from pipeline.registry import get_stage
from pipeline.stages.components import (
    ComponentFilterParams,
    HullMaskParams,
    StrokeWidthFilterParams,
    component_filter,
    hull_mask,
    stroke_width_filter,
    stroke_widths,
)
from pipeline.stages.geometry import (
    CropParams,
    DeskewParams,
    PadParams,
    RescaleParams,
    crop,
    deskew,
    estimate_skew,
    pad,
    rescale,
    rotate,
    text_height,
)

# ----------------------------------------------------------------------------- fixtures


def text_image(text: str = "Clarity 2026", scale: float = 1.2, pad: int = 20) -> np.ndarray:
    """Black anti-aliased text on white, 8-bit gray (Hershey simplex, 2 px strokes)."""
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    img = np.full((h + base + 2 * pad, w + 2 * pad), 255, np.uint8)
    cv2.putText(img, text, (pad, pad + h), cv2.FONT_HERSHEY_SIMPLEX, scale, 0, 2, cv2.LINE_AA)
    return img


def noisy_light_text(seed: int = 7) -> np.ndarray:
    """White text on black (like THRESH_BINARY_INV + OTSU): a text line, specks and noise blobs."""
    rng = np.random.default_rng(seed)
    img = np.zeros((160, 520), np.uint8)
    cv2.putText(img, "EXPO 2016/01-2019", (20, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 255, 3)
    for _ in range(120):  # specks of 1..6 px (some touch the text)
        x, y = int(rng.integers(0, 520)), int(rng.integers(0, 160))
        s = int(rng.integers(1, 7))
        img[y : y + s, x : x + s] = 255
    for _ in range(6):  # long thin scratches: narrow but tall, or wide but flat
        x, y = int(rng.integers(0, 480)), int(rng.integers(0, 130))
        if rng.random() < 0.5:
            img[y : y + 25, x : x + 2] = 255
        else:
            img[y : y + 2, x : x + 40] = 255
    cv2.putText(img, "noise", (300, 150), cv2.FONT_HERSHEY_PLAIN, 0.8, 255, 1)
    return img


def multiline(lines: int = 5) -> np.ndarray:
    img = np.full((60 + 50 * lines, 600), 255, np.uint8)
    for i in range(lines):
        cv2.putText(
            img, "The quick brown fox", (20, 50 + 50 * i), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2, cv2.LINE_AA
        )
    return img


def n_components(ink: np.ndarray) -> int:
    return cv2.connectedComponents(ink.astype(np.uint8), connectivity=8)[0] - 1


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
    img = text_image("Clarity", scale=1.5)
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


def shapes_image() -> np.ndarray:
    img = np.full((100, 200), 255, np.uint8)
    img[10:14, 10:50] = 0  # horizontal bar 40x4, aspect 10, fill 1
    img[10:30, 70:90] = 0  # square 20x20, aspect 1, fill 1
    img[40:90, 10:14] = 0  # vertical bar 4x50, aspect 0.08
    cv2.rectangle(img, (110, 20), (169, 79), 0, 2)  # ring 60x60, fill ~0.13
    return img


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


def lines_image() -> np.ndarray:
    img = np.full((120, 200), 255, np.uint8)
    img[10:19, 10:190] = 0  # 9 px thick bar
    img[40:41, 10:190] = 0  # 1 px line
    img[60:63, 10:190] = 0  # 3 px line
    cv2.circle(img, (100, 95), 15, 0, 5)  # ring drawn 7 px wide (measures about 6: it curves)
    return img


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


def test_stroke_widths_estimate() -> None:
    labels, widths = stroke_widths(lines_image() < 128)
    by_row = {row: widths[labels[row, 100]] for row in (14, 40, 61)}
    assert by_row == {14: 9.0, 40: 1.0, 61: 3.0}
    assert 5.5 < widths[labels[95, 85]] < 7.5  # the ring


# ----------------------------------------------------------------------------- hull_mask


def reference_hull(t: np.ndarray, src: np.ndarray) -> np.ndarray:
    n, lab = cv2.connectedComponents(t, connectivity=8)
    mask = np.zeros_like(t)
    for i in range(1, n):
        ys, xs = np.nonzero(lab == i)
        points = np.stack([xs, ys], axis=1).astype(np.int32)
        cv2.fillPoly(mask, [cv2.convexHull(points)], 255)
    return np.where(mask > 0, src, 255).astype(np.uint8)


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


def counter_window() -> np.ndarray:
    """A 60x36 counter window: a digit block in the middle, neighbours cut at the top and bottom,
    a frame edge on the left (full height) and a speck touching the right edge."""
    img = np.full((60, 36), 255, np.uint8)
    img[16:44, 10:26] = 0  # the digit (28 px tall)
    img[0:6, 10:26] = 0  # bottom of the previous digit
    img[55:60, 10:26] = 0  # top of the next digit
    img[:, 0:3] = 0  # frame edge
    img[30:33, 33:36] = 0  # speck at the right edge
    return img


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
    img = counter_window()
    out = component_filter(img, ComponentFilterParams(border=border, border_max_height=max_height))
    probes = {"digit": (30, 18), "top": (2, 18), "bottom": (57, 18), "frame": (30, 1), "speck": (31, 34)}
    assert {name for name, (y, x) in probes.items() if out[y, x] == 0} == kept
    assert set(np.unique(out)) <= {0, 255}
    light = component_filter(
        255 - img, ComponentFilterParams(ink="light", border=border, border_max_height=max_height)
    )
    assert np.array_equal(light, 255 - out)


def side_window() -> np.ndarray:
    """A 60x40 window: a solid digit touching the right edge, a thin bracket-shaped frame cut by the
    crop on the left (top line, side line, bottom line: wide but hollow) and a narrow sliver of
    the next digit in the middle of the left side."""
    img = np.full((60, 40), 255, np.uint8)
    img[10:50, 16:40] = 0  # the digit, 24 of 40 px wide (60 %), solid, touching the right edge
    img[2:3, 0:14] = img[57:58, 0:14] = 0  # the frame's top and bottom lines ...
    img[2:58, 12:14] = 0  # ... joined by its side line: a "]" 14 px (35 %) wide, fill 0.18
    img[25:35, 0:4] = 0  # a sliver: 4 px (10 %) wide, not joined to the frame
    return img


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
    img = counter_window()
    assert np.array_equal(component_filter(img, ComponentFilterParams()), img)


# ----------------------------------------------------------------------------- rescale


def test_rescale_factor_sizes() -> None:
    img = text_image()
    h, w = img.shape
    assert rescale(img, RescaleParams(factor=2.0)).shape == (2 * h, 2 * w)
    half = rescale(img, RescaleParams(factor=0.5, interpolation="nearest"))
    assert half.shape == (round(h * 0.5), round(w * 0.5)) and set(np.unique(half)) <= set(np.unique(img))
    bgr = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    assert rescale(bgr, RescaleParams(factor=1.5)).shape == (round(h * 1.5), round(w * 1.5), 3)
    capped = rescale(img, RescaleParams(factor=8.0, max_pixels=0.1))
    assert capped.shape[0] * capped.shape[1] <= 100_000 * 1.01 and capped.shape[1] > w


@pytest.mark.parametrize("target", [20, 40, 80])
def test_rescale_text_height_reaches_target(target: int) -> None:
    img = text_image("Clarity 2026 OCR", scale=1.0)
    out = rescale(img, RescaleParams(mode="text_height", target_height=target))
    measured = text_height(out)
    assert measured is not None and abs(measured - target) <= 0.15 * target


@pytest.mark.parametrize(("height", "target"), [(32, 64), (112, 64), (40, 100), (7, 80)])
def test_rescale_image_height_reaches_target(height: int, target: int) -> None:
    img = np.full((height, 21), 200, np.uint8)
    img[height // 4 : height - height // 4, 5:15] = 30
    out = rescale(img, RescaleParams(mode="image_height", target_image_height=target))
    factor = min(8.0, target / height)  # the factor is clamped to 0.1..8
    assert out.shape == (round(height * factor), round(21 * factor))
    if factor == target / height:
        assert out.shape[0] == target
    bgr = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    assert rescale(bgr, RescaleParams(mode="image_height", target_image_height=target)).shape[2] == 3


def test_rescale_without_text_is_unchanged() -> None:
    blank = np.full((30, 40), 200, np.uint8)
    assert np.array_equal(rescale(blank, RescaleParams(mode="text_height")), blank)


# ----------------------------------------------------------------------------- deskew


@pytest.mark.parametrize("angle", [5.0, -5.0, 2.3])
def test_deskew_recovers_rotation(angle: float) -> None:
    img = multiline()
    tilted = rotate(img, angle, True, "white")
    assert abs(estimate_skew(tilted, 10.0, 0.1) - angle) <= 0.5
    straight = deskew(tilted, DeskewParams())
    assert straight.dtype == np.uint8 and straight.ndim == 2
    assert abs(estimate_skew(straight, 10.0, 0.1)) <= 0.5
    assert straight[0, 0] == 255  # white corners


def test_deskew_keeps_binary_and_straight_text() -> None:
    img = multiline(3)
    binary = np.where(rotate(img, 4.0, True, "white") < 128, 0, 255).astype(np.uint8)
    out = deskew(binary, DeskewParams(fill="black", expand=False))
    assert out.shape == binary.shape and set(np.unique(out)) <= {0, 255}
    assert np.array_equal(deskew(img, DeskewParams()), img)


# ----------------------------------------------------------------------------- crop / pad


def test_crop_sizes_and_clamp() -> None:
    img = np.zeros((100, 200, 3), np.uint8)
    assert crop(img, CropParams(top=10, bottom=5, left=20, right=30)).shape == (85, 150, 3)
    assert crop(img, CropParams(unit="percent", top=10, bottom=10, left=25, right=25)).shape == (80, 100, 3)
    assert crop(img, CropParams(top=5000, bottom=5000, left=5000, right=5000)).shape == (1, 1, 3)
    assert crop(img, CropParams(unit="percent", top=100, bottom=100)).shape == (1, 200, 3)
    tagged = np.arange(100 * 200, dtype=np.int64).reshape(100, 200).astype(np.uint8)
    assert np.array_equal(crop(tagged, CropParams(top=3, left=4)), tagged[3:, 4:])


def test_pad_sizes_and_colours() -> None:
    img = np.full((10, 20), 128, np.uint8)
    out = pad(img, PadParams(size=7))
    assert out.shape == (24, 34) and out[0, 0] == 255 and out[7, 7] == 128
    assert pad(img, PadParams(size=3, color="black"))[0, 0] == 0
    assert pad(img, PadParams(size=3, color="replicate"))[0, 0] == 128
    bgr = pad(np.zeros((4, 5, 3), np.uint8), PadParams(size=2))
    assert bgr.shape == (8, 9, 3) and (bgr[0, 0] == 255).all()
    assert np.array_equal(pad(img, PadParams(size=0)), img)


# ----------------------------------------------------------------------------- all stages


STAGES = ["component_filter", "stroke_width_filter", "hull_mask", "rescale", "deskew", "crop", "pad"]


@pytest.mark.parametrize("name", STAGES)
@pytest.mark.parametrize(
    "image",
    [
        np.zeros((1, 1), np.uint8),
        np.full((1, 1), 255, np.uint8),
        np.full((5, 7, 3), 255, np.uint8),
        np.zeros((3, 4), np.uint8),
    ],
)
def test_tiny_and_empty_images(name: str, image: np.ndarray) -> None:
    stage = get_stage(name)
    before = image.copy()
    out = stage(image, stage.params())
    binary_out = name in ("component_filter", "stroke_width_filter")  # always 2-D 0/255
    assert out.dtype == np.uint8 and out.size > 0 and out.ndim == (2 if binary_out else image.ndim)
    assert np.array_equal(image, before)


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


def test_registered_metadata() -> None:
    for name in STAGES:
        stage = get_stage(name)
        assert stage.summary and stage.returns
        for field_name, info in stage.params.model_fields.items():
            assert info.description, f"{name}.{field_name} has no description"
    assert get_stage("hull_mask").takes_source and not get_stage("component_filter").takes_source


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("model", "kwargs"),
    [
        (ComponentFilterParams, {"min_area": 10, "max_area": 5}),
        (ComponentFilterParams, {"min_width": 10, "max_width": 5}),
        (ComponentFilterParams, {"min_height": 10, "max_height": 5}),
        (ComponentFilterParams, {"min_aspect": 2.0, "max_aspect": 1.0}),
        (ComponentFilterParams, {"min_fill": 0.8, "max_fill": 0.2}),
        (ComponentFilterParams, {"min_area": -1}),
        (ComponentFilterParams, {"size_rule": "all"}),
        (StrokeWidthFilterParams, {"min_width": 9, "max_width": 3}),
        (HullMaskParams, {"margin": 201}),
        (RescaleParams, {"factor": 0.05}),
        (RescaleParams, {"target_height": 500}),
        (DeskewParams, {"max_angle": 50}),
        (DeskewParams, {"max_angle": 1.0, "resolution": 2.0}),
        (CropParams, {"unit": "percent", "top": 150}),
        (PadParams, {"size": 501}),
        (PadParams, {"colour": "white"}),
    ],
)
def test_invalid_params_raise(model: type, kwargs: dict) -> None:
    with pytest.raises(ValidationError):
        model(**kwargs)
