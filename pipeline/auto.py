"""``--preset auto``: choose the cleaning and the engine for each image, with no hint.

The rule, measured on the corpus and on generated sets nobody tuned on (README, "Accuracy"):

1. **Page or line?** :func:`measure` counts the text rows of a black-and-white copy. An image
   at least :data:`PAGE_MIN_HEIGHT` px tall with :data:`PAGE_MIN_ROWS` or more rows is a page
   and gets the ``document`` preset (RapidOCR, with Tesseract as its second engine:
   :mod:`pipeline.reading`). A shorter image with 2 or more separate lines of text
   (:attr:`Layout.may_be_page`) is read as a page too, and kept as one when that reading has
   two lines or more and is not a number (a photo of a display holding several numbers is
   read as one line, step 6). When the copy shows no text row at all in an image tall enough
   to be a page (faint print on grainy paper), the lines of a local threshold decide whether it
   is tried as a page the same way. Neither is a crop enlarged: a gray-band captcha (one row
   of large characters in one tone over rows of background text, :func:`is_band_captcha`) or
   a speckled line (:func:`is_speckled_line`) is read with its preset at once. A page read as
   lines running up or down (its words' boxes taller than wide), or read with few of its
   letters in dictionary words, may lie on its side or upside down: its turned copies are read
   too (:func:`upright`, :mod:`pipeline.upright`), and one is kept, with a ``rotate`` stage in
   front of the preset, when it reads as more real words in order.
2. **Anything else** (one line, a label, a captcha, a digit crop) is read as it is by the
   ``text-line`` preset, whose cleaning runs only for Tesseract: RapidOCR, the engine the
   shipped presets use, reads such crops best uncleaned. Its second engine, Tesseract on that
   cleaning, replaces the reading only when it reads a line of real words
   (``ocr.second_word_share``), as for small print RapidOCR reads into debris.
3. **Characters in one tone over background text?** A crop not read as a number whose tone
   band (the gray levels the ``gray-band-captcha`` preset keeps) leaves much ink of other tones,
   far from the band and in many text-sized pieces (:func:`has_background_text`), is a captcha
   drawn over distractor text: it is read again with that preset.
4. **Specks on gray paper?** A crop not read as a number on gray paper (:data:`SPECKLE_MAX_PAPER`)
   strewn with specks (:data:`SPECKLE_MIN_DENSITY`, :func:`is_speckled`) is read again with the
   ``speckled-line`` preset.
5. **A few lines?** Anything else too short to be a page whose copy shows 2 separate lines or 3
   text rows (:attr:`Layout.may_be_lines`: a screenshot, a label, a receipt), whose one-line
   reading the engine is unsure of (below :data:`LINE_MAX_CONFIDENCE`, mean per-character
   confidence), is read as a page too; that reading is kept when it has 2 lines or more, is not
   a number, and the engine is :data:`LINES_CONFIDENCE_GAP` points surer of it. Made to read
   several lines as one, an engine squeezes them into a few characters of debris.
6. **A number?** When everything read, but spaces and number punctuation (``.,-:/``), is
   digits, the image is a code, a counter or a meter: a small crop
   (:data:`DIGIT_CROP_MAX_HEIGHT`) is read again with the ``meter-digit`` preset, anything
   else again with a whitelist of digits and number punctuation (:data:`NUMBER_CHARS`). In
   RapidOCR the whitelist works inside the decoder: it only replaces a character that is not
   allowed by the likeliest allowed one.

Choosing among cleanings by the engine's confidence was measured and rejected: Tesseract's
confidence picked worse presets on held-out captchas, and RapidOCR's picked the worse of raw
and cleaned as often as the better one. Step 5 compares two layouts of the same image, not two
cleanings, and only by a wide margin, when the one-line reading is unsure: on the development
images the one-line reading of a snippet of several lines was 18-100 points less sure than its
page reading (62 of 64 below 65), and of a captcha or a line never more than 2 points; codes
over background text can look like snippets this way (one-line readings 56-98 sure, 0-42 points
less than as a page), which is why step 3 comes first.

The choice is reported (:class:`AutoReading`): which preset, which engine, and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from .ocr import OcrResult
from .ocr.correct import DIGITS as DIGITS  # both re-exported for callers of pipeline.auto
from .ocr.correct import NUMBER_CHARS as NUMBER_CHARS
from .ocr.correct import is_number
from .ocr.dictionary import dictionary_letters
from .ocr.result import char_confidence
from .preset import Preset, load_preset
from .reading import only_engine, read_once, read_preset, second_opinion, with_ocr
from .runner import Result, as_input
from .shipped import presets_folder
from .stages._image import commonest_level, evened_ink, gray_within, weighted_median
from .stages.geometry import text_height
from .stages.tone import ToneBandParams, find_tone_band
from .upright import keeps_turn, runs_vertically, turn_of, turned, turns_to_try

AUTO = "auto"
"""The preset name (``--preset auto``) that asks for a per-image choice."""

PRESETS_DIR = presets_folder()
"""Where the shipped presets are (``presets/`` beside the ``pipeline`` package)."""

PAGE_MIN_ROWS = 5
"""Fewest text-height strips holding glyphs (:func:`_glyph_rows`) that make an image a page."""
PAGE_MIN_HEIGHT = 150
"""Shortest image height that can be a page (px)."""
LINES_MIN_ROWS = 3
"""Fewest text rows that make a shorter image possibly several lines (a line fills one or two)."""
LINE_MAX_CONFIDENCE = 70.0
"""Least sure the engine may be of a short image read as one line (mean per-character confidence,
0-100) for it to be read as several lines instead (:func:`several_lines`)."""
LINES_CONFIDENCE_GAP = 20.0
"""How much surer (mean per-character confidence, 0-100 points) the engine must be of an image
read as a page than of it read as one line for several lines to be kept (:func:`several_lines`)."""
DIGIT_CROP_MAX_HEIGHT = 120
"""Tallest image read as a meter or counter crop when it holds digits (px)."""
MEASURE_WIDTH = 1000
"""Widest copy :func:`measure` looks at (px); wider images are reduced first."""
BAND_PRESET = "gray-band-captcha"
"""The preset for characters in one tone over background text; its ``tone_band`` finds the tone."""
SPECKLE_PRESET = "speckled-line"
"""The preset for a line on gray paper strewn with specks."""
SPECKLE_MAX_AREA = 12
"""Largest ink piece that counts as a speck (px, of the copy :func:`measure` looks at)."""
SPECKLE_MIN_DENSITY = 80
"""Fewest specks per 10,000 px of the image for it to be speckled."""
SPECKLE_MAX_PAPER = 215
"""Lightest paper that counts as gray (its commonest gray level, dark-on-light copy, 0-255)."""
BACKGROUND_TEXT_CLEARANCE = 3
"""Ink this close to the tone band's pixels is the characters' own edge, not background (px)."""
BACKGROUND_TEXT_MIN_SHARE = 0.2
"""Least share of the image's ink that lies clear of the tone band for background text, ratio."""
BACKGROUND_TEXT_MIN_PIECES = 40
"""Fewest text-sized pieces (4 px to half the characters' height) of that ink for background text."""
LINE_MIN_ASPECT = 3.0
"""Least width of an image, in times its height, for :func:`is_speckled_line` to take it for a line."""
SPECKLE_TEST_LETTERS = 32
"""Height :func:`is_speckled_line` reduces a line's letters to (px), the generated lines' own."""
SPECKLE_REDUCED_MIN_DENSITY = 40
"""Fewest specks per 10,000 px of that reduced copy: an enlarged line's faint specks fade in the
reduction, so half of :data:`SPECKLE_MIN_DENSITY` (no image of another kind passes at 30)."""
BAND_TEST_HEIGHT = 80
"""Height :func:`is_band_captcha` reduces an image to first (px), a gray-band captcha's own."""
BAND_ROW_MAX_GLYPHS = 10
"""Most characters :func:`is_band_captcha` takes for one row of a captcha's code."""
BAND_ROW_HEIGHTS = (0.2, 0.5)
"""Shortest and tallest characters of a captcha's row for :func:`is_band_captcha`, as a share of
the image's height (ratio)."""


