"""Images and helpers shared by the stage tests (tests/test_stages_*.py)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

THRESHOLD_METHODS = (
    "fixed",
    "otsu",
    "triangle",
    "adaptive_mean",
    "adaptive_gaussian",
    "sauvola",
    "niblack",
    "wolf",
)


# --- synthetic images --------------------------------------------------------------------------


def page(text: str = "Clarity 42", scale: float = 1.0, pad: int = 12) -> np.ndarray:
    """Black text (0) on white (255), 8-bit gray, no anti-aliasing."""
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    img = np.full((h + base + 2 * pad, w + 2 * pad), 255, np.uint8)
    cv2.putText(img, text, (pad, pad + h), cv2.FONT_HERSHEY_SIMPLEX, scale, 0, 2, cv2.LINE_8)
    return img


def shaded_page() -> tuple[np.ndarray, np.ndarray]:
    """A text page lit unevenly (paper 250 on the left down to 120 on the right), and its ink mask."""
    clean = page("Uneven light 0123", scale=1.0)
    ink = clean == 0
    light = np.linspace(250, 120, clean.shape[1])[None, :] * np.ones((clean.shape[0], 1))
    shaded = np.where(ink, light * 0.25, light)
    return np.clip(np.rint(shaded), 0, 255).astype(np.uint8), ink


def random_gray(shape: tuple[int, ...] = (23, 31), seed: int = 7) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


# --- every stage: shape, dtype, purity, tiny images --------------------------------------------

CASES: list[tuple[str, dict[str, Any]]] = [
    ("color_range", {}),
    ("color_range", {"space": "bgr", "c0_min": 10, "c0_max": 200, "output": "ink"}),
    ("color_range", {"space": "hsv", "c0_max": 179}),
    ("color_range", {"space": "lab", "c1_min": 100, "c1_max": 150}),
    ("normalize", {}),
    ("normalize", {"low_percentile": 5, "high_percentile": 95}),
    ("normalize", {"method": "clahe", "tiles": 64, "clip_limit": 40}),
    ("background_flatten", {}),
    ("background_flatten", {"method": "morph", "size": 301}),
    ("background_flatten", {"method": "median", "size": 301}),
    ("gaussian_blur", {"ksize_w": 99, "ksize_h": 1, "sigma": 50}),
    ("gaussian_blur", {}),
    ("median_blur", {}),
    ("median_blur", {"ksize_w": 51, "ksize_h": 49}),
    ("median_blur", {"ksize_w": 5, "ksize_h": 3}),
    ("bilateral", {"diameter": 31}),
    ("nl_means", {"template_window": 21, "search_window": 51}),
    *[("threshold", {"method": m, "window": 301}) for m in THRESHOLD_METHODS],
    *[("threshold", {"method": m, "window": 3, "invert": True}) for m in THRESHOLD_METHODS],
    *[("morphology", {"op": op, "width": 301, "height": 1}) for op in ("erode", "dilate", "open", "close")],
    *[
        ("morphology", {"op": op, "shape": "ellipse", "ink": "light"})
        for op in ("tophat", "blackhat", "gradient")
    ],
    ("morphology", {"shape": "cross", "width": 301, "height": 301, "iterations": 10}),
]


GRAY_OUTPUT = {"color_range", "background_flatten", "threshold"}


BINARY_OUTPUT = {"color_range", "threshold"}


def salt_and_pepper() -> tuple[np.ndarray, np.ndarray]:
    clean = np.full((120, 160), 255, np.uint8)
    clean[30:60, 20:70] = 0
    clean[70:100, 90:140] = 0
    rng = np.random.default_rng(11)
    noisy = clean.copy()
    ys, xs = rng.integers(0, 120, 300), rng.integers(0, 160, 300)
    noisy[ys, xs] = 255 - noisy[ys, xs]  # isolated specks: black on paper, white in the blocks
    return clean, noisy


def count_specks(img: np.ndarray) -> int:
    """Black and white connected blobs of fewer than 10 pixels."""
    specks = 0
    for blobs in (img == 0, img == 255):
        _, _, stats, _ = cv2.connectedComponentsWithStats(blobs.astype(np.uint8), connectivity=8)
        specks += int(np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] < 10))
    return specks


def naive_window_stats(gray: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    r = window // 2
    padded = np.pad(gray.astype(np.float64), r, mode="edge")
    h, w = gray.shape
    mean, std = np.empty((h, w)), np.empty((h, w))
    for y in range(h):
        for x in range(w):
            patch = padded[y : y + window, x : x + window]
            mean[y, x], std[y, x] = patch.mean(), patch.std()
    return mean, std


# ----------------------------------------------------------------------------- fixtures


def hershey_text(text: str = "Clarity 2026", scale: float = 1.2, pad: int = 20) -> np.ndarray:
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


def shapes_image() -> np.ndarray:
    img = np.full((100, 200), 255, np.uint8)
    img[10:14, 10:50] = 0  # horizontal bar 40x4, aspect 10, fill 1
    img[10:30, 70:90] = 0  # square 20x20, aspect 1, fill 1
    img[40:90, 10:14] = 0  # vertical bar 4x50, aspect 0.08
    cv2.rectangle(img, (110, 20), (169, 79), 0, 2)  # ring 60x60, fill ~0.13
    return img


def lines_image() -> np.ndarray:
    img = np.full((120, 200), 255, np.uint8)
    img[10:19, 10:190] = 0  # 9 px thick bar
    img[40:41, 10:190] = 0  # 1 px line
    img[60:63, 10:190] = 0  # 3 px line
    cv2.circle(img, (100, 95), 15, 0, 5)  # ring drawn 7 px wide (measures about 6: it curves)
    return img


# ----------------------------------------------------------------------------- hull_mask


def reference_hull(t: np.ndarray, src: np.ndarray) -> np.ndarray:
    n, lab = cv2.connectedComponents(t, connectivity=8)
    mask = np.zeros_like(t)
    for i in range(1, n):
        ys, xs = np.nonzero(lab == i)
        points = np.stack([xs, ys], axis=1).astype(np.int32)
        cv2.fillPoly(mask, [cv2.convexHull(points)], 255)
    return np.where(mask > 0, src, 255).astype(np.uint8)


def framed_counter_window() -> np.ndarray:
    """A 60x36 counter window: a digit block in the middle, neighbours cut at the top and bottom,
    a frame edge on the left (full height) and a speck touching the right edge."""
    img = np.full((60, 36), 255, np.uint8)
    img[16:44, 10:26] = 0  # the digit (28 px tall)
    img[0:6, 10:26] = 0  # bottom of the previous digit
    img[55:60, 10:26] = 0  # top of the next digit
    img[:, 0:3] = 0  # frame edge
    img[30:33, 33:36] = 0  # speck at the right edge
    return img


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


def reference_paper_level(gray: np.ndarray, ink: np.ndarray, side: int) -> np.ndarray:
    """The local paper level of ``contrast_binarise`` on the whole image: the mean non-ink gray in
    a ``side`` window (mirrored at the borders), 4x wider twice where it holds none, else the
    page's mean paper."""
    paper = (~ink).astype(np.float64)
    level = np.full(gray.shape, gray[~ink].mean())
    pending = np.ones(gray.shape, bool)
    for _ in range(3):
        n = cv2.boxFilter(paper, -1, (side, side), normalize=False, borderType=cv2.BORDER_REFLECT)
        total = cv2.boxFilter(paper * gray, -1, (side, side), normalize=False, borderType=cv2.BORDER_REFLECT)
        found = pending & (n > 0.5)
        level[found] = total[found] / n[found]
        pending &= ~found
        side = 4 * side + 1
    return level


