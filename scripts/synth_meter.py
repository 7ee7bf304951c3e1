"""Synthetic water-meter digits: one digit of a rolling counter, cropped from a camera image.

Each image is the window of one counter wheel: the digit read is in the middle, and the wheel
may be caught mid-roll, so the bottom of the previous digit or the top of the next one shows at
the top or bottom edge. Digits are drawn in a DejaVu face or as seven-segment shapes, dark on
light or light on dark (chosen at random), at low contrast, under uneven lighting, blurred,
with sensor noise and JPEG compression; some windows have a dark frame edge on one side or a
decimal point after the digit. Window heights are 30-110 px, as in real meter crops.

Write a test set in the tesstrain layout (``DIR/<i>.png`` + ``DIR/<i>.gt.txt``)::

    python scripts/synth_meter.py --count 50 --seed 7 --out DIR

The same seed gives the same images on the same fonts; item ``i`` does not depend on ``--count``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

if __package__:
    from . import synth
else:  # run as a script: scripts/ is on sys.path
    import synth

_STYLES = ("sans", "sans-bold", "mono-bold", "condensed-bold", "serif-bold")

# Seven-segment layout on a unit cell 1 wide, 2 tall: (x0, y0, x1, y1) of each bar.
_SEGMENTS = {
    "a": (0.0, 0.0, 1.0, 0.0),
    "b": (1.0, 0.0, 1.0, 1.0),
    "c": (1.0, 1.0, 1.0, 2.0),
    "d": (0.0, 2.0, 1.0, 2.0),
    "e": (0.0, 1.0, 0.0, 2.0),
    "f": (0.0, 0.0, 0.0, 1.0),
    "g": (0.0, 1.0, 1.0, 1.0),
}
_DIGIT_SEGMENTS = {
    0: "abcdef",
    1: "bc",
    2: "abdeg",
    3: "abcdg",
    4: "bcfg",
    5: "acdfg",
    6: "acdefg",
    7: "abc",
    8: "abcdefg",
    9: "abcdfg",
}


def seven_segment(digit: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """Coverage (float32 0..1) of ``digit`` as seven-segment bars, ``height`` px tall."""
    scale = (height - 1) / 2.4
    width = int(scale * 1.2) + 2
    thickness = max(2, round(scale * rng.uniform(0.16, 0.26)))
    gap = max(1, thickness // 2)
    canvas = np.zeros((height, width), np.uint8)
    ox, oy = (width - scale) / 2, (height - 2 * scale) / 2
    for name in _DIGIT_SEGMENTS[digit]:
        x0, y0, x1, y1 = _SEGMENTS[name]
        horizontal = y0 == y1
        p0 = (ox + x0 * scale + (gap if horizontal else 0), oy + y0 * scale + (0 if horizontal else gap))
        p1 = (ox + x1 * scale - (gap if horizontal else 0), oy + y1 * scale - (0 if horizontal else gap))
        cv2.line(
            canvas, (round(p0[0]), round(p0[1])), (round(p1[0]), round(p1[1])), 255, thickness, cv2.LINE_AA
        )
    return canvas.astype(np.float32) / 255.0


def digit_glyph(digit: int, height: int, rng: np.random.Generator, segments: bool) -> np.ndarray:
    """Coverage of one digit about ``height`` px tall: a font glyph or seven segments."""
    if segments:
        return seven_segment(digit, height, rng)
    face = synth.font(max(6, int(height * 1.3)), str(rng.choice(_STYLES)))
    glyph = synth.coverage(str(digit), face, pad=1)
    factor = height / glyph.shape[0]
    size = (max(1, round(glyph.shape[1] * factor)), height)
    return cv2.resize(glyph, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)


def meter_digit(rng: np.random.Generator, digit: int | None = None) -> synth.Sample:
    """One counter-wheel window showing ``digit`` (random when ``None``), as BGR."""
    if digit is None:
        digit = int(rng.integers(0, 10))
    h = int(rng.integers(30, 111))
    w = round(h * rng.uniform(0.5, 0.65))
    glyph_h = round(h * rng.uniform(0.55, 0.75))
    segments = rng.random() < 0.3
    pitch = round(glyph_h * rng.uniform(1.25, 1.5))  # distance between digits on the wheel
    roll = round(pitch * rng.uniform(-0.22, 0.22))  # how far the wheel has turned
    ink = np.zeros((h, w), np.float32)
    for step in (-1, 0, 1):
        glyph = digit_glyph((digit + step) % 10, glyph_h, rng, segments)
        x = (w - glyph.shape[1]) // 2 + int(rng.integers(-1, 2))
        y = (h - glyph.shape[0]) // 2 + step * pitch + roll
        synth.paste(ink, glyph, x, y)
    if rng.random() < 0.3:  # decimal point or comma mark after the digit
        r = max(1, glyph_h // 14)
        cv2.circle(ink, (w - r - 2, (h + glyph_h) // 2 + roll - r), r, 1.0, -1, cv2.LINE_AA)

    light_text = rng.random() < 0.4
    paper = rng.uniform(150, 245)
    contrast = rng.uniform(35, 140)
    text_tone = paper - contrast
    if light_text:
        paper, text_tone = 255 - paper, 255 - text_tone
    tint = rng.uniform(-25, 25, 3).astype(np.float32)
    background = np.full((h, w, 3), paper, np.float32) + tint
    # Uneven lighting: a linear ramp plus a smooth blotch, up to about +-30 gray levels.
    ramp = np.linspace(-1, 1, h, dtype=np.float32)[:, None] * rng.uniform(-20, 20)
    ramp = ramp + np.linspace(-1, 1, w, dtype=np.float32)[None, :] * rng.uniform(-15, 15)
    background += (ramp + 8.0 * synth.smooth_noise(rng, (h, w), max(8.0, h / 3)))[:, :, None]
    image = synth.blend(background, tuple(np.full(3, text_tone) + tint), ink)
    if rng.random() < 0.35:  # the dark edge of the wheel window on one side
        edge = np.zeros((h, w), np.float32)
        band = int(rng.integers(1, max(2, w // 8)))
        if rng.random() < 0.5:
            edge[:, :band] = 1.0
        else:
            edge[:, w - band :] = 1.0
        image = synth.blend(image, rng.uniform(10, 70), edge)

    sigma = rng.uniform(0.4, 1.4) * h / 60
    image = cv2.GaussianBlur(image, (0, 0), max(0.3, sigma))
    image += rng.normal(0, rng.uniform(2, 7), image.shape).astype(np.float32)
    encoded = cv2.imencode(
        ".jpg", synth.to_uint8(image), [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 90))]
    )[1]
    return synth.Sample(cv2.imdecode(encoded, cv2.IMREAD_COLOR), str(digit))


def generate(seed: int, index: int) -> synth.Sample:
    """Item ``index`` of the set made with ``seed`` (independent of the set size)."""
    return meter_digit(np.random.default_rng([seed, 1000, index]))


def main(argv: Sequence[str] | None = None) -> int:
    """Write ``--count`` meter digits to ``--out`` as ``<i>.png`` with ``<i>.gt.txt``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=50, help="images to write (default 50)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must not be negative")
    args.out.mkdir(parents=True, exist_ok=True)
    for i in range(args.count):
        sample = generate(args.seed, i)
        cv2.imwrite(str(args.out / f"{i:04d}.png"), sample.image)
        (args.out / f"{i:04d}.gt.txt").write_text(sample.text + "\n", encoding="utf-8")
    print(f"wrote {args.count} meter digits to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