@dataclass(frozen=True)
class Layout:
    """What :func:`measure` found: the image size and how many text rows it holds."""

    height: int
    width: int
    rows: int
    lines: int = 0
    """Runs of text rows separated by an empty one: separate lines of text (a line may fill two rows)."""

    @property
    def is_page(self) -> bool:
        """True for a page of several text lines (see :data:`PAGE_MIN_ROWS`)."""
        return self.rows >= PAGE_MIN_ROWS and self.height >= PAGE_MIN_HEIGHT

    @property
    def may_be_page(self) -> bool:
        """True for a short page: 2 separate lines or more, too few rows for :attr:`is_page`."""
        return not self.is_page and self.lines >= 2 and self.height >= PAGE_MIN_HEIGHT

    @property
    def may_be_lines(self) -> bool:
        """True for an image under :data:`PAGE_MIN_HEIGHT` that may hold several lines: 2 separate
        lines, or :data:`LINES_MIN_ROWS` rows (lines set close together leave no empty row)."""
        return (
            self.height < PAGE_MIN_HEIGHT
            and not self.is_page
            and (self.lines >= 2 or self.rows >= LINES_MIN_ROWS)
        )


@dataclass(frozen=True)
class AutoReading:
    """The outcome of :func:`read_auto`: the chosen preset, its run and its reading.

    Attributes
    ----------
    preset:
        The shipped preset that was used (its ``name`` says which), with any engine override and
        whitelist applied.
    result:
        The run of that preset on the image (every stage's output).
    ocr:
        What the engine read from ``result.final``.
    reason:
        One sentence saying why this preset was chosen.
    layout:
        The measured size and text rows (``None`` when a preset was given, not chosen).
    """

    preset: Preset
    result: Result
    ocr: OcrResult
    reason: str = ""
    layout: Layout | None = None
    stem: str = ""
    """The shipped preset's file name without ``.yaml`` (empty when a preset was given)."""

    @property
    def label(self) -> str:
        """For people: ``"captcha, read by RapidOCR"``; ``"document, turned 180° clockwise, read
        by RapidOCR"`` when the preset turns the image (:func:`~pipeline.upright.turn_of`)."""
        turn = turn_of(self.preset)
        turned_by = f", turned {turn}° clockwise" if turn else ""
        engine = engine_title(self.ocr.engine or self.preset.ocr.engine)
        return f"{self.preset.name}{turned_by}, read by {engine}"


