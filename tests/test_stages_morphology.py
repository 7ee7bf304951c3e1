"""The morphology stage (pipeline/stages/morphology.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.stages.morphology import MorphologyParams, morphology

from .stage_images import (
    page,
    random_gray,
)

# --- morphology --------------------------------------------------------------------------------


def test_morphology_close_equals_opencv_line_kernel() -> None:
    gray = page("a line of words", scale=0.8)
    gray = np.hstack([gray, gray])  # wider than the 150 px kernel
    out = morphology(gray, MorphologyParams(op="close", shape="rect", width=150, height=1, ink="light"))
    expected = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, np.ones((1, 150), np.uint8))
    assert np.array_equal(out, expected)


@pytest.mark.parametrize("op", ["erode", "dilate", "open", "close", "tophat", "blackhat", "gradient"])
@pytest.mark.parametrize("shape", ["rect", "ellipse", "cross"])
def test_light_ink_is_plain_opencv_and_dark_ink_is_inverted(op: str, shape: str) -> None:
    gray = random_gray((20, 25))
    p = MorphologyParams(op=op, shape=shape, width=5, height=3, iterations=2, ink="light")
    kern = cv2.getStructuringElement(
        {"rect": cv2.MORPH_RECT, "ellipse": cv2.MORPH_ELLIPSE, "cross": cv2.MORPH_CROSS}[shape], (5, 3)
    )
    cv_op = getattr(cv2, f"MORPH_{op.upper()}")
    assert np.array_equal(morphology(gray, p), cv2.morphologyEx(gray, cv_op, kern, iterations=2))
    dark = morphology(gray, p.model_copy(update={"ink": "dark"}))
    assert np.array_equal(dark, 255 - cv2.morphologyEx(255 - gray, cv_op, kern, iterations=2))


def test_dark_ink_dilate_thickens_and_erode_thins_the_text() -> None:
    gray = page()
    dark = np.count_nonzero(gray == 0)
    thick = morphology(gray, MorphologyParams(op="dilate", width=3, height=3))
    thin = morphology(gray, MorphologyParams(op="erode", width=3, height=3))
    assert np.count_nonzero(thick == 0) > dark * 1.3
    assert np.count_nonzero(thin == 0) < dark * 0.8
    assert np.array_equal(thick, cv2.erode(gray, np.ones((3, 3), np.uint8)))


def test_dark_ink_open_removes_specks_and_close_bridges_gaps() -> None:
    img = np.full((30, 40), 255, np.uint8)
    img[10:20, 5:15] = 0
    img[10:20, 16:26] = 0  # two blocks with a one-pixel gap
    img[2, 35] = 0  # a speck
    opened = morphology(img, MorphologyParams(op="open", width=3, height=3))
    assert opened[2, 35] == 255
    assert (opened[10:20, 5:15] == 0).all()
    closed = morphology(img, MorphologyParams(op="close", width=3, height=1))
    assert (closed[10:20, 5:26] == 0).all()


def test_iterations_repeat_the_operation() -> None:
    img = page()
    twice = morphology(img, MorphologyParams(op="dilate", width=3, height=3, iterations=2))
    once_bigger = morphology(img, MorphologyParams(op="dilate", width=5, height=5))
    assert np.array_equal(twice, once_bigger)


def test_morphology_works_per_channel_on_colour() -> None:
    bgr = random_gray((15, 20, 3))
    out = morphology(bgr, MorphologyParams(op="dilate", width=3, height=3))
    for c in range(3):
        channel = np.ascontiguousarray(bgr[:, :, c])
        assert np.array_equal(
            out[:, :, c], morphology(channel, MorphologyParams(op="dilate", width=3, height=3))
        )
