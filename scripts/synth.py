"""Synthetic noisy images of text, one generator per scenario, for samples and test sets.

Every generator takes a NumPy random generator and returns a :class:`Sample` (the image as
uint8 gray or BGR, and its true text). The same seed always gives the same pixels on the same
fonts: fonts are DejaVu (``/usr/share/fonts/truetype/dejavu``) when installed, else Pillow's
built-in scalable font (``ImageFont.load_default(size=...)``), so images made on machines with
different fonts differ. That is why the bundled samples are committed as PNG files.

Scenarios (see :data:`SCENARIOS`):

``document``
    A few paragraphs of printed text on a page lit unevenly (a dark corner, a bright band).
``text-line``
    One printed line on off-white paper, often small, slightly blurred, light grain.
``speckled-line``
    A dark code line (``EXPO 2016/01-2019``) on gray paper with heavy speckle, ink blobs and a
    few stray pen strokes.
``captcha``
    Five distorted glyphs (each rotated up to 20 degrees, then a wave warp) on a light,
    coloured, textured background, with dots, arcs and a strike-through line.
``gray-band-captcha``
    Six glyphs all in one narrow gray band (100..104) drawn over rows of distractor text
    ("powered by clarity") and lines in other tones.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
"""Where DejaVu fonts are looked for; Pillow's built-in font is used when they are absent."""

_FONT_FILES = {
    "sans": "DejaVuSans.ttf",
    "sans-bold": "DejaVuSans-Bold.ttf",
    "sans-oblique": "DejaVuSans-BoldOblique.ttf",
    "serif": "DejaVuSerif.ttf",
    "serif-bold": "DejaVuSerif-Bold.ttf",
    "mono-bold": "DejaVuSansMono-Bold.ttf",
    "condensed-bold": "DejaVuSansCondensed-Bold.ttf",
}

CAPTCHA_CHARS = "ACDEFGHJKLMNPQRTUVWXYabdefghkmnqrt2345678"
"""Glyphs used in captchas: letters and digits without look-alikes (0/O, 1/l/I, c/C, s/S ...)."""

DISTRACTOR_TEXT = "powered by clarity"
"""The background text of the gray-band captcha."""

GRAY_BAND = (100, 104)
"""Inclusive gray levels of the gray-band captcha's glyphs."""

_WORD_TEXT = (
    "the of and to in is was for that with as by on be at from his an which are this or it "
    "not have had were all but their one we they been more there would when who can so may "
    "some what into only other these time than two very first also after made new any most "
    "such over upon our well must like those great should many where before being under much "
    "through each same while people little state water light paper letter number printed "
    "reading question answer clear noise image text line page book chapter market station "
    "garden river window harbour village morning evening winter summer history science "
    "figure table report method result value record engine signal island council journey"
)
WORDS = tuple(_WORD_TEXT.split())
"""Plain English words for the document and text-line generators."""


@dataclass(frozen=True)
class Sample:
    """A generated image and its true text.

    Attributes
    ----------
    image:
        uint8 gray (H, W) or BGR (H, W, 3).
    text:
        What the image says; lines separated by ``\\n`` for documents.
    """

    image: np.ndarray
    text: str


# ----------------------------------------------------------------------------------------------
# Drawing helpers