def engine_title(engine: str) -> str:
    """An engine's name for people: RapidOCR, or Tesseract (for tesserocr, pytesseract and auto)."""
    return "RapidOCR" if engine == "rapidocr" else "Tesseract"


@cache
def shipped_preset(stem: str) -> Preset:
    """The shipped preset ``presets/<stem>.yaml`` (loaded once per process)."""
    return load_preset(PRESETS_DIR / f"{stem}.yaml")


def measure(image: np.ndarray) -> Layout:
    """Estimate the text rows of ``image`` from the glyphs of an Otsu black-and-white copy.

    The copy is :func:`~pipeline.stages._image.evened_ink`'s, at most :data:`MEASURE_WIDTH` px
    wide, its lighting evened out (so shading does not read as ink); rows are counted by
    :func:`_glyph_rows`. When that finds at most one row in an image tall enough to be a page,
    the lines of a local (31 px mean, 10 levels below it) threshold of a 3 px median-blurred copy
    are counted instead, and ``rows`` stays as found: the image may be a page
    (:attr:`Layout.may_be_page`), to be confirmed by its reading.
    """
    image = as_input(image)
    height, width = image.shape[:2]
    ink, small, _ = evened_ink(image, MEASURE_WIDTH)
    rows, lines = _glyph_rows(ink)
    if rows <= 1 and height >= PAGE_MIN_HEIGHT:
        # Otsu found no text, or one row: on a faint page on grainy paper it splits the grain, or
        # the page from its margins; over a dark stamp ("DRAFT") it keeps only the stamp. A local
        # threshold may find the lines; they only make it a possible page (read as one, kept if
        # that reading is lines of words: a display's digits are not).
        local = cv2.adaptiveThreshold(
            cv2.medianBlur(small, 3), 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 31, 10
        )
        _, lines = _glyph_rows(1 - local)
    return Layout(height=height, width=width, rows=rows, lines=lines)


