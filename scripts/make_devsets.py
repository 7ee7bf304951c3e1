"""Held-out evaluation sets made with third-party degraders, for measuring presets on new images.

Writes five scenario folders under ``--out``, each with ``train/`` (8 images) and ``test/``
(16 images) in the corpus layout (``<name>.png`` + ``<name>.gt.txt``)::

    python scripts/make_devsets.py --seed 101 --out /work/devsets/seed101

Scenarios:

``docs``
    Printed pages (a few paragraphs of made-up but ordinary English with names, dates and
    amounts; DejaVu, Liberation and Noto faces, 15-24 px) degraded by an augraphy pipeline
    (ink bleed, low-ink lines, bleed-through, paper texture and colour, stains, dirty rollers
    or drum, folds, shadows, lighting, photocopy noise, pen underlines, skew, JPEG), each
    effect with its own probability. Text: the lines as rendered.
``lines``
    One printed line (words, a date, an amount, a reference code, an address; 12-40 px) in
    a varied face, degraded by an augraphy ink/paper/post pipeline (low-ink lines, ink bleed,
    letterpress, paper texture, lighting, photocopy noise, JPEG), a little blur and, for half
    of them, a lower scan resolution.
``speckle``
    Like the seed image of thread 001 (``synth.speckled_line``), with varied codes, dates
    and words, bold faces of several families, sizes and noise levels.
``captcha``
    ``captcha.image.ImageCaptcha`` (PyPI ``captcha``): 4-6 letters and digits, varied
    widths, heights, fonts and font sizes.
``bgtext``
    Like the seed image of thread 002 (``synth.gray_band_captcha``), with a varied text
    (5-7 glyphs), gray band (3-5 levels wide, anywhere in 80..130) and distractor phrase.

Four more scenarios are written only when asked for (``--scenario``): two made as the libraries
make them by default, with settings nobody on the project chose or tuned, and two layouts the
others lack:

``docs-default``
    The ``docs`` pages through augraphy's own ``default_augraphy_pipeline()``.
``captcha-default``
    ``ImageCaptcha()`` as it comes: 160 x 60 px, its bundled DroidSansMono face and sizes,
    4-6 letters and digits.
``snippets``
    Short clean pieces of text of 2-4 lines, as in a screenshot, a label or a receipt: lines
    from ``lines`` and wrapped sentences in a varied face (13-28 px), dark on a light
    background or light on a dark one, in any colours, under 150 px tall for most; a quarter
    of them slightly blurred and JPEG-compressed (no augraphy: these are clean text, the kind
    ``--preset auto`` must read as it is).
``columns``
    Pages set in 2-3 columns with narrow gutters (0.5-1.5 times the type size), half of them
    justified, through the ``docs`` pipeline. Text: column after column (for the reading
    order of column pages; 2-3 columns of 14-25 type sizes, 15-24 px type).

``docs-default`` is reproducible only nearly: made twice, a few of its pages differ by more
than 10 gray levels in at most 0.1 % of their pixels (some effect of the default pipeline draws
from a source the seeding does not reach).

The same seed gives the same images on the same machine (fonts and library versions): the
Python, NumPy, OpenCV and Numba random states that augraphy uses are seeded per image, augraphy
runs in an empty scratch folder (it otherwise reuses earlier images from ``./augraphy_cache``),
and the ``captcha`` package's use of :mod:`secrets` is replaced by a seeded generator while it
draws. Needs ``make bench-deps`` (see the README, "Generated held-out sets").
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import random
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

if __package__:
    from . import synth
else:  # run as a script: scripts/ is on sys.path
    import synth

TRAIN, TEST = 8, 16
"""Images per scenario in ``train/`` and ``test/``."""

FONT_ROOT = Path("/usr/share/fonts/truetype")
"""Where the TrueType faces below are looked for (Debian: fonts-dejavu, fonts-liberation)."""

REGULAR_FACES = (
    "dejavu/DejaVuSans.ttf",
    "dejavu/DejaVuSerif.ttf",
    "dejavu/DejaVuSansCondensed.ttf",
    "dejavu/DejaVuSerifCondensed.ttf",
    "dejavu/DejaVuSansMono.ttf",
    "liberation/LiberationSans-Regular.ttf",
    "liberation/LiberationSerif-Regular.ttf",
    "liberation/LiberationMono-Regular.ttf",
    "liberation/LiberationSansNarrow-Regular.ttf",
    "liberation/LiberationSerif-Italic.ttf",
    "liberation/LiberationSans-Bold.ttf",
    "liberation/LiberationSerif-Bold.ttf",
    "noto/NotoSansMono-Regular.ttf",
)
"""Faces for pages and lines (relative to :data:`FONT_ROOT`); missing ones are skipped."""

BOLD_FACES = (
    "dejavu/DejaVuSans-Bold.ttf",
    "dejavu/DejaVuSansCondensed-Bold.ttf",
    "dejavu/DejaVuSansMono-Bold.ttf",
    "dejavu/DejaVuSerif-Bold.ttf",
    "liberation/LiberationSans-Bold.ttf",
    "liberation/LiberationSansNarrow-Bold.ttf",
    "liberation/LiberationMono-Bold.ttf",
    "liberation/LiberationSerif-Bold.ttf",
    "noto/NotoSansMono-Bold.ttf",
)
"""Bold faces for the speckled lines and captchas."""

SCENARIO_NAMES = ("docs", "lines", "speckle", "captcha", "bgtext")
"""The scenarios written when none is asked for (:data:`SCENARIOS` also has the libraries'
default degradations, written only when asked for)."""

Font = ImageFont.FreeTypeFont


@functools.cache
def _available(faces: tuple[str, ...]) -> tuple[Path, ...]:
    found = tuple(FONT_ROOT / f for f in faces if (FONT_ROOT / f).is_file())
    if not found:
        raise SystemExit(
            f"no fonts found under {FONT_ROOT} (looked for {', '.join(faces[:3])} ...); "
            "install them with: apt-get install fonts-dejavu fonts-liberation"
        )
    return found


@functools.cache
def _load(path: Path, size: int) -> Font:
    return ImageFont.truetype(str(path), size)


def pick_face(rng: np.random.Generator, faces: tuple[str, ...], size: int) -> Font:
    """A random installed face from ``faces`` at ``size`` px."""
    paths = _available(faces)
    return _load(paths[int(rng.integers(len(paths)))], size)


def pick(rng: np.random.Generator, items: Sequence[str]) -> str:
    """One of ``items`` at random."""
    return items[int(rng.integers(len(items)))]


# ----------------------------------------------------------------------------------------------
# Text: made-up but ordinary English, with names, dates, amounts and codes

_NAMES = [
    "Margaret Hale",
    "Thomas Reid",
    "Ana Lucia Ortiz",
    "Peter Novak",
    "Helen Carter",
    "Samuel Okafor",
    "Ruth Bennett",
]
_PLACES = [
    "Bristol",
    "the north wing",
    "Harbour Street",
    "the county archive",
    "Lisbon",
    "the old mill",
    "Station Road",
]
_ORGS = [
    "the parish council",
    "the harbour board",
    "the library committee",
    "Baxter & Sons Ltd.",
    "the water company",
]
_THINGS = [
    "the annual report",
    "a new boiler",
    "the bridge repairs",
    "the printed catalogue",
    "twelve new chairs",
    "the roof of the school",
    "a second delivery van",
    "the survey of the river banks",
    "the winter timetable",
]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_TEMPLATES = (
    "On {date} {org} approved {thing} at a cost of {money}.",
    "{name} wrote to {org} on {date} asking for a copy of {thing}.",
    "The meeting in {place} was opened by {name}, who thanked everyone for coming.",
    "Payment of {money} for {thing} is due by {date}; please quote reference {code}.",
    "According to {name}, {thing} will not be finished before the end of {month}.",
    "A further {count} visitors were recorded in {place} during {month}, up from {count2} a year before.",
    "Questions about {thing} should be sent to {name}, {place}, before {date}.",
    "The minutes of the last meeting were read and signed as a true record.",
    "It was agreed that {org} would review {thing} again in {month}.",
    "Invoice {code} ({money}) was paid in full on {date}.",
    "{name} reported that {thing} had been delayed by the weather in {place}.",
    "Tenders for {thing} must reach {org} no later than noon on {date}.",
    "The chairman noted that {count} letters had been received since {month}.",
    "Telephone {phone} between 9 a.m. and 5 p.m. for details of {thing}.",
)


def _date(rng: np.random.Generator) -> str:
    day, month, year = int(rng.integers(1, 29)), pick(rng, _MONTHS), int(rng.integers(1978, 2026))
    if rng.random() < 0.5:
        return f"{day} {month} {year}"
    return f"{day:02d}/{_MONTHS.index(month) + 1:02d}/{year}"


def _money(rng: np.random.Generator) -> str:
    value = float(rng.integers(5, 250000)) / (100 if rng.random() < 0.5 else 1)
    return f"{pick(rng, ['£', '$', 'EUR '])}{value:,.2f}"


def _code(rng: np.random.Generator) -> str:
    letters = "".join(rng.choice(list("ABCDEFGHJKLMNPRSTUVWXYZ"), int(rng.integers(2, 4))))
    return f"{letters}-{int(rng.integers(1990, 2027))}-{int(rng.integers(0, 10000)):04d}"


def _phone(rng: np.random.Generator) -> str:
    return f"0{int(rng.integers(100, 999))} {int(rng.integers(100, 999))} {int(rng.integers(1000, 9999))}"


def sentence(rng: np.random.Generator) -> str:
    """One sentence from a template with names, places, dates, amounts and codes filled in."""
    slots = {
        "date": _date(rng),
        "org": pick(rng, _ORGS),
        "thing": pick(rng, _THINGS),
        "money": _money(rng),
        "name": pick(rng, _NAMES),
        "place": pick(rng, _PLACES),
        "month": pick(rng, _MONTHS),
        "code": _code(rng),
        "count": f"{int(rng.integers(12, 4000)):,}",
        "count2": f"{int(rng.integers(12, 4000)):,}",
        "phone": _phone(rng),
    }
    text = pick(rng, _TEMPLATES).format(**slots)
    return text[0].upper() + text[1:]


def line_text(rng: np.random.Generator) -> str:
    """A short printed line: words, a date, an amount, a reference, an address or a heading."""
    kind = int(rng.integers(6))
    if kind == 0:
        words = sentence(rng).split()
        start = int(rng.integers(0, max(1, len(words) - 4)))
        return " ".join(words[start : start + int(rng.integers(3, 8))])
    if kind == 1:
        return f"{pick(rng, ['Date:', 'Issued', 'Valid until', 'Received'])} {_date(rng)}"
    if kind == 2:
        return f"{pick(rng, ['Total', 'Amount due', 'Balance', 'Subtotal'])} {_money(rng)}"
    if kind == 3:
        return f"{pick(rng, ['Ref.', 'Invoice No.', 'Order', 'Account'])} {_code(rng)}"
    if kind == 4:
        return f"{int(rng.integers(1, 240))} {pick(rng, _PLACES).removeprefix('the ').title()}, {_phone(rng)}"
    return synth.random_words(rng, int(rng.integers(3, 7))).capitalize()


def speckle_text(rng: np.random.Generator) -> str:
    """A code, a date range, a lot number or a short capitalised label, as stamped on parts."""
    kind = int(rng.integers(4))
    if kind == 0:
        return synth.speckle_code(rng)
    if kind == 1:
        return f"{pick(rng, ['LOT', 'REF', 'EXP', 'BATCH'])} {_code(rng)[-9:]}"
    if kind == 2:
        month, year = int(rng.integers(1, 13)), int(rng.integers(2018, 2031))
        return f"{pick(rng, ['MFD', 'EXP', 'BEST BEFORE'])} {month:02d}/{year}"
    return synth.random_words(rng, int(rng.integers(2, 4))).upper()


def glyph_text(rng: np.random.Generator, low: int, high: int) -> str:
    """``low``..``high`` glyphs from :data:`synth.CAPTCHA_CHARS`."""
    return synth.captcha_text(rng, int(rng.integers(low, high + 1)))


# ----------------------------------------------------------------------------------------------
# Rendering clean text


def wrap(text: str, face: Font, width: int) -> list[str]:
    """``text`` broken into lines no wider than ``width`` px in ``face``."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if current and face.getlength(trial) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


