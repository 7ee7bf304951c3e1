"""The seed presets reproduce, pixel for pixel, straight-line OpenCV versions of the answers.

Each reference below is our own plain re-implementation of the steps the answer describes,
written with OpenCV/NumPy calls one after another, independent of the stage library.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy import signal

from pipeline import load_preset, read_image, run

from .conftest import ROOT

PRESETS = ROOT / "presets"
# a few real images from different corpus folders (all read-only, from ../shared/corpus)
IMAGES = [
    "captcha-lines-digits/captcha0.jpg",
    "captcha-sheypoor-digits/{first}",
    "captcha-wilhelmy-v2/{first}",
    "captcha-nopardaz-bgtext/{first}",
    "meter-digits/{first}",
    "gt4histcomment-lines/{first}",
    "dirty-documents/{first}",
]


def _corpus_images(corpus: Path) -> list[Path]:
    paths = []
    for pattern in IMAGES:
        folder, name = pattern.split("/")
        if name == "{first}":
            name = next(
                p.name
                for p in sorted((corpus / folder).iterdir())
                if p.suffix in (".png", ".jpg", ".tif") and not p.stem.endswith(".gt")
            )
        paths.append(corpus / folder / name)
    return paths


def _gray(path: Path) -> np.ndarray:
    image = read_image(path)
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def reference_000(gray: np.ndarray) -> np.ndarray:
    """Stroke-width answer: Otsu, distance > 1.5 px, open 3x3, heights 8..200, hull mask on gray."""
    _, bw = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    dist = cv2.distanceTransform(bw, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    core = ((dist > 1.5) * 255).astype(np.uint8)
    core = cv2.morphologyEx(core, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=8)
    mask = np.zeros_like(gray)
    for i in range(1, n):
        if 8 <= stats[i, cv2.CC_STAT_HEIGHT] <= 200:
            points = np.argwhere(labels == i)[:, ::-1].astype(np.int32)
            cv2.fillPoly(mask, [cv2.convexHull(points)], 255)
    return np.where(mask > 0, gray, 255).astype(np.uint8)


def reference_001(gray: np.ndarray) -> np.ndarray:
    """Largest-line answer: the steps of answer 001 in order (a 3x5 median padded with zeros)."""
    _, t = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(t, connectivity=8)
    small = (stats[:, cv2.CC_STAT_WIDTH] <= 10) & (stats[:, cv2.CC_STAT_HEIGHT] <= 10)
    small[0] = False
    t[small[labels]] = 0
    mask = cv2.morphologyEx(t, cv2.MORPH_CLOSE, np.ones((1, 150), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n > 1:
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        t[labels != largest] = 0
    mask = cv2.morphologyEx(t, cv2.MORPH_CLOSE, np.ones((1, 15), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    small = (stats[:, cv2.CC_STAT_WIDTH] <= 30) & (stats[:, cv2.CC_STAT_HEIGHT] <= 30)
    small[0] = False
    t[small[labels]] = 0
    t = cv2.morphologyEx(t, cv2.MORPH_CLOSE, np.ones((1, 15), np.uint8))
    t = signal.medfilt(t, (3, 5)).astype(np.uint8)  # zero-padded, as the answer's medfilt
    return 255 - t


def test_zero_border_median_matches_scipy_medfilt() -> None:
    """The median stage's zero border equals scipy.signal.medfilt, which the replicated border does not."""
    from pipeline.registry import get_stage

    rng = np.random.default_rng(1)
    image = np.where(rng.random((40, 60)) < 0.5, 255, 0).astype(np.uint8)
    stage = get_stage("median_blur")
    for kh, kw in ((3, 5), (5, 3), (3, 3), (1, 5)):
        expected = signal.medfilt(image, (kh, kw)).astype(np.uint8)
        zero = stage.func(image, stage.params(ksize_w=kw, ksize_h=kh, border="zero"))
        np.testing.assert_array_equal(zero, expected)
        replicated = stage.func(image, stage.params(ksize_w=kw, ksize_h=kh))
        assert np.count_nonzero(replicated != expected) > 0  # the border makes a difference here


def reference_002(gray: np.ndarray) -> np.ndarray:
    """Gray-band recipe: inRange(gray, 100, 105), inverted."""
    return ~cv2.inRange(gray, 100, 105)


@pytest.mark.parametrize(
    ("preset_file", "reference"),
    [
        ("seed-000-stroke-width.yaml", reference_000),
        ("seed-001-largest-line.yaml", reference_001),
        ("seed-002-gray-band.yaml", reference_002),
    ],
)
def test_seed_preset_matches_reference_on_corpus(corpus: Path, preset_file: str, reference) -> None:
    preset = load_preset(PRESETS / preset_file)
    checked = 0
    for path in _corpus_images(corpus):
        ours = run(read_image(path), preset, cache=None).final
        expected = reference(_gray(path))
        assert ours.shape == expected.shape, path
        differing = int(np.count_nonzero(ours != expected))
        assert differing == 0, f"{path.name}: {differing} pixels differ"
        checked += 1
    assert checked == len(IMAGES)


def test_references_do_something(corpus: Path) -> None:
    """Guard against a vacuous comparison: each reference changes the image and keeps some ink."""
    for path in _corpus_images(corpus)[:3]:
        gray = _gray(path)
        for reference in (reference_000, reference_001, reference_002):
            out = reference(gray)
            assert not np.array_equal(out, gray)
            assert out.dtype == np.uint8
    out = reference_001(_gray(_corpus_images(corpus)[0]))
    assert (out == 0).any() and (out == 255).any()