def _glyph_rows(ink: np.ndarray) -> tuple[int, int]:
    """Text-height slices of the image that hold at least 3 glyph-sized ink components.

    Components at least 4 px and at most a fifth of the image tall (and at most a third as wide)
    are glyph candidates; the median of their heights is the text height; those within half to
    twice it are glyphs. Slicing the image into strips one text height tall, a strip counts when
    3 or more glyphs are centred in it: a line of text fills one or two strips, a page one per
    line, and scattered speckle, a picture or a display's few large digits hardly any. Returns
    the strips counted and how many runs of them an empty strip separates (the lines).
    """
    _, _, stats, centres = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    heights, widths = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    candidate = (heights >= 4) & (heights <= ink.shape[0] / 5) & (widths <= ink.shape[1] / 3)
    if candidate.sum() < 3:
        return 0, 0
    text_height = float(np.median(heights[candidate]))
    glyph = candidate & (heights >= text_height / 2) & (heights <= text_height * 2)
    strips = (centres[1:, 1][glyph] // text_height).astype(int)
    full = np.bincount(strips) >= 3
    starts = full & ~np.concatenate([[False], full[:-1]])
    return int(full.sum()), int(starts.sum())


def band_params() -> ToneBandParams:
    """The parameters of the :data:`BAND_PRESET` preset's ``tone_band`` stage."""
    params = next(s.params for s in shipped_preset(BAND_PRESET).stages if s.stage == "tone_band")
    if not isinstance(params, ToneBandParams):  # the registry validates params by stage name
        raise TypeError(f"{BAND_PRESET}: tone_band has {type(params).__name__} parameters")
    return params


@dataclass(frozen=True)
class _Band:
    """The :data:`BAND_PRESET` preset's tone band in a gray copy: its pixels, the 8-connected
    pieces they make (OpenCV's stats and centres, background row dropped) and the characters'
    height (px): that of the piece holding the band's median pixel, as the characters' pieces
    hold most of the band's pixels, however many small fringes of other ink pass through it."""

    mask: np.ndarray
    stats: np.ndarray
    centres: np.ndarray
    char_height: float


def _band(gray: np.ndarray) -> _Band | None:
    """The tone band of ``gray`` (see :class:`_Band`), or ``None`` when it has none."""
    band = find_tone_band(gray, band_params())
    if band is None:
        return None
    mask = ((gray >= band[0]) & (gray <= band[1])).astype(np.uint8)
    _, _, stats, centres = cv2.connectedComponentsWithStats(mask, connectivity=8)
    heights, areas = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_AREA]
    if not areas.size:
        return None
    return _Band(mask, stats[1:], centres[1:], weighted_median(heights, areas))