def wrapped_paragraphs(rng: np.random.Generator, face: Font, width: int, count: int) -> list[list[str]]:
    """``count`` paragraphs of 2-4 sentences (:func:`sentence`), broken into lines of ``width`` px."""
    return [
        wrap(" ".join(sentence(rng) for _ in range(int(rng.integers(2, 5)))), face, width)
        for _ in range(count)
    ]


def page(rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A clean printed page (BGR, black-ish ink on white): 2-4 paragraphs; and its text."""
    face = pick_face(rng, REGULAR_FACES, int(rng.integers(15, 25)))
    width = int(rng.integers(620, 900))
    margin = int(rng.integers(30, 70))
    leading = int(face.size * rng.uniform(1.35, 1.7))
    paragraphs = wrapped_paragraphs(rng, face, width - 2 * margin, int(rng.integers(2, 5)))
    rows = sum(len(p) for p in paragraphs) + len(paragraphs) - 1
    height = 2 * margin + rows * leading
    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    ink = int(rng.integers(0, 50))
    y = margin
    for paragraph in paragraphs:
        for line in paragraph:
            draw.text((margin, y), line, font=face, fill=ink)
            y += leading
        y += leading
    text = "\n\n".join("\n".join(p) for p in paragraphs)
    return cv2.cvtColor(np.asarray(canvas), cv2.COLOR_GRAY2BGR), text


def column_page(rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A clean page set in 2-3 columns with narrow gutters (BGR); and its text, column by column.

    Gutters are 0.5-1.5 times the type size (as in magazines and newspapers), the lines of half
    the pages justified (the words spread to the column's width, but a paragraph's last line).
    """
    size = int(rng.integers(15, 25))
    face = pick_face(rng, REGULAR_FACES, size)
    count = int(rng.integers(2, 4))
    column = int(rng.integers(14, 26)) * size
    gutter = round(size * rng.uniform(0.5, 1.5))
    margin = int(rng.integers(30, 70))
    leading = int(size * rng.uniform(1.3, 1.6))
    justified = bool(rng.integers(2))
    paragraphs = wrapped_paragraphs(rng, face, column, int(rng.integers(2 * count, 3 * count + 1)))
    lines = [(line, i == len(p) - 1) for p in paragraphs for i, line in enumerate(p)]
    per_column = -(-len(lines) // count)
    width = 2 * margin + count * column + (count - 1) * gutter
    canvas = Image.new("L", (width, 2 * margin + per_column * leading), 255)
    draw = ImageDraw.Draw(canvas)
    ink = int(rng.integers(0, 50))
    texts = []
    for c in range(count):
        x = margin + c * (column + gutter)
        chunk = lines[c * per_column : (c + 1) * per_column]
        for row, (line, last) in enumerate(chunk):
            y = margin + row * leading
            words = line.split()
            if justified and not last and len(words) > 1:
                space = (column - sum(face.getlength(w) for w in words)) / (len(words) - 1)
                left = float(x)
                for word in words:
                    draw.text((round(left), y), word, font=face, fill=ink)
                    left += face.getlength(word) + space
            else:
                draw.text((x, y), line, font=face, fill=ink)
        texts.append("\n".join(line for line, _ in chunk))
    return cv2.cvtColor(np.asarray(canvas), cv2.COLOR_GRAY2BGR), "\n\n".join(texts)


def printed_line(rng: np.random.Generator, size: int) -> tuple[np.ndarray, str]:
    """A clean printed line (BGR) of ``size`` px type with margins; and its text."""
    text = line_text(rng)
    face = pick_face(rng, REGULAR_FACES, size)
    mask = synth.coverage(text, face, pad=int(rng.integers(6, 16)))
    h, w = mask.shape
    if h < 40:  # augraphy wants 30 px or more each way; keep a real margin
        grown = np.zeros((40, w), np.float32)
        synth.paste(grown, mask, 0, (40 - h) // 2)
        mask = grown
    line = synth.blend(np.full(mask.shape, 255.0, np.float32), float(rng.integers(0, 60)), mask)
    return cv2.cvtColor(synth.to_uint8(line), cv2.COLOR_GRAY2BGR), text


# ----------------------------------------------------------------------------------------------
# augraphy pipelines (built after seeding: some take random choices when constructed)


def _paper_effects(saturation: int, sigma: int, low: float, deviation: float, p: float) -> list[object]:
    """augraphy's paper colour (30 % of the time; saturation 10-``saturation``) and, with
    probability ``p``, one of two textures: noise (sigma 3-``sigma``) or brightness (factor
    ``low``-0.99, ``deviation`` as a fraction)."""
    import augraphy as ag

    return [
        ag.ColorPaper(hue_range=(0, 255), saturation_range=(10, saturation), p=0.3),
        ag.OneOf(
            [
                ag.NoiseTexturize(sigma_range=(3, sigma), turbulence_range=(2, 6)),
                ag.BrightnessTexturize(texturize_range=(low, 0.99), deviation=deviation),
            ],
            p=p,
        ),
    ]


def page_pipeline() -> object:
    """A varied augraphy pipeline for printed pages: each effect runs with its own probability."""
    import augraphy as ag

    ink = [
        ag.InkBleed(intensity_range=(0.2, 0.5), kernel_size=(5, 5), severity=(0.3, 0.5), p=0.4),
        ag.OneOf(
            [
                ag.LowInkRandomLines(count_range=(5, 20), use_consistent_lines=False, noise_probability=0.1),
                ag.LowInkPeriodicLines(count_range=(2, 5), period_range=(16, 32), use_consistent_lines=False),
            ],
            p=0.5,
        ),
        ag.BleedThrough(intensity_range=(0.1, 0.2), alpha=0.15, offsets=(10, 20), p=0.2),
        ag.InkMottling(p=0.3),
    ]
    paper = [
        *_paper_effects(saturation=40, sigma=10, low=0.85, deviation=0.05, p=0.6),
        ag.Stains(stains_blend_alpha=0.35, p=0.25),
    ]
    post = [
        ag.OneOf(
            [
                ag.DirtyRollers(line_width_range=(2, 24), scanline_type=0),
                ag.DirtyDrum(line_width_range=(1, 4), line_concentration=0.1, noise_intensity=0.6),
            ],
            p=0.35,
        ),
        ag.Folding(fold_count=int(random.randint(1, 3)), fold_noise=0.0, gradient_width=(0.1, 0.2), p=0.3),
        ag.OneOf(
            [
                ag.ShadowCast(shadow_opacity_range=(0.3, 0.7), shadow_blur_kernel_range=(101, 201)),
                ag.LightingGradient(max_brightness=255, min_brightness=60, mode="gaussian"),
                ag.Brightness(brightness_range=(0.7, 1.2), min_brightness=1, min_brightness_value=(100, 150)),
                ag.Gamma(gamma_range=(0.6, 1.5)),
            ],
            p=0.6,
        ),
        ag.BadPhotoCopy(
            noise_value=(64, 160), noise_sparsity=(0.4, 0.8), noise_concentration=(0.1, 0.4), p=0.25
        ),
        ag.Markup(markup_type="underline", num_lines_range=(1, 3), p=0.15),  # highlight hides text
        ag.Geometric(rotate_range=(-2, 2), padding_value=(255, 255, 255), p=0.3),
        ag.OneOf([ag.SubtleNoise(subtle_range=10), ag.Jpeg(quality_range=(30, 80))], p=0.5),
    ]
    return ag.AugraphyPipeline(ink_phase=ink, paper_phase=paper, post_phase=post)


def line_pipeline(harsh: bool = False) -> object:
    """A varied augraphy pipeline for single lines (ink and paper effects, light post effects);
    ``harsh`` runs each effect more often and more strongly (heavier ink loss, lower JPEG quality)."""
    import augraphy as ag

    more = 1.8 if harsh else 1.0  # how much likelier each effect is
    ink = [
        ag.OneOf(
            [
                ag.LowInkPeriodicLines(count_range=(1, 3), period_range=(12, 30), use_consistent_lines=False),
                ag.LowInkRandomLines(count_range=(2, 10 if harsh else 6), use_consistent_lines=False),
            ],
            p=0.4 * more,
        ),
        ag.InkBleed(intensity_range=(0.3, 0.6), kernel_size=(3, 3), severity=(0.3, 0.5), p=0.3 * more),
        ag.InkMottling(p=0.3 * more),
        ag.Letterpress(value_threshold_range=(96, 128), p=0.25 * more),
    ]
    paper = _paper_effects(saturation=50, sigma=12, low=0.8, deviation=0.08, p=0.7)
    post = [
        ag.OneOf(
            [
                ag.Brightness(brightness_range=(0.6, 1.1), min_brightness=1, min_brightness_value=(90, 140)),
                ag.Gamma(gamma_range=(0.5, 1.6)),
                ag.ShadowCast(shadow_opacity_range=(0.2, 0.5), shadow_blur_kernel_range=(31, 61)),
            ],
            p=0.5,
        ),
        ag.DirtyDrum(line_width_range=(1, 3), line_concentration=0.1, noise_intensity=0.5, p=0.2 * more),
        ag.BadPhotoCopy(
            noise_value=(64, 160), noise_sparsity=(0.5, 0.9), noise_concentration=(0.05, 0.3), p=0.25 * more
        ),
        ag.OneOf(
            [ag.SubtleNoise(subtle_range=12), ag.Jpeg(quality_range=(15, 40) if harsh else (25, 70))],
            p=0.7 if not harsh else 1.0,
        ),
    ]
    return ag.AugraphyPipeline(ink_phase=ink, paper_phase=paper, post_phase=post)


def degrade(image: np.ndarray, pipeline: object) -> np.ndarray:
    """``image`` run through an augraphy ``pipeline`` (BGR or gray in, uint8 out).

    Runs in a fresh empty working folder: augraphy keeps the last 30 inputs in
    ``./augraphy_cache`` and its bleed-through draws a random one of them as the back page, so
    in a shared folder an image would depend on earlier runs (and litter the current folder).
    """
    with tempfile.TemporaryDirectory(prefix="augraphy-") as scratch, contextlib.chdir(scratch):
        return np.ascontiguousarray(pipeline(image))  # type: ignore[operator]


MIN_INK_CONTRAST = 40.0
"""Least gray-level gap between the paper and the ink (medians over the clean image's paper and
ink pixels) of a degraded line; fainter results are made again: augraphy's low-ink lines,
lighting and ink bleed together can wash a short line out completely, which nobody could read."""

LINE_TRIES = 6
"""How many degraded versions of a line are tried before the most contrasted one is kept."""


def ink_contrast(image: np.ndarray, ink: np.ndarray) -> float:
    """Median gray of the paper minus median gray of the ink (``ink``: boolean mask) in ``image``."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    return float(np.median(gray[~ink]) - np.median(gray[ink]))


def degrade_readable(clean: np.ndarray, build: Callable[[], object], sigma: float) -> np.ndarray:
    """``clean`` through a fresh pipeline from ``build`` then a Gaussian blur of ``sigma`` px,
    until the ink keeps :data:`MIN_INK_CONTRAST` (at most :data:`LINE_TRIES` times; else the
    most contrasted result)."""
    ink = (clean if clean.ndim == 2 else clean[:, :, 0]) < 128
    best, best_contrast = clean, -1.0
    for _ in range(LINE_TRIES):
        out = cv2.GaussianBlur(degrade(clean, build()), (5, 5), sigma)
        value = ink_contrast(out, ink)
        if value >= MIN_INK_CONTRAST:
            return out
        if value > best_contrast:
            best, best_contrast = out, value
    return best


# ----------------------------------------------------------------------------------------------
# Scenarios


@dataclass(frozen=True)
class Item:
    """A generated image (uint8 gray or BGR) and its true text."""

    image: np.ndarray
    text: str


def make_docs(rng: np.random.Generator) -> Item:
    """A printed page degraded by :func:`page_pipeline`."""
    clean, text = page(rng)
    return Item(degrade(clean, page_pipeline()), text)


def snippet(rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A clean snippet of 2-4 lines (BGR): light or dark theme, any colours; and its text."""
    face = pick_face(rng, REGULAR_FACES, int(rng.integers(13, 29)))
    width = int(rng.integers(260, 900))
    margin = int(rng.integers(6, 24))
    lines: list[str] = []
    while len(lines) < int(rng.integers(2, 5)):
        text = line_text(rng) if rng.random() < 0.6 else sentence(rng)
        lines += wrap(text, face, width - 2 * margin)
    lines = lines[: int(rng.integers(2, 5))]
    leading = int(face.size * rng.uniform(1.2, 1.6))
    height = 2 * margin + leading * len(lines)
    dark_theme = bool(rng.random() < 0.5)
    light, dark = rng.integers(200, 256, 3), rng.integers(0, 70, 3)
    background, ink = (dark, light) if dark_theme else (light, dark)
    canvas = Image.new("RGB", (width, height), tuple(int(v) for v in background))
    draw = ImageDraw.Draw(canvas)
    for row, line in enumerate(lines):
        draw.text((margin, margin + row * leading), line, font=face, fill=tuple(int(v) for v in ink))
    return cv2.cvtColor(np.asarray(canvas), cv2.COLOR_RGB2BGR), "\n".join(lines)


def make_snippets(rng: np.random.Generator) -> Item:
    """A clean snippet (:func:`snippet`); a quarter of them blurred (sigma 0.5-1 px) and saved as
    JPEG (quality 40-80)."""
    image, text = snippet(rng)
    if rng.random() < 0.25:
        image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.5, 1.0)))
        quality = int(rng.integers(40, 81))
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            image = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return Item(image, text)