@cache
def font(size: int, style: str = "sans-bold") -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A scalable font of ``size`` px: the DejaVu face ``style`` if installed, else Pillow's own.

    ``style`` is one of ``sans``, ``sans-bold``, ``sans-oblique``, ``serif``, ``serif-bold``,
    ``mono-bold``, ``condensed-bold``.
    """
    path = FONT_DIR / _FONT_FILES[style]
    if path.is_file():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def coverage(text: str, face: ImageFont.FreeTypeFont | ImageFont.ImageFont, pad: int = 2) -> np.ndarray:
    """Anti-aliased ink coverage (float32, 0..1) of ``text`` tightly boxed with ``pad`` px around."""
    left, top, right, bottom = face.getbbox(text)
    canvas = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
    ImageDraw.Draw(canvas).text((pad - left, pad - top), text, font=face, fill=255)
    return np.asarray(canvas, dtype=np.float32) / 255.0


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell: float) -> np.ndarray:
    """Smooth random field (float32, mean 0, std about 1) varying over about ``cell`` px."""
    h, w = shape
    gh, gw = max(2, math.ceil(h / cell) + 1), max(2, math.ceil(w / cell) + 1)
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)


def paste(canvas: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    """Combine ``alpha`` into ``canvas`` (both float 0..1) at (x, y) by maximum, clipping to the canvas."""
    h, w = alpha.shape
    ch, cw = canvas.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(cw, x + w), min(ch, y + h)
    if x0 >= x1 or y0 >= y1:
        return
    region = canvas[y0:y1, x0:x1]
    np.maximum(region, alpha[y0 - y : y1 - y, x0 - x : x1 - x], out=region)


def blend(base: np.ndarray, colour: np.ndarray | float | tuple[float, ...], alpha: np.ndarray) -> np.ndarray:
    """``base * (1 - alpha) + colour * alpha`` for gray (H, W) or colour (H, W, 3) float images."""
    a = alpha if base.ndim == 2 else alpha[:, :, None]
    return base * (1.0 - a) + np.asarray(colour, dtype=np.float32) * a


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Round and clip a float image to uint8."""
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def rotated(alpha: np.ndarray, degrees: float) -> np.ndarray:
    """``alpha`` rotated counter-clockwise by ``degrees`` about its centre, canvas grown to fit."""
    h, w = alpha.shape
    rad = math.radians(degrees)
    nw = math.ceil(abs(w * math.cos(rad)) + abs(h * math.sin(rad)))
    nh = math.ceil(abs(w * math.sin(rad)) + abs(h * math.cos(rad)))
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    matrix[0, 2] += (nw - w) / 2
    matrix[1, 2] += (nh - h) / 2
    return cv2.warpAffine(alpha, matrix, (nw, nh), flags=cv2.INTER_CUBIC, borderValue=0.0).clip(0, 1)