def has_background_text(image: np.ndarray) -> bool:
    """True when ``image`` looks like characters in one tone drawn over text in other tones.

    The tone band is the one the :data:`BAND_PRESET` preset's ``tone_band`` stage would keep (on
    a copy at most :data:`MEASURE_WIDTH` px wide), the characters' height that of
    :class:`_Band`. Ink is whatever differs from the background (the commonest
    level) by more than the stage's ``background_margin``. The image has background text when
    at least :data:`BACKGROUND_TEXT_MIN_SHARE` of that ink lies more than
    :data:`BACKGROUND_TEXT_CLEARANCE` px from any band pixel, in at least
    :data:`BACKGROUND_TEXT_MIN_PIECES` pieces 4 px to half the characters' height tall (and 6 px
    or more in area). Thresholds set on the development sets' seeds 101-606; it then holds for
    354 of their 360 gray-band captchas and for 2 of 1308 generated and real captchas,
    displays, meters, speckled and printed lines (2 LCD photos, read as numbers; README, "Auto").
    Pages are another matter (14 of 56 generated ones pass: their stains and bleed-through are
    ink in other tones), so it is asked only of crops, here and in the tuner, and of pages only
    with :func:`is_band_captcha`'s test of one row of characters.
    """
    gray, _ = gray_within(image, MEASURE_WIDTH)
    band = _band(gray)
    return band is not None and _background_text(gray, band)


def _background_text(gray: np.ndarray, band: _Band) -> bool:
    """:func:`has_background_text` of ``gray`` (the reduced copy), whose tone band is ``band``."""
    ink = np.abs(gray.astype(np.int16) - commonest_level(gray)) > band_params().background_margin
    side = 2 * BACKGROUND_TEXT_CLEARANCE + 1
    near = cv2.dilate(band.mask, np.ones((side, side), np.uint8)).astype(bool)
    clear = ink & ~near
    if clear.sum() < BACKGROUND_TEXT_MIN_SHARE * max(int(ink.sum()), 1):
        return False
    _, _, stats, _ = cv2.connectedComponentsWithStats(clear.astype(np.uint8), connectivity=8)
    heights, areas = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_AREA]
    pieces = (heights >= 4) & (heights <= band.char_height / 2) & (areas >= 6)
    return int(pieces.sum()) >= BACKGROUND_TEXT_MIN_PIECES


def is_band_captcha(image: np.ndarray) -> bool:
    """True for a gray-band captcha of any size: one row of large characters in one tone over
    background text.

    Enlarged twice or more, such a captcha is 150 px tall or more and its background text makes
    5 rows or more: :func:`measure` takes it for a page, or for a short page of several lines,
    and read as one it gives the background text (CER 1.0 on the 96 gray-band captchas of
    development seeds 4101-4404 enlarged 2x). The test looks at a copy reduced to
    :data:`BAND_TEST_HEIGHT` px tall, a captcha's own size. Its characters are the tone band's
    pieces 0.6 to 1.4 times the characters' height (:class:`_Band`): 3 to
    :data:`BAND_ROW_MAX_GLYPHS` of them, holding at least half of the band's pixels, their
    centres within one character height of each other, the characters' height within
    :data:`BAND_ROW_HEIGHTS` of the copy's; and the copy or the image as it is has background
    text (:func:`has_background_text`: enlarged, some captchas pass at one size and not at the
    other). It holds for 83 and 90 of those 96 captchas enlarged 2x and 3x (87 and 90 of the 96
    held-back ones of seeds 3434-3737; 79, 87, 83 and 88 before the tone band's ``core``), and
    for none of 644 generated and real images of other
    kinds that :func:`measure` takes for pages or short pages, nor of 394 more enlarged 2x and
    3x (captchas, lines, speckled lines, digits, snippets, pages).
    """
    gray, _ = gray_within(image, MEASURE_WIDTH)
    reduced = gray.shape[0] > BAND_TEST_HEIGHT
    if reduced:
        factor = BAND_TEST_HEIGHT / gray.shape[0]
        gray = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    band = _band(gray)
    if band is None or not BAND_ROW_HEIGHTS[0] <= band.char_height / gray.shape[0] <= BAND_ROW_HEIGHTS[1]:
        return False
    heights, areas = band.stats[:, cv2.CC_STAT_HEIGHT], band.stats[:, cv2.CC_STAT_AREA]
    glyphs = (heights >= 0.6 * band.char_height) & (heights <= 1.4 * band.char_height)
    rows = band.centres[glyphs, 1]
    return (
        3 <= int(glyphs.sum()) <= BAND_ROW_MAX_GLYPHS
        and areas[glyphs].sum() * 2 >= areas.sum()
        and float(rows.max() - rows.min()) <= band.char_height
        and (_background_text(gray, band) or (reduced and has_background_text(image)))
    )