def make_columns(rng: np.random.Generator) -> Item:
    """A page in 2-3 columns (:func:`column_page`) degraded by :func:`page_pipeline`."""
    clean, text = column_page(rng)
    return Item(degrade(clean, page_pipeline()), text)


def make_lines(rng: np.random.Generator) -> Item:
    """A printed line of 12-40 px type degraded by :func:`line_pipeline` (harsh for half of
    them), then blurred a little (sigma 0.3-1.0 px, harsh 0.3-1.4; washed-out results are made
    again, see :func:`degrade_readable`); half of them are then scanned at a lower resolution
    (55-100 %, never below 12 px type)."""
    size = int(rng.integers(12, 41))
    clean, text = printed_line(rng, size)
    harsh = bool(rng.random() < 0.5)
    sigma = float(rng.uniform(0.3, 1.4 if harsh else 1.0))
    out = degrade_readable(clean, functools.partial(line_pipeline, harsh), sigma)
    scale = max(float(rng.uniform(0.55, 1.0)), 12 / size) if rng.random() < 0.5 else 1.0
    if scale < 1.0:
        out = cv2.resize(out, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return Item(out, text)


def make_speckle(rng: np.random.Generator) -> Item:
    """A speckled code line (``synth.speckled_line``) with a varied text, bold face and noise level."""
    level = float(rng.uniform(0.5, 1.5))
    noise = synth.SpeckleNoise(
        dark=0.06 * level,
        light=0.02 * level,
        blobs=(int(3 * level) + 1, int(8 * level) + 2),
        strokes=(1, int(3 * level) + 2),
        grain=float(rng.uniform(4.0, 9.0)),
    )
    sample = synth.speckled_line(
        rng,
        speckle_text(rng),
        face_for=lambda size: pick_face(rng, BOLD_FACES, size),
        sizes=(30, 48),
        noise=noise,
    )
    return Item(sample.image, sample.text)


class _SeededSecrets:
    """Stands in for :mod:`secrets` inside ``captcha.image``, drawing from a seeded generator."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def randbelow(self, n: int) -> int:
        return self._random.randrange(n)

    def randbits(self, k: int) -> int:
        return self._random.getrandbits(k)

    def choice(self, seq: Sequence[object]) -> object:
        return self._random.choice(seq)


@contextlib.contextmanager
def _seeded_captcha(seed: int) -> Iterator[None]:
    import captcha.image

    original = captcha.image.secrets
    captcha.image.secrets = _SeededSecrets(seed)  # type: ignore[assignment]
    try:
        yield
    finally:
        captcha.image.secrets = original


def make_captcha(rng: np.random.Generator) -> Item:
    """An ``ImageCaptcha`` of 4-6 glyphs, 140-260 x 50-90 px, 2-4 bold faces, varied font sizes."""
    from captcha.image import ImageCaptcha

    text = glyph_text(rng, 4, 6)
    height = int(rng.integers(50, 91))
    width = int(rng.integers(max(140, 28 * len(text)), 261))
    paths = _available(BOLD_FACES)
    chosen = rng.choice(len(paths), size=min(len(paths), int(rng.integers(2, 5))), replace=False)
    base = int(height * rng.uniform(0.65, 0.85))
    sizes = tuple(sorted({base - 4, base, base + 4}))
    maker = ImageCaptcha(width=width, height=height, fonts=[str(paths[i]) for i in chosen], font_sizes=sizes)
    with _seeded_captcha(int(rng.integers(2**31))):
        image = maker.generate_image(text)
    return Item(cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR), text)


_DISTRACTORS = ("powered by clarity", "secure form check", "verify you are human", "www example net")


def default_pipeline() -> object:
    """augraphy's ``default_augraphy_pipeline()``, usable offline: its ``Scribbles`` effect tries
    to download a handwriting font and, when that fails, picks a system font through
    ``matplotlib.font_manager``, which must have been imported."""
    import augraphy as ag
    import matplotlib.font_manager  # noqa: F401

    return ag.default_augraphy_pipeline()


def make_docs_default(rng: np.random.Generator) -> Item:
    """A printed page degraded by augraphy's ``default_augraphy_pipeline()``."""
    clean, text = page(rng)
    return Item(degrade(clean, default_pipeline()), text)


def make_captcha_default(rng: np.random.Generator) -> Item:
    """``ImageCaptcha()`` with the package's own size, face and font sizes; 4-6 glyphs."""
    from captcha.image import ImageCaptcha

    text = glyph_text(rng, 4, 6)
    with _seeded_captcha(int(rng.integers(2**31))):
        image = ImageCaptcha().generate_image(text)
    return Item(cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR), text)


