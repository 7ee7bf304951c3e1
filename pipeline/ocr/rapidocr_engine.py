"""The learned engine: RapidOCR (PP-OCR detection and recognition models on onnxruntime).

RapidOCR reads many hard images (captchas, digit crops, LCDs) far better than Tesseract as
they are, and is slower on whole pages. The models are the ones shipped inside the
``rapidocr`` wheel; their paths are passed explicitly, so the package's download code is
never reached: a missing model file is an :class:`~pipeline.errors.EngineNotAvailable`
error naming the file, not a network request.

How :class:`~pipeline.ocr.options.OcrOptions` maps onto RapidOCR
------------------------------------------------------------------

``psm``
    :data:`LINE_MODES` (7 line, 8 word, 9 circled word, 10 character, 13 raw line) read the
    whole image as one line with the recognition model only, after cutting off empty margins
    above and below the text (:func:`text_band`): the model sees its input 48 px high, so
    the text then fills more of it. :data:`PAGE_MODES` (1, 3, 4, 5,
    6, 11, 12) first detect the text lines, then read each one; the pieces are put in reading
    order by :func:`~pipeline.ocr.layout.reading_order` (columns first, then rows, pieces of
    one row joined left to right; psm 6, "one uniform block", finds no columns), from their
    boxes in the page's own frame (:func:`~pipeline.ocr.layout.upright_boxes`: a skewed page's
    lines do not interleave). 0 and 2 read no text, as in Tesseract.
``whitelist`` / ``blacklist``
    Applied inside the decoder: the recognition model scores every character of its
    alphabet at each step, and characters outside the whitelist (or in the blacklist) are
    given probability 0 before the best one is chosen. A digits-only whitelist therefore
    never returns a letter: where a letter was likeliest, the likeliest digit (or nothing)
    is read instead. The space between words is always allowed, as in Tesseract.
``lang``
    The multilingual model reads Latin-script and Chinese/Japanese text at once; ``lang``
    must name only languages it reads (:data:`RAPIDOCR_LANGUAGES`; any other is refused with
    one line) and narrows the alphabet the same way as the whitelist: ``eng`` reads printable
    ASCII and a few symbols with no ASCII look-alike (:data:`SYMBOLS`: ``£ € ° ©`` ...), other
    Latin-script languages add accented letters and typographic punctuation,
    ``chi_sim``/``chi_tra``/``jpn`` read everything (:func:`script_allows`).
``oem``, ``variables``, ``dpi``, ``alternative_psm``
    Tesseract's alone: ignored by this engine (a preset tuned for Tesseract can be read with
    RapidOCR unchanged).
``timeout_s``
    onnxruntime cannot be interrupted; a call that took longer than ``timeout_s`` still
    returns its reading. (Lines take 10-60 ms; a 2 MP page 1.5-4.5 s on 2 cores.)

Confidences are RapidOCR's mean character probabilities times 100, per word.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

import cv2
import numpy as np

from ..errors import EngineNotAvailable, ImageError, LanguageNotInstalled
from .dictionary import words_of
from .layout import Box, Span, broken_ends, reading_order, split_at, upright_boxes, word_gutters
from .options import OcrOptions
from .result import OcrResult, Word

LINE_MODES = frozenset({7, 8, 9, 10, 13})
"""Page segmentation modes read as one line by the recognition model alone."""
PAGE_MODES = frozenset({1, 3, 4, 5, 6, 11, 12})
"""Page segmentation modes read by detecting text lines first."""
NO_TEXT_MODES = frozenset({0, 2})
"""Modes that read no text in Tesseract either (orientation / layout only)."""

RAPIDOCR_LANGUAGES = frozenset(
    {
        "eng", "deu", "fra", "spa", "ita", "por", "nld", "dan", "nor", "swe", "fin", "isl",
        "pol", "ces", "slk", "slv", "hrv", "bos", "hun", "ron", "lit", "lav", "est", "cat",
        "glg", "eus", "gle", "cym", "mlt", "ltz", "lat", "ind", "msa", "tur", "aze", "afr",
        "chi_sim", "chi_tra", "jpn", "osd",
    }
)  # fmt: skip
"""Tesseract language names whose script the bundled multilingual PP-OCR model reads."""

CJK_LANGUAGES = frozenset({"chi_sim", "chi_tra", "jpn"})
"""Languages whose reading is not narrowed to Latin script."""
LATIN_PUNCTUATION = "\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e\u2026\u20ac"
"""Typographic punctuation Latin-script languages may read besides ASCII: dashes, quotes, ellipsis, euro."""

SYMBOLS = "\u00a2\u00a3\u00a5\u20ac\u00a9\u00ae\u00b0\u00a7\u00b1\u00bc\u00bd\u00be"
"""Symbols English text uses that have no ASCII look-alike: cent, pound, yen, euro, copyright,
registered, degree, section, plus-minus and the common fractions. Every Latin language reads them."""

MODEL_FILES = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}
"""The model files of the ``rapidocr`` wheel used, by RapidOCR config section."""

DETECTION = {"Det.box_thresh": 0.3}
"""RapidOCR text-detector settings that differ from the package's defaults.