def is_speckled(image: np.ndarray, min_density: float = SPECKLE_MIN_DENSITY) -> bool:
    """True for text on gray paper strewn with specks, like seed thread 001's stamped line.

    On :func:`~pipeline.stages._image.evened_ink`'s copy (as :func:`measure` makes it): the
    paper, the copy's commonest gray level, is at most :data:`SPECKLE_MAX_PAPER`, and ink pieces
    of at most :data:`SPECKLE_MAX_AREA` px number at least ``min_density`` per 10,000 px
    (default :data:`SPECKLE_MIN_DENSITY`). Thresholds set on the tuning halves of seeds
    101-303; it then holds for all 312 generated speckled lines and for 1 of 1452 generated
    and real captchas, gray-band captchas, lines, displays and meters (a printed line on gray
    paper; README, "Auto"). Real captchas strewn with dots (receita, 100-166 specks per
    10,000 px) are on white.
    """
    ink, copy, _ = evened_ink(image, MEASURE_WIDTH)
    if commonest_level(copy) > SPECKLE_MAX_PAPER:
        return False
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    specks = int((stats[1:, cv2.CC_STAT_AREA] <= SPECKLE_MAX_AREA).sum())
    return specks * 10_000 >= min_density * ink.size


def is_speckled_line(image: np.ndarray) -> bool:
    """True for one line on gray paper strewn with specks (:func:`is_speckled`) at any size.

    Enlarged twice or more, such a line's specks are too big for :func:`is_speckled` and so
    many that :func:`measure` counts dozens of text rows: it was read as a page (``auto``'s mean
    CER 0.78 and 0.98 on 48 development lines enlarged 2x and 3x, where RapidOCR reads them as
    they are 0.05). A line here is at least :data:`LINE_MIN_ASPECT` times as wide as tall, with
    letters (``rescale``'s ``weighted`` text height, which the specks do not outvote) a fifth to
    half as tall as the image; :func:`is_speckled` is then asked of a copy whose letters are
    reduced to :data:`SPECKLE_TEST_LETTERS` px, the generated lines' own size (with
    :data:`SPECKLE_REDUCED_MIN_DENSITY` when it was reduced).
    """
    height, width = image.shape[:2]
    if width < LINE_MIN_ASPECT * height:  # first: a page is spared measuring its letters
        return False
    letters = text_height(image, measure="weighted")
    if letters is None or not 0.2 <= letters / height <= 0.5:
        return False
    factor = SPECKLE_TEST_LETTERS / letters
    if factor >= 1.0:
        return is_speckled(image)
    reduced = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    return is_speckled(reduced, SPECKLE_REDUCED_MIN_DENSITY)


def read_auto(image: np.ndarray, *, engine: str | None = None) -> AutoReading:
    """Choose a shipped preset for ``image``, run it and read the result (see the module docs).

    Parameters
    ----------
    image:
        uint8 gray or BGR, as :func:`pipeline.read_image` returns.
    engine:
        Read with this engine instead of each preset's own (an ``ocr.engine`` value).
    """
    layout = measure(image)
    page_like = layout.is_page or layout.may_be_page
    enlarged = _special_crop(image, engine, layout, enlarged=True) if page_like else None
    if enlarged is not None:
        return enlarged
    if layout.is_page:
        whole = _read(image, "document", engine, layout, f"a page (text on {layout.rows} rows)")
        return upright(image, engine, whole)
    page = _lines_read_as_page(image, engine) if layout.may_be_page else None
    if page is not None:
        return _kept_page(image, page, f"a short page ({layout.lines} separate lines of text)", layout)
    first = _read(image, "text-line", engine, layout, "one line or a crop, read as it is")
    number = is_number(first.ocr.text)
    special = None if number else _special_crop(image, engine, layout)
    if special is not None:
        return special
    lines = several_lines(image, engine, layout, first.ocr) if layout.may_be_lines else None
    if lines is not None:
        return lines
    if not number:
        return first
    if layout.height <= DIGIT_CROP_MAX_HEIGHT and layout.rows <= 1:
        why = f"a small crop ({layout.height} px tall) read as digits: a meter or counter"
        return _read(image, "meter-digit", engine, layout, why)
    why = "a line read as a number: read again with only digits and number punctuation allowed"
    return _read(image, "text-line", engine, layout, why, whitelist=NUMBER_CHARS)