def reference_blob_cleaning(
    gray: np.ndarray, ink: np.ndarray, width: int, min_contrast: float, min_area: float
) -> np.ndarray:
    """``contrast_binarise``'s step 4 as its docstring defines it, on the whole image: each blob's
    mean contrast ``(paper - gray) / paper`` (clipped to 0..1) against the local paper level
    (:func:`reference_paper_level`, window ``max(15, 8 * width + 1)`` px), kept when at least
    ``min_contrast`` times the area-weighted median blob's and at least ``min_area`` squared
    widths large. Returns 0 ink / 255 paper."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    level = reference_paper_level(gray, ink, max(15, 8 * width + 1))
    contrast = np.clip((level - gray) / np.maximum(level, 1.0), 0.0, 1.0)
    area = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    mean = np.bincount(labels.ravel(), weights=contrast.ravel(), minlength=count) / np.maximum(area, 1)
    half, covered, typical = area[1:].sum() / 2, 0.0, 0.0
    for i in sorted(range(1, count), key=lambda i: mean[i]):  # the area-weighted median blob
        covered += area[i]
        typical = mean[i]
        if covered >= half:
            break
    keep = (area >= min_area * width * width) & (mean >= min_contrast * typical)
    keep[0] = False
    return np.where(keep[labels], 0, 255).astype(np.uint8)