def make_bgtext(rng: np.random.Generator) -> Item:
    """A gray-band captcha (``synth.gray_band_captcha``) with a varied text, band and distractor."""
    low = int(rng.integers(80, 127))
    band = (low, low + int(rng.integers(2, 5)))
    text, distractor = glyph_text(rng, 5, 7), pick(rng, _DISTRACTORS)
    sample = synth.gray_band_captcha(rng, text, band=band, distractor=distractor)
    return Item(sample.image, sample.text)


SCENARIOS: dict[str, Callable[[np.random.Generator], Item]] = {
    "docs": make_docs,
    "lines": make_lines,
    "speckle": make_speckle,
    "captcha": make_captcha,
    "bgtext": make_bgtext,
    "docs-default": make_docs_default,
    "captcha-default": make_captcha_default,
    "columns": make_columns,
    "snippets": make_snippets,
}
"""Scenario folder name -> generator ``(rng) -> Item``."""


@functools.cache
def _numba_seeder() -> Callable[[int], None]:
    """A compiled function that seeds Numba's own random state (augraphy draws from it inside
    its compiled noise generators; Python's and NumPy's seeds do not reach it)."""
    import numba

    @numba.njit(cache=False)
    def seed(value: int) -> None:
        np.random.seed(value)
        random.seed(value)

    return seed