``box_thresh`` is the least mean text probability (0..1) inside a detected box for the box to
be kept (0.5 by default). At 0.3 the detector keeps the faint or grainy lines of degraded pages
that it found but scored low, and on wavy lines it more often keeps two boxes where it
otherwise kept one box over parts of two lines (whose text then comes out as one of them). Raw
RapidOCR on 304 development pages (seeds 101-2828 and the corpus' four page folders, psm 3):
mean CER 0.0995 -> 0.0940, 26 pages better and 12 worse by more than 0.005; the corpus pages
0.108 either way. The README gives the held-back figures.
"""

INSTALL_ADVICE = (
    "Install it with `pip install rapidocr onnxruntime` (make run does), or choose a Tesseract engine."
)


THREADS_ENV = "CLARITY_RAPIDOCR_THREADS"
"""Environment variable: onnxruntime threads per call (default -1 = one per core; batch workers set 1)."""


def threads() -> int:
    """The onnxruntime thread count from :data:`THREADS_ENV` (-1, all cores, when unset or invalid)."""
    try:
        return max(-1, int(os.environ.get(THREADS_ENV, "-1")))
    except ValueError:
        return -1


def model_dir() -> Path:
    """The ``models`` folder inside the installed ``rapidocr`` package."""
    import rapidocr

    return Path(rapidocr.__file__).parent / "models"


def model_paths() -> dict[str, Path]:
    """Path of each model file RapidOCR is given, by config section (``Det``, ``Rec``, ``Cls``)."""
    folder = model_dir()
    return {section: folder / name for section, name in MODEL_FILES.items()}


class _MaskedDecoder:
    """RapidOCR's CTC decoder with a character mask applied to the probabilities first.

    ``mask`` is a boolean vector over the model's alphabet (True = may be read) or ``None``
    for no restriction; it is set by the engine, under its lock, before each call.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.character: list[str] = inner.character
        self.mask: np.ndarray | None = None

    def __call__(self, preds: np.ndarray, return_word_box: bool = False, **kwargs: Any) -> Any:
        if self.mask is not None:
            preds = np.where(self.mask, preds, 0.0).astype(preds.dtype, copy=False)
        return self.inner(preds, return_word_box, **kwargs)

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one decoder per engine, few distinct options
    def mask_for(self, whitelist: str, blacklist: str, lang: str = "chi_sim") -> np.ndarray | None:
        """The mask for these options: blank, space and the allowed characters are True.

        Allowed: the characters of ``lang``'s scripts (:func:`script_allows`), in ``whitelist``
        when one is given, and not in ``blacklist``. ``None`` when nothing is excluded.
        """
        chars = self.character
        allows = script_allows(lang)
        allowed = np.array(
            [
                (allows is None or allows(c)) and (not whitelist or c in whitelist) and c not in blacklist
                for c in chars
            ],
            dtype=bool,
        )
        allowed[0] = True  # CTC blank
        if chars[-1] == " ":
            allowed[-1] = True  # the word space
        return None if allowed.all() else allowed


class _OneLineAtATime:
    """RapidOCR's recognition model, run on one line of each batch at a time.

    RapidOCR recognises a page's lines in batches of 6 (``Rec.rec_batch_num``), each line 48 px
    high and padded to the widest of its batch, so the model's working memory grows with six
    times the widest line. Fed one line at a time, each still padded to its batch's width, the
    model computes the same scores (every line is computed on its own; the sums may differ in
    the last bits): on 25 pages (corpus DIBCO, dirty documents, tesseract-test, generated) the
    same text, confidences within 0.001, in the same time (21.8 s against 21.2 s). One reading
    of ``tests/data/column-page.png`` (1123 x 690 px, long lines of small text) peaked at
    931-1047 MB of memory, and now at 621-648 MB. Smaller batches would save as much, but change
    the padding and so the readings (README, memory budget).
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return np.concatenate([self.inner(batch[i : i + 1]) for i in range(len(batch))])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def script_allows(lang: str) -> Callable[[str], bool] | None:
    """Which characters ``lang`` (a plus-joined language list) may read; ``None`` = every one.

    Chinese or Japanese in the list allow everything the model reads; ``eng`` alone allows
    printable ASCII and :data:`SYMBOLS` (a price in pounds is not read ``f137.00``); other
    Latin-script languages add the Latin-1 and Latin Extended letters and typographic
    punctuation. Without this, a blurry ``0`` on an English meter could be read as the CJK
    character it resembles.
    """
    names = {part for part in lang.split("+") if part and not part.startswith("~")}
    if names & CJK_LANGUAGES:
        return None
    if names <= {"eng", "osd"}:
        return lambda c: " " <= c <= "~" or c in SYMBOLS
    return lambda c: " " <= c <= "~" or "\u00a0" <= c <= "\u024f" or c in LATIN_PUNCTUATION


class RapidOcrEngine:
    """RapidOCR behind the :class:`~pipeline.ocr.engine.OcrEngine` interface.

    One RapidOCR object is made per engine and shared: its ``__call__`` stores the call's
    options on the object, so calls are serialised by a lock (each call already uses every
    core through onnxruntime's own threads).
    """

    name = "rapidocr"
    reads_modes = False
    one_at_a_time = True

    def __init__(self) -> None:
        paths = model_paths()
        missing = [str(p) for p in paths.values() if not p.is_file()]
        if missing:
            raise EngineNotAvailable(
                f"RapidOCR's model file {missing[0]} is missing: reinstall the package "
                "(`pip install --force-reinstall rapidocr`), or choose a Tesseract engine."
            )
        try:
            self._ocr = open_reader(paths, threads())
        except Exception as exc:  # onnxruntime raises its own types for a corrupt model
            reason = _first_line(exc)
            raise EngineNotAvailable(f"RapidOCR could not start ({reason}). {INSTALL_ADVICE}") from exc
        self._decoder: _MaskedDecoder = self._ocr.text_rec.postprocess_op
        self._lock = threading.Lock()

    def recognize(self, image: np.ndarray, options: OcrOptions) -> OcrResult:
        """Read ``image`` (uint8 gray, BGR or BGRA) as ``options`` say; see the module docs."""
        check_languages(options.lang)
        bgr = to_bgr(image)
        start = time.perf_counter()
        known = words_of(options.lang) if options.psm in PAGE_MODES else frozenset()
        with self._lock:
            words = read_words(
                self._ocr, bgr, options.psm, options.whitelist, options.blacklist, options.lang, known
            )
        return OcrResult(
            text=layout_text(words),
            words=tuple(words),
            engine=self.name,
            ms=(time.perf_counter() - start) * 1000,
        )


def open_reader(paths: dict[str, Path], threads: int = -1) -> Any:
    """A RapidOCR object on these model files (``{"Det": path, "Rec": path, "Cls": path}``).

    ``threads``: onnxruntime threads per call (-1 = one per core). Its decoder is replaced by a
    :class:`_MaskedDecoder`, which :func:`read_words` sets for each call, and its recognition
    model is fed one line at a time (:class:`_OneLineAtATime`). Raises what RapidOCR
    and onnxruntime raise for missing or corrupt models.
    """
    from rapidocr import RapidOCR

    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    params: dict[str, Any] = {
        "Global.log_level": "critical",
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
    }
    params.update(DETECTION)
    params.update({f"{section}.model_path": str(path) for section, path in paths.items()})
    reader = RapidOCR(params=params)
    reader(np.full((32, 64, 3), 255, np.uint8), use_det=False, use_cls=False, use_rec=True)
    recogniser = reader.text_rec
    if recogniser is None:  # pragma: no cover - RapidOCR always builds its recogniser
        raise RuntimeError("RapidOCR started without its text recogniser")
    recogniser.postprocess_op = _MaskedDecoder(recogniser.postprocess_op)
    recogniser.session = _OneLineAtATime(recogniser.session)
    return reader


def read_words(
    reader: Any,
    bgr: np.ndarray,
    psm: int,
    whitelist: str = "",
    blacklist: str = "",
    lang: str = "eng",
    known: frozenset[str] = frozenset(),
) -> list[Word]:
    """Read a BGR image with a reader from :func:`open_reader` (see the module docs for the modes).

    ``known``: the language's words in lower case (:func:`~pipeline.ocr.dictionary.words_of`);
    with them, columns whose gutter has no empty strip are told from lines cut by a fold or
    a stain (see :mod:`pipeline.ocr.layout`).

    Not thread-safe: RapidOCR keeps each call's options on the reader; serialise calls.
    """
    if psm in NO_TEXT_MODES:
        return []
    decoder = reader.text_rec.postprocess_op
    decoder.mask = decoder.mask_for(whitelist, blacklist, lang)
    try:
        if psm in LINE_MODES:
            top, bottom = text_band(bgr)
            out = reader(bgr[top:bottom], use_det=False, use_cls=False, use_rec=True, return_word_box=True)
            if not out.txts or not out.txts[0].strip():
                return []
            info = out.word_results[0] if out.word_results else None
            return _line_words(out.txts[0], float(out.scores[0]), info, bgr.shape[1], (top, bottom))
        out = reader(bgr, use_det=True, use_cls=False, use_rec=True, return_word_box=True)
        if out.boxes is None or out.txts is None:
            return []
        pieces = []
        for index, (box, text, score) in enumerate(zip(out.boxes, out.txts, out.scores, strict=True)):
            words = out.word_results[index] if out.word_results and index < len(out.word_results) else ()
            pieces.append((np.asarray(box, dtype=float), text, float(score), words))
        return _page_words(pieces, join_rows=psm == 6, known=known)
    finally:
        decoder.mask = None


def check_languages(lang: str) -> None:
    """Refuse a ``lang`` naming a language the RapidOCR model does not read, in one line."""
    from .options import split_languages

    unknown = [name for name in split_languages(lang) if name not in RAPIDOCR_LANGUAGES]
    if unknown:
        raise LanguageNotInstalled(
            f"RapidOCR does not read {', '.join(unknown)}: its model reads Latin-script languages "
            "(eng, deu, fra, ...) and chi_sim, chi_tra, jpn. Choose one of those, or a Tesseract engine."
        )


def to_bgr(image: np.ndarray) -> np.ndarray:
    """The image as 3-channel uint8 BGR: gray is repeated, alpha is flattened onto white."""
    array = np.asarray(image)
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    if array.dtype != np.uint8:
        raise ImageError(f"OCR needs an 8-bit image (uint8), got dtype {array.dtype}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.size == 0:
        raise ImageError(f"cannot read text in an empty image (shape {array.shape})")
    if array.ndim == 2:
        return cv2.cvtColor(array, cv2.COLOR_GRAY2BGR)
    if array.ndim == 3 and array.shape[2] == 4:
        alpha = array[:, :, 3:4].astype(np.uint16)
        return ((array[:, :, :3] * alpha + 255 * (255 - alpha)) // 255).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 3:
        return np.ascontiguousarray(array)
    raise ImageError(f"OCR needs a gray (H, W) or colour (H, W, 3) image, got shape {array.shape}")


BAND_INK = 0.02
"""A row is part of the text band when at least this fraction of its pixels is ink (Otsu)."""

BAND_PAD = 0.25
"""Margin kept above and below the text band, as a fraction of the band's height."""

BAND_MIN_CUT = 0.1
"""The margins are cut only when that removes at least this fraction of the image's height."""


def text_band(bgr: np.ndarray) -> tuple[int, int]:
    """The rows ``(top, bottom)`` a line reading keeps: the text's rows plus a margin.

    Ink is what Otsu's threshold puts on the dark side; the band runs from the first to the
    last row with :data:`BAND_INK` of ink, widened by :data:`BAND_PAD` of its height on each
    side. The whole image is kept when that would cut less than :data:`BAND_MIN_CUT` of it
    (light text on a dark ground, noise over every row, an already tight crop). On generated
    lines 8-14 px high this took RapidOCR's CER from 0.032-0.055 to 0.014-0.035; on the real
    captcha-generic-colour folder from 0.391 to 0.333, and no real line, captcha or digit
    folder read worse.
    """
    height = bgr.shape[0]
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    _, ink = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    rows = np.flatnonzero(ink.mean(axis=1) > BAND_INK)
    if rows.size == 0:
        return 0, height
    margin = max(2, round(BAND_PAD * (rows[-1] + 1 - rows[0])))
    top, bottom = max(0, int(rows[0]) - margin), min(height, int(rows[-1]) + 1 + margin)
    if bottom - top > (1 - BAND_MIN_CUT) * height:
        return 0, height
    return top, bottom


def _line_words(text: str, score: float, info: Any, width: int, rows: tuple[int, int]) -> list[Word]:
    """Split a line reading into words, with boxes from the decoder's character columns.

    ``rows``: the ``(top, bottom)`` rows of the image that were read (:func:`text_band`).
    """
    top, height = rows[0], rows[1] - rows[0]
    tokens = text.split()
    columns: list[list[int]] = list(getattr(info, "word_cols", None) or [])
    confs: list[float] = list(getattr(info, "confs", None) or [])
    groups: list[list[str]] = list(getattr(info, "words", None) or [])
    steps = float(getattr(info, "line_txt_len", 0.0) or 0.0)
    words: list[Word] = []
    if groups and steps > 0 and len(groups) == len(columns):
        scale = width / steps
        used = 0
        for word_no, (chars, cols) in enumerate(zip(groups, columns, strict=True), start=1):
            word_text = "".join(chars).strip()
            conf_slice = confs[used : used + len(chars)]
            used += len(chars)
            if not word_text:
                continue
            left = max(0, math.floor((min(cols) - 0.5) * scale))
            right = min(width, math.ceil((max(cols) + 1.5) * scale))
            conf = 100.0 * (sum(conf_slice) / len(conf_slice) if conf_slice else score)
            words.append(Word(word_text, conf, left, top, max(1, right - left), height, word=word_no))
        if words and "".join(w.text for w in words) == "".join(tokens):
            return words
    # Fallback: the words share the line's box and confidence.
    return [Word(t, 100.0 * score, 0, top, width, height, word=i) for i, t in enumerate(tokens, start=1)]


Piece = tuple[np.ndarray, str, float, Any]
"""One detected piece of text: its quadrilateral, text, score and words (RapidOCR's word results)."""


def _page_words(pieces: list[Piece], *, join_rows: bool, known: frozenset[str] = frozenset()) -> list[Word]:
    """Words of the detected pieces in reading order (:func:`~pipeline.ocr.layout.reading_order`).

    ``join_rows`` (psm 6) reads the page as one block; otherwise pieces running across a column
    gutter are split there (:func:`_split_at_gutters`) and columns are found first, with the
    word list ``known`` (lower case) telling columns from cut lines.
    Blocks are numbered in ``Word.block``, lines within a block in ``Word.line``.
    """
    kept = [p for p in pieces if p[1].strip()]
    boxes = upright_boxes([p[0] for p in kept])
    if not join_rows:
        split = _split_at_gutters(kept, boxes)
        if split is not kept:  # pieces were cut: their boxes are drawn again
            kept, boxes = split, upright_boxes([p[0] for p in split])
    ends = [broken_ends(p[1], known) for p in kept]
    out: list[Word] = []
    for block_no, block in enumerate(reading_order(boxes, columns=not join_rows, ends=ends), start=1):
        for line_no, row in enumerate(block, start=1):
            word_no = 0
            for index in row:
                box, text, score, words = kept[index]
                for word in _piece_words(text, score, words, box):
                    word_no += 1
                    out.append(Word(word[0], word[1], *word[2], block=block_no, line=line_no, word=word_no))
    return out


def _split_at_gutters(pieces: list[Piece], boxes: list[Box]) -> list[Piece]:
    """``pieces`` (with their :func:`~pipeline.ocr.layout.upright_boxes`) with those that run
    across a column gutter found between words (:func:`~pipeline.ocr.layout.word_gutters`) split
    into one piece per column; ``pieces`` itself when none does."""
    if not pieces:
        return pieces
    height = median(b[3] - b[1] for b in boxes) or 1.0
    shares = [_word_shares(p, b) for p, b in zip(pieces, boxes, strict=True)]
    spans = [None if s is None else _spans(s, b) for s, b in zip(shares, boxes, strict=True)]
    gutters = word_gutters(boxes, spans, height)
    if not gutters:
        return pieces
    out: list[Piece] = []
    for piece, share, span in zip(pieces, shares, spans, strict=True):
        starts = split_at(span, gutters, height) if share is not None and span is not None else []
        if share is None or not starts:
            out.append(piece)
            continue
        quad, _, score, words = piece
        kept = _placed_words(words)
        for lo, hi in itertools.pairwise([0, *starts, len(kept)]):
            text = " ".join(str(w[0]).strip() for w in kept[lo:hi])
            out.append((_sub_quad(quad, share[lo][0], share[hi - 1][1]), text, score, tuple(kept[lo:hi])))
    return out


def _word_shares(piece: Piece, box: Box) -> list[tuple[float, float]] | None:
    """Where each word of a piece begins and ends along it, as shares of its length (0..1);
    None when its words do not spell its text or it runs across the page's lines."""
    quad, text, _, words = piece
    kept = _placed_words(words)
    if not kept or "".join(str(w[0]).strip() for w in kept) != "".join(text.split()):
        return None
    q = np.asarray(quad, dtype=float).reshape(4, 2)
    along = q[1] - q[0]
    length = float(np.hypot(*along))
    if length <= 0 or box[2] - box[0] < box[3] - box[1]:
        return None
    unit = along / length
    shares = []
    for w in kept:
        t = (np.asarray(w[2], dtype=float).reshape(-1, 2) - q[0]) @ unit / length
        shares.append((float(t.min()), float(t.max())))
    return shares


def _placed_words(words: Any) -> list[Any]:
    """A piece's word results that have text and corners."""
    return [w for w in words or () if str(w[0]).strip() and w[2] is not None]


def _spans(shares: list[tuple[float, float]], box: Box) -> list[Span]:
    """The words' ``(left, right)`` in the page's frame, from their shares of the piece's box."""
    return [(box[0] + a * (box[2] - box[0]), box[0] + b * (box[2] - box[0])) for a, b in shares]


def _sub_quad(quad: np.ndarray, start: float, end: float) -> np.ndarray:
    """The part of a quadrilateral between two shares of its length (0..1), a hair wider."""
    q = np.asarray(quad, dtype=float).reshape(4, 2)
    a, b = max(0.0, start - 0.01), min(1.0, end + 0.01)
    top, bottom = q[1] - q[0], q[2] - q[3]
    return np.array([q[0] + top * a, q[0] + top * b, q[3] + bottom * b, q[3] + bottom * a])


def _piece_words(
    text: str, score: float, words: Any, box: np.ndarray
) -> list[tuple[str, float, tuple[int, int, int, int]]]:
    """``(text, conf, (left, top, width, height))`` for each word of one detected piece."""
    found = []
    for entry in words or ():
        word_text, word_score, corners = entry
        if not str(word_text).strip() or corners is None:
            continue
        pts = np.asarray(corners, dtype=float)
        found.append((str(word_text).strip(), 100.0 * float(word_score), _rect(pts)))
    if found and "".join(w[0] for w in found) == "".join(text.split()):
        return found
    rect = _rect(box)
    return [(token, 100.0 * score, rect) for token in text.split()]


def _rect(points: np.ndarray) -> tuple[int, int, int, int]:
    left, top = math.floor(float(points[:, 0].min())), math.floor(float(points[:, 1].min()))
    right, bottom = math.ceil(float(points[:, 0].max())), math.ceil(float(points[:, 1].max()))
    return max(0, left), max(0, top), max(1, right - left), max(1, bottom - top)


def layout_text(words: list[Word]) -> str:
    """Words joined by spaces, lines by newlines (the words are in reading order)."""
    lines: list[str] = []
    key = None
    for word in words:
        if word.line_key != key:
            lines.append(word.text)
            key = word.line_key
        else:
            lines[-1] += " " + word.text
    return "\n".join(lines)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