def wave_warp(image: np.ndarray, rng: np.random.Generator, amplitude: float, period: float) -> np.ndarray:
    """Displace ``image`` by crossed sine waves of ``amplitude`` px and about ``period`` px."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    phase_x, phase_y = rng.uniform(0, 2 * math.pi, 2)
    period_y = period * rng.uniform(0.7, 1.3)
    map_x = xs + amplitude * np.sin(2 * math.pi * ys / period_y + phase_x)
    map_y = ys + amplitude * np.sin(2 * math.pi * xs / period + phase_y)
    map_x, map_y = map_x.astype(np.float32), map_y.astype(np.float32)
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def stroke_mask(shape: tuple[int, int], points: np.ndarray, thickness: int) -> np.ndarray:
    """Anti-aliased polyline through ``points`` (N x 2, x y) as float32 coverage 0..1."""
    mask = np.zeros(shape, np.uint8)
    pts = np.rint(points * 4).astype(np.int32).reshape(-1, 1, 2)  # 2 fractional bits
    cv2.polylines(mask, [pts], False, 255, thickness, cv2.LINE_AA, shift=2)
    return mask.astype(np.float32) / 255.0


def random_curve(
    rng: np.random.Generator, shape: tuple[int, int], length: float, bend: float, n: int = 24
) -> np.ndarray:
    """Points of a gently bending curve of about ``length`` px placed at random in ``shape``."""
    h, w = shape
    x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
    angle = rng.uniform(0, 2 * math.pi)
    turn = rng.uniform(-bend, bend)
    t = np.linspace(0, 1, n)
    headings = angle + turn * t
    steps = length / (n - 1)
    xs = x0 + np.concatenate([[0], np.cumsum(np.cos(headings[:-1]) * steps)])
    ys = y0 + np.concatenate([[0], np.cumsum(np.sin(headings[:-1]) * steps)])
    return np.stack([xs, ys], axis=1)


def random_words(rng: np.random.Generator, count: int) -> str:
    """``count`` words from :data:`WORDS`, space separated."""
    return " ".join(WORDS[i] for i in rng.integers(0, len(WORDS), count))


# ----------------------------------------------------------------------------------------------
# Scenarios


def document(rng: np.random.Generator, text: str | None = None) -> Sample:
    """A page of printed paragraphs under uneven lighting (gray).

    The illumination falls off towards a random corner (down to about 45 % of full) with a
    soft bright band across it, the ink is near black, and the page has a light grain.
    """
    if text is None:
        lines = [random_words(rng, int(rng.integers(6, 10))) for _ in range(int(rng.integers(5, 9)))]
        lines = [line[:1].upper() + line[1:] for line in lines]
    else:
        lines = text.splitlines()
    face = font(int(rng.integers(17, 22)), "serif")
    masks = [coverage(line, face) for line in lines]
    leading = int(face.size * 1.6) if hasattr(face, "size") else 28
    margin = 30
    width = max(m.shape[1] for m in masks) + 2 * margin
    height = leading * len(lines) + 2 * margin
    ink = np.zeros((height, width), np.float32)
    for i, m in enumerate(masks):
        paste(ink, m, margin, margin + i * leading)

    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = rng.choice([0, width]), rng.choice([0, height])
    dist = np.hypot(xs - cx, ys - cy) / math.hypot(width, height)
    light = 0.45 + 0.55 * np.clip(dist * 1.2, 0, 1)
    band_angle = rng.uniform(0, math.pi)
    band = np.cos(band_angle) * xs + np.sin(band_angle) * ys
    light *= 1.0 + 0.12 * np.exp(-(((band - band.mean()) / (0.15 * width)) ** 2))
    paper = 235.0 * light + 4.0 * smooth_noise(rng, (height, width), 12)
    page = blend(paper, 25.0 * light, ink)
    page = cv2.GaussianBlur(page, (3, 3), 0.6) + rng.normal(0, 3.0, page.shape).astype(np.float32)
    return Sample(to_uint8(page), "\n".join(lines))


def text_line(rng: np.random.Generator, text: str | None = None) -> Sample:
    """One printed line on off-white paper, often small, slightly blurred, with grain (gray).

    Font sizes run from 11 px (too small for Tesseract as it is) to 29 px; the ink is 15-90
    gray levels on 200-250 paper and the blur sigma 0.3-1.1 px.
    """
    if text is None:
        text = random_words(rng, int(rng.integers(5, 10)))
    face = font(int(rng.integers(11, 30)), str(rng.choice(["serif", "sans"])))
    mask = coverage(text, face, pad=int(rng.integers(4, 12)))
    paper = rng.uniform(200, 250) + 5.0 * smooth_noise(rng, mask.shape, 30)
    line = blend(paper, rng.uniform(15, 90), mask)
    sigma = rng.uniform(0.3, 1.1)
    line = cv2.GaussianBlur(line, (5, 5), sigma) + rng.normal(0, 4.0, line.shape).astype(np.float32)
    return Sample(to_uint8(line), text)


def speckle_code(rng: np.random.Generator) -> str:
    """A code like ``EXPO 2016/01-2019``: a capital word, then a date range."""
    word = "".join(rng.choice(list("ABCDEFGHKLMNPRSTUVWXYZ"), int(rng.integers(3, 6))))
    start = int(rng.integers(1990, 2025))
    return f"{word} {start}/{int(rng.integers(1, 13)):02d}-{start + int(rng.integers(1, 6))}"


@dataclass(frozen=True)
class SpeckleNoise:
    """How much noise :func:`speckled_line` adds (the defaults are the seed image's levels).

    Attributes
    ----------
    dark, light:
        Fraction of the image area covered by dark (10-70) and light (200-255) specks of 1-2 px.
    blobs, strokes:
        Half-open ranges ``(low, high)`` of the number of ink blobs (4-10 px across) and of thin
        stray pen strokes.
    grain:
        Standard deviation of the per-pixel Gaussian grain, in gray levels.
    """

    dark: float = 0.06
    light: float = 0.02
    blobs: tuple[int, int] = (5, 10)
    strokes: tuple[int, int] = (2, 5)
    grain: float = 7.0


FontMaker = Callable[[int], ImageFont.FreeTypeFont | ImageFont.ImageFont]
"""A font of a given size in px (``size -> font``)."""


def _bold_sans(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return font(size, "sans-bold")


def speckled_line(
    rng: np.random.Generator,
    text: str | None = None,
    face_for: FontMaker = _bold_sans,
    sizes: tuple[int, int] = (38, 46),
    noise: SpeckleNoise = SpeckleNoise(),
) -> Sample:
    """A dark code line on gray paper with heavy speckle, ink blobs and stray strokes (BGR).

    Noise added, in order: paper texture and grain; 1-2 px dark specks over about 6 % of the
    area and light specks over about 2 % (also inside the strokes); 5-9 ink blobs 4-10 px
    across; 2-4 thin stray pen strokes; and part of a neighbouring line cut off at the
    top or bottom edge. ``face_for`` gives the font for a size in px drawn from the half-open
    range ``sizes``; ``noise`` sets the noise levels (the defaults are the seed image's).
    """
    if text is None:
        text = speckle_code(rng)
    face = face_for(int(rng.integers(*sizes)))
    mask = coverage(text, face)
    h, w = mask.shape
    margin_x, margin_y = int(rng.integers(30, 50)), int(rng.integers(24, 34))
    shape = (h + 2 * margin_y, w + 2 * margin_x)
    ink = np.zeros(shape, np.float32)
    paste(ink, mask, margin_x, margin_y)

    # A neighbouring line, mostly outside the image.
    other = coverage(speckle_code(rng) + " " + speckle_code(rng), face)
    if rng.random() < 0.5:
        paste(ink, other, int(rng.integers(-40, 20)), -other.shape[0] + int(rng.integers(6, 12)))
    else:
        paste(ink, other, int(rng.integers(-40, 20)), shape[0] - int(rng.integers(6, 12)))

    # Blobs and stray strokes.
    for _ in range(int(rng.integers(*noise.blobs))):
        blob = np.zeros(shape, np.uint8)
        centre = (int(rng.integers(0, shape[1])), int(rng.integers(0, shape[0])))
        axes = (int(rng.integers(2, 6)), int(rng.integers(2, 6)))
        cv2.ellipse(blob, centre, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1, cv2.LINE_AA)
        np.maximum(ink, blob.astype(np.float32) / 255.0, out=ink)
    for _ in range(int(rng.integers(*noise.strokes))):
        curve = random_curve(rng, shape, rng.uniform(25, 110), bend=1.5)
        np.maximum(ink, stroke_mask(shape, curve, int(rng.integers(1, 3))), out=ink)

    gray_paper = rng.uniform(150, 180) + 10.0 * smooth_noise(rng, shape, 25)
    tint = np.asarray([-10.0, 0.0, 6.0], np.float32)  # slightly yellow paper (B, G, R)
    paper = gray_paper[:, :, None] + tint
    image = blend(paper, (40.0, 40.0, 45.0), ink)
    image = cv2.GaussianBlur(image, (3, 3), 0.7) + rng.normal(0, noise.grain, image.shape[:2])[:, :, None]

    # Speckle: dark and light dots of 1-2 px, everywhere.
    area = shape[0] * shape[1]
    for fraction, low, high in ((noise.dark, 10, 70), (noise.light, 200, 255)):
        count = int(area * fraction / 2)
        ys = rng.integers(0, shape[0] - 1, count)
        xs = rng.integers(0, shape[1] - 1, count)
        size = rng.integers(1, 3, count)
        values = rng.uniform(low, high, count).astype(np.float32)
        image[ys, xs] = values[:, None]
        big = size == 2
        image[ys[big] + 1, xs[big]] = values[big, None]
        image[ys[big], xs[big] + 1] = values[big, None]
    return Sample(to_uint8(image), text)


def _glyph_row(
    rng: np.random.Generator,
    text: str,
    height: int,
    min_width: int,
    sizes: tuple[int, int],
    max_rotation: float,
    styles: tuple[str, ...],
) -> np.ndarray:
    """Coverage of ``text`` as separate glyphs, each rotated up to ``max_rotation`` degrees and
    set side by side with a little vertical jitter and overlap, centred on a ``height`` px
    canvas at least ``min_width`` px wide (wider when the glyphs need it)."""
    glyphs = []
    for char in text:
        face = font(int(rng.integers(*sizes)), str(rng.choice(styles)))
        glyphs.append(rotated(coverage(char, face, pad=3), rng.uniform(-max_rotation, max_rotation)))
    gaps = [int(rng.integers(-4, 3)) for _ in glyphs[1:]]
    total = sum(g.shape[1] for g in glyphs) + sum(gaps)
    h, w = height, max(min_width, total + 24)
    out = np.zeros((h, w), np.float32)
    x = (w - total) // 2 + int(rng.integers(-4, 5))
    for i, glyph in enumerate(glyphs):
        y = (h - glyph.shape[0]) // 2 + int(rng.integers(-4, 5))
        paste(out, glyph, x, y)
        x += glyph.shape[1] + (gaps[i] if i < len(gaps) else 0)
    return out


def captcha_text(rng: np.random.Generator, length: int) -> str:
    """``length`` random glyphs from :data:`CAPTCHA_CHARS`."""
    return "".join(rng.choice(list(CAPTCHA_CHARS), length))


def captcha(rng: np.random.Generator, text: str | None = None) -> Sample:
    """Five distorted glyphs on a light coloured texture, with dots, arcs and a strike-through (BGR).

    Each glyph is drawn in a bold face, rotated by up to 20 degrees, the row is bent by a wave
    warp (1.5-2.5 px), then crossed by a wavy strike-through line in the text colour; 2-3 thin arcs
    and 40-80 dots in other dark colours are scattered over a light tinted, mottled background.
    """
    if text is None:
        text = captcha_text(rng, 5)
    glyphs = _glyph_row(rng, text, 70, 210, (38, 46), 20.0, ("sans-bold", "serif-bold", "mono-bold"))
    glyphs = wave_warp(
        glyphs, rng, amplitude=float(rng.uniform(1.5, 2.5)), period=float(rng.uniform(70, 100))
    )
    shape = glyphs.shape
    h, w = shape

    base = rng.uniform(205, 245, 3).astype(np.float32)
    background = base + 10.0 * np.stack([smooth_noise(rng, shape, 14) for _ in range(3)], axis=2)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    stripes = np.sin((xs * math.cos(0.7) + ys * math.sin(0.7)) / rng.uniform(2.0, 4.0))
    background += 6.0 * stripes[:, :, None]

    text_colour = rng.uniform(10, 110, 3)
    image = blend(background, text_colour, glyphs)

    xs_line = np.linspace(-5, w + 5, 40)
    ys_line = h / 2 + rng.uniform(-6, 6) + rng.uniform(3, 7) * np.sin(xs_line / rng.uniform(15, 30))
    strike = stroke_mask(shape, np.stack([xs_line, ys_line], axis=1), int(rng.integers(1, 3)))
    image = blend(image, text_colour, strike)

    for _ in range(int(rng.integers(2, 4))):
        arc = np.zeros(shape, np.uint8)
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(30, 110)), int(rng.integers(15, 50)))
        start = float(rng.uniform(0, 360))
        cv2.ellipse(arc, centre, axes, float(rng.uniform(0, 180)), start, start + 120, 255, 1, cv2.LINE_AA)
        image = blend(image, rng.uniform(30, 160, 3), arc.astype(np.float32) / 255.0)
    dots = np.zeros(shape, np.uint8)
    for _ in range(int(rng.integers(40, 81))):
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.circle(dots, centre, int(rng.integers(1, 3)), 255, -1, cv2.LINE_AA)
    image = blend(image, rng.uniform(30, 140, 3), dots.astype(np.float32) / 255.0)
    image += rng.normal(0, 4.0, shape)[:, :, None]
    return Sample(to_uint8(image), text)


def _tone_outside_band(rng: np.random.Generator, band: tuple[int, int] = GRAY_BAND) -> float:
    """A gray level well away from ``band`` (15 or more levels darker or lighter)."""
    return float(rng.uniform(30, band[0] - 15) if rng.random() < 0.5 else rng.uniform(band[1] + 16, 190))


def gray_band_captcha(
    rng: np.random.Generator,
    text: str | None = None,
    band: tuple[int, int] = GRAY_BAND,
    distractor: str = DISTRACTOR_TEXT,
) -> Sample:
    """Six glyphs in one narrow gray band (100..104) over rows of distractor text (BGR).

    Rows of ``distractor`` ("powered by clarity") in other gray tones and colours are tiled over
    a near-white background, with two long lines; the glyphs are drawn on top with hard edges,
    every glyph pixel a gray level drawn from the inclusive range ``band`` (default
    :data:`GRAY_BAND`; equal B, G, R; keep it within 46..174 so other tones stay 15 levels
    away). The anti-aliased edges of the distractors pass through the band too, as in real
    captchas of this kind.
    """
    if text is None:
        text = captcha_text(rng, 6)
    glyphs = _glyph_row(rng, text, 80, 250, (36, 44), 15.0, ("sans-bold", "condensed-bold", "serif-bold"))
    shape = glyphs.shape
    h, w = shape
    image = np.full((h, w, 3), rng.uniform(238, 252), np.float32)
    image += rng.normal(0, 2.0, shape)[:, :, None]

    small = font(int(rng.integers(11, 15)), "sans")
    row = coverage((distractor + "   ") * 5, small, pad=0)
    y = int(rng.integers(-6, 2))
    while y < h:
        gray = rng.random() < 0.5
        colour = (_tone_outside_band(rng, band),) * 3 if gray else tuple(rng.uniform(60, 200, 3))
        layer = np.zeros(shape, np.float32)
        paste(layer, row, -int(rng.integers(0, 120)), y)
        image = blend(image, colour, layer)
        y += row.shape[0] + int(rng.integers(3, 9))
    for _ in range(2):
        curve = random_curve(rng, shape, rng.uniform(150, 260), bend=0.8)
        image = blend(image, (_tone_outside_band(rng, band),) * 3, stroke_mask(shape, curve, 2))

    inside = glyphs >= 0.5
    tones = rng.integers(band[0], band[1] + 1, shape).astype(np.float32)
    image[inside] = tones[inside][:, None]
    return Sample(to_uint8(image), text)


Maker = Callable[..., Sample]
"""A scenario generator: ``(rng, text=None) -> Sample``."""

SCENARIOS: dict[str, Maker] = {
    "document": document,
    "text-line": text_line,
    "speckled-line": speckled_line,
    "captcha": captcha,
    "gray-band-captcha": gray_band_captcha,
}
"""Scenario name -> generator ``(rng, text=None) -> Sample``."""


def generate(scenario: str, seed: int, index: int, text: str | None = None) -> Sample:
    """Item ``index`` of the ``scenario`` set made with ``seed`` (independent of the set size)."""
    try:
        make = SCENARIOS[scenario]
    except KeyError:
        raise ValueError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}") from None
    stream = list(SCENARIOS).index(scenario)
    return make(np.random.default_rng([seed, stream, index]), text)