TURN_REASONS = {
    90: "a page lying on its side, its lines running bottom to top",
    180: "a page upside down",
    270: "a page lying on its side, its lines running top to bottom",
}
"""What :func:`upright` reports for each turn it keeps (clockwise degrees): what it saw; the
turn itself is in :attr:`AutoReading.label` ("document, turned 180° clockwise, ...")."""


def upright(image: np.ndarray, engine: str | None, page: AutoReading) -> AutoReading:
    """``page`` (the ``document`` preset's reading of ``image``), or the reading of a turned copy
    when the page lies on its side or upside down (step 1 of the module docs).

    The turns :func:`~pipeline.upright.turns_to_try` names are read by the preset's first
    engine with a ``rotate`` stage in front, and by its second engine too when
    :func:`~pipeline.upright.keeps_turn` does not keep the first's reading (a hard page RapidOCR
    reads poorly even upright); of the readings it keeps, the one with the most dictionary
    letters is kept, with the second engine asked. An upright page costs no extra reading
    unless fewer than :data:`~pipeline.upright.UPSIDE_DOWN_MAX_FRACTION` of its letters are in
    dictionary words.
    """
    lang = page.preset.ocr.lang
    best: tuple[int, int, tuple[Preset, Result, OcrResult]] | None = None
    to_try = list(turns_to_try(page.ocr, lang))
    for clockwise in to_try:
        preset = turned(_preset("document", engine), clockwise)
        read = (preset, *read_once(image, preset))
        if clockwise == 180 and runs_vertically(read[2]):  # the page as it is was read as rows of debris
            to_try += [90, 270]
        kept = keeps_turn(page.ocr.text, read[2], clockwise, lang)
        if not kept:  # a hard page Tesseract reads better than RapidOCR
            read = second_opinion(image, *read)
            kept = keeps_turn(page.ocr.text, read[2], clockwise, lang)
        found = dictionary_letters(read[2].text, lang)
        if kept and (best is None or found > best[1]):
            best = (clockwise, found, read)
    if best is None:
        return page
    return _kept_page(image, best[2], TURN_REASONS[best[0]], page.layout)


_CROP_KINDS: dict[bool, tuple[tuple[Callable[[np.ndarray], bool], str, str], ...]] = {
    False: (
        (
            has_background_text,
            BAND_PRESET,
            "characters in one shade over background text in other shades: only their shade is kept",
        ),
        (is_speckled, SPECKLE_PRESET, "a line on gray paper strewn with specks: the specks are filtered out"),
    ),
    True: (
        (
            is_band_captcha,
            BAND_PRESET,
            "one row of characters in one shade over rows of background text: only their shade is kept",
        ),
        (
            is_speckled_line,
            SPECKLE_PRESET,
            "one line on gray paper strewn with specks, enlarged: the specks are filtered out",
        ),
    ),
}
"""The kinds of crop with a preset of their own, by whether the image was taken for a page (an
enlarged crop): the test, the preset and the reason reported, in the order asked."""


def _special_crop(
    image: np.ndarray, engine: str | None, layout: Layout, *, enlarged: bool = False
) -> AutoReading | None:
    """``image`` read by the preset for its kind of crop (characters over background text, a line
    strewn with specks: steps 3 and 4 of the module docs; with ``enlarged``, of an image taken
    for a page or a short page, their tests for any size), or ``None`` when it is neither."""
    for test, stem, why in _CROP_KINDS[enlarged]:
        if test(image):
            return _read(image, stem, engine, layout, why)
    return None


