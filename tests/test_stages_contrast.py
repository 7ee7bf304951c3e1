"""Pixel tests of the contrast (Su-style) binariser (pipeline/stages/contrast.py)."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.registry import get_stage
from pipeline.stages.contrast import ContrastBinariseParams, contrast_binarise, estimate_stroke_width


def _page(stroke: int = 3, shade: bool = True, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic page: rows of bars and rings (the 'text', mask returned) on shaded, grainy paper."""
    rng = np.random.default_rng(seed)
    h, w = 160, 240
    mask = np.zeros((h, w), np.uint8)
    for row in range(4):
        y = 15 + row * 38
        for col in range(9):
            x = 10 + col * 25
            if col % 2:
                cv2.rectangle(mask, (x, y), (x + 12, y + 20), 1, stroke)
            else:
                cv2.line(mask, (x + 6, y), (x + 6, y + 20), 1, stroke)
    ink = mask.astype(bool)
    paper = np.full((h, w), 220.0)
    if shade:  # light falling off from left to right, plus a dark diagonal band
        paper *= np.linspace(1.0, 0.4, w)[None, :]
        yy, xx = np.mgrid[0:h, 0:w]
        paper -= 40.0 * np.exp(-(((xx - yy) / 25.0) ** 2))
    img = paper * np.where(ink, 0.55, 1.0) + rng.normal(0, 3, (h, w))
    return np.clip(img, 0, 255).astype(np.uint8), ink


def _f(out: np.ndarray, ink: np.ndarray) -> float:
    pred = out == 0
    tp = (pred & ink).sum()
    return 2 * tp / max(pred.sum() + ink.sum(), 1)


def test_binary_dark_ink_and_input_untouched() -> None:
    img, _ = _page()
    before = img.copy()
    out = contrast_binarise(img, ContrastBinariseParams())
    assert np.array_equal(img, before)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert set(np.unique(out)) <= {0, 255}
    colour = contrast_binarise(cv2.cvtColor(img, cv2.COLOR_GRAY2BGR), ContrastBinariseParams())
    assert np.array_equal(colour, out)


def test_recovers_text_under_shading_where_global_otsu_fails() -> None:
    img, ink = _page()
    out = contrast_binarise(img, ContrastBinariseParams())
    _, otsu = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    assert _f(out, ink) > 0.9
    assert _f(out, ink) > _f(otsu, ink) + 0.1
    assert (out[~cv2.dilate(ink.astype(np.uint8), np.ones((3, 3))).astype(bool)] == 255).mean() > 0.995


def test_thick_strokes_are_filled_by_wider_windows() -> None:
    img, ink = _page(stroke=9, shade=False)
    one = contrast_binarise(img, ContrastBinariseParams(levels=1, stroke_width=3))
    more = contrast_binarise(img, ContrastBinariseParams(levels=3, stroke_width=3))
    assert _f(more, ink) > 0.95
    assert _f(more, ink) > _f(one, ink) + 0.05


def test_k_makes_strokes_bolder_and_stroke_width_estimate() -> None:
    img, ink = _page(stroke=5, shade=False)
    thin = (contrast_binarise(img, ContrastBinariseParams(k=-1.0)) == 0).sum()
    bold = (contrast_binarise(img, ContrastBinariseParams(k=1.5)) == 0).sum()
    assert bold > thin
    width = int(ink[30, :25].sum())  # the first vertical stroke
    edges = cv2.Canny(img, 50, 150) > 0
    assert width <= estimate_stroke_width(img, edges) <= width + 2  # edges sit just outside the ink


def test_faint_blobs_and_specks_are_dropped() -> None:
    img, ink = _page(shade=False)
    faint = img.copy()
    cv2.circle(faint, (231, 100), 6, 175, -1)  # a blob 1/3 as dark against the paper as the text
    faint[5, 5] = 60  # one dark speck
    keep = contrast_binarise(faint, ContrastBinariseParams(min_contrast=0.0, min_area=0.0))
    drop = contrast_binarise(faint, ContrastBinariseParams(min_contrast=0.6, min_area=0.5))
    assert keep[100, 231] == 0 and drop[100, 231] == 255
    assert keep[5, 5] == 0 and drop[5, 5] == 255
    assert _f(drop, ink) > 0.9


def test_blank_tiny_and_uniform_images_are_white() -> None:
    stage = get_stage("contrast_binarise")
    for img in (np.zeros((1, 1), np.uint8), np.full((7, 5), 128, np.uint8), np.full((3, 3, 3), 9, np.uint8)):
        out = stage(img, ContrastBinariseParams())
        assert out.shape == img.shape[:2] and (out == 255).all()