def generate(scenario: str, seed: int, split: str, index: int) -> Item:
    """Item ``index`` of ``split`` (``train`` or ``test``) of ``scenario`` for ``seed``.

    Seeds the Python, NumPy, OpenCV and Numba global random states (augraphy uses all four)
    from the same numbers, so the item does not depend on what was generated before it.
    """
    key = [seed, list(SCENARIOS).index(scenario), ("train", "test").index(split), index]
    state = int(np.random.SeedSequence(key).generate_state(1)[0]) % 2**31
    random.seed(state)
    np.random.seed(state)
    cv2.setRNGSeed(state)
    _numba_seeder()(state)
    return SCENARIOS[scenario](np.random.default_rng(key))


def write_set(out: Path, seed: int, scenarios: Sequence[str] = SCENARIO_NAMES) -> None:
    """Write ``train/`` and ``test/`` of each of ``scenarios`` for ``seed`` under ``out``."""
    for scenario in scenarios:
        for split, count in (("train", TRAIN), ("test", TEST)):
            folder = out / scenario / split
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                item = generate(scenario, seed, split, i)
                stem = folder / f"{scenario}-{split}-{i:02d}"
                ok, buf = cv2.imencode(".png", item.image, [cv2.IMWRITE_PNG_COMPRESSION, 6])
                if not ok:
                    raise SystemExit(f"{stem}.png: cannot encode PNG")
                Path(f"{stem}.png").write_bytes(buf.tobytes())
                Path(f"{stem}.gt.txt").write_text(item.text + "\n", encoding="utf-8")
        print(f"{out / scenario}: {TRAIN} train + {TEST} test (seed {seed})", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, required=True, help="random seed of the sets")
    parser.add_argument("--out", type=Path, required=True, help="output folder (one subfolder per scenario)")
    parser.add_argument(
        "--scenario",
        choices=list(SCENARIOS),
        action="append",
        help="only this scenario (repeatable; the extra ones are written only this way)",
    )
    args = parser.parse_args(argv)
    try:
        import augraphy  # noqa: F401
        import captcha  # noqa: F401
    except ImportError as error:
        parser.exit(2, f"{error.name} is not installed; see requirements-bench.txt\n")
    write_set(args.out, args.seed, args.scenario or SCENARIO_NAMES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