def several_lines(
    image: np.ndarray, engine: str | None, layout: Layout, line: OcrResult
) -> AutoReading | None:
    """``image`` read as a page (the ``document`` preset) when the engine is unsure of ``line``,
    the image read as one line (below :data:`LINE_MAX_CONFIDENCE`), and the page reading has 2
    lines or more, is not a number, and is :data:`LINES_CONFIDENCE_GAP` points surer; else
    ``None`` (and the page is not read when ``line`` is sure).

    A screenshot, a label or a receipt of a few lines is too short to be taken for a page, and
    an engine made to read it as one line squeezes the lines into one: RapidOCR reads a few
    characters of debris, with low confidence. A captcha or a line with bits of its neighbours
    is read about as surely either way, or not as several lines at all. A code over background
    text can look like a few lines this way, which is why :func:`read_auto` sends those to their
    own preset first, and why a one-line reading the engine is sure of is not questioned.
    """
    sure = char_confidence(line.words)
    if sure >= LINE_MAX_CONFIDENCE:
        return None
    page = _lines_read_as_page(image, engine)
    if page is None:
        return None
    as_lines = char_confidence(page[2].words)
    if as_lines - sure < LINES_CONFIDENCE_GAP:
        return None
    why = f"a few lines of text: {as_lines:.0f} % sure read as lines, {sure:.0f} % as one line"
    return _kept_page(image, page, why, layout)


def _lines_read_as_page(image: np.ndarray, engine: str | None) -> tuple[Preset, Result, OcrResult] | None:
    """The ``document`` preset, its run and its first engine's reading of ``image``, when that
    reading has 2 lines or more and is not a number; else ``None``. The first engine decides: a
    second engine's reading of a display's glare can hold a few chance dictionary words where
    the first read a number."""
    preset = _preset("document", engine)
    result, reading = read_once(image, preset)
    if len(reading.text.splitlines()) < 2 or is_number(reading.text):
        return None
    return preset, result, reading


def _kept_page(
    image: np.ndarray, page: tuple[Preset, Result, OcrResult], why: str, layout: Layout | None
) -> AutoReading:
    """``image`` read as a page (:func:`_lines_read_as_page`), with the ``document`` preset's
    second engine asked too (:func:`~pipeline.reading.second_opinion`)."""
    return AutoReading(*second_opinion(image, *page), why, layout, "document")


def read(
    image: np.ndarray, preset: Preset | str, *, engine: str | None = None, cache: bool = True
) -> AutoReading:
    """Run ``preset`` (or choose one, for :data:`AUTO`) on ``image`` and read the result.

    The one way the CLI, the evaluation and the benchmarks read an image: a :class:`Preset` is
    run as it is (``engine``, when given, replaces its engine); the string ``"auto"`` goes
    through :func:`read_auto`. ``cache=False`` computes every stage afresh (for timings).
    """
    if isinstance(preset, str):
        if preset != AUTO:
            raise ValueError(f"unknown preset name {preset!r}; pass a Preset or {AUTO!r}")
        return read_auto(image, engine=engine)
    return AutoReading(*read_preset(image, only_engine(preset, engine), **({} if cache else {"cache": None})))


def _read(
    image: np.ndarray,
    stem: str,
    engine: str | None,
    layout: Layout,
    reason: str,
    *,
    whitelist: str | None = None,
) -> AutoReading:
    preset = _preset(stem, engine)
    if whitelist is not None:
        preset = with_ocr(preset, whitelist=whitelist, blacklist="")
    return AutoReading(*read_preset(image, preset), reason, layout, stem)


def _preset(stem: str, engine: str | None) -> Preset:
    """The shipped preset ``stem``, read by ``engine`` alone when one is given."""
    return only_engine(shipped_preset(stem), engine)
