"""What an OCR engine returns: the text, and every word with its box and confidence.

Both engines fill these the same way, so results can be compared (and cached) whatever
engine produced them. Plain frozen dataclasses: building a few thousand words costs
microseconds, and nothing is validated again here (the engines produce valid values).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word, in the pixel coordinates of the image given to the engine.

    Attributes
    ----------
    text:
        The word's characters (never empty).
    conf:
        Tesseract's confidence in the word, 0.0 .. 100.0 (a percentage, not a probability
        that can be trusted across fonts; useful to rank words of one image).
    left, top, width, height:
        Bounding box in pixels; ``(left, top)`` is the top-left corner, origin at the image's
        top-left pixel.
    block, par, line, word:
        Position in Tesseract's layout, all 1-based as in its TSV output: block number in
        the page, paragraph number in the block, line number in the paragraph and word
        number in the line.
    """

    text: str
    conf: float
    left: int
    top: int
    width: int
    height: int
    block: int = 1
    par: int = 1
    line: int = 1
    word: int = 1

    @property
    def box(self) -> tuple[int, int, int, int]:
        """``(left, top, right, bottom)`` with right/bottom exclusive, in pixels."""
        return self.left, self.top, self.left + self.width, self.top + self.height

    @property
    def line_key(self) -> tuple[int, int, int]:
        """``(block, par, line)``: equal for the words of one text line."""
        return self.block, self.par, self.line


def mean_confidence(words: tuple[Word, ...] | list[Word]) -> float:
    """Mean of the words' confidences, 0.0 .. 100.0; NaN confidences are ignored, no words give 0.0."""
    confs = [w.conf for w in words if not math.isnan(w.conf)]
    return sum(confs) / len(confs) if confs else 0.0


Scored = list[tuple[str, float]]
"""A reading as its words' ``(text, confidence)`` pairs: what :func:`best_reading` compares."""


def char_confidence(words: tuple[Word, ...] | list[Word]) -> float:
    """Mean confidence per character, 0.0 .. 100.0: each word's confidence weighted by its length.

    Unlike :func:`mean_confidence`, a few confident one-letter fragments cannot outweigh long
    words read with less certainty. NaN confidences are ignored; no words give 0.0.
    """
    return _per_character([(w.text, w.conf) for w in words])


def _per_character(words: Scored) -> float:
    weighted = [(conf, len(text)) for text, conf in words if not math.isnan(conf)]
    chars = sum(n for _, n in weighted)
    return sum(c * n for c, n in weighted) / chars if chars else 0.0


def scored(words: tuple[Word, ...] | list[Word]) -> Scored:
    """``words`` as the ``(text, confidence)`` pairs :func:`best_reading` compares."""
    return [(w.text, w.conf) for w in words]


def reading_score(words: Scored, longest: int) -> float:
    """How far to trust one of several readings of an image: 0.0 .. 100.0, higher is better.

    ``words``: the reading's ``(text, confidence)`` pairs. The mean confidence per character
    (as :func:`char_confidence`) times the share of the longest reading's characters this one
    holds (``longest``: the most characters any of the readings has; the share is capped at 1).
    Without that discount a reading that drops a hard line or a faint word altogether scores
    higher than one that reads it with less certainty.
    """
    return _per_character(words) * (min(1.0, _characters(words) / longest) if longest else 0.0)


def _characters(words: Scored) -> int:
    return sum(len(text) for text, _ in words)


def best_reading(readings: list[Scored]) -> int:
    """Index of the reading with the highest :func:`reading_score`; the first of ties."""
    longest = max(_characters(words) for words in readings)
    scores = [reading_score(words, longest) for words in readings]
    return scores.index(max(scores))


@dataclass(frozen=True, slots=True)
class OcrResult:
    """The output of one OCR call.

    Attributes
    ----------
    text:
        The recognised text as Tesseract lays it out: words separated by one space, lines by
        a newline, paragraphs by an empty line; no trailing whitespace. Empty when nothing
        was recognised.
    words:
        Every recognised word in reading order (see :class:`Word`).
    engine:
        Name of the engine that produced the result (``"tesserocr"`` or ``"pytesseract"``).
    ms:
        Wall-clock time of the call in milliseconds, including the image hand-over.
    psm:
        The page segmentation mode of this reading, when :func:`pipeline.ocr.recognize` chose
        among several (``OcrOptions.alternative_psm``); ``None`` otherwise.
    blur:
        The Gaussian standard deviation (px) of the softened copy this reading came from, when
        :func:`pipeline.ocr.recognize` chose among several (``OcrOptions.alternative_blur``);
        0.0 for the image as it is; ``None`` when there was no choice.
    from_original:
        True when this reading came from the image as it came in, before the stages, and False
        when from the cleaned image, when :func:`pipeline.ocr.recognize` chose between them
        (``OcrOptions.also_read_original``); ``None`` when there was no choice.
    mean_conf:
        Mean word confidence 0.0 .. 100.0, computed from ``words`` (0.0 when there are none).
    """

    text: str
    words: tuple[Word, ...] = ()
    engine: str = ""
    ms: float = 0.0
    psm: int | None = None
    blur: float | None = None
    from_original: bool | None = None
    mean_conf: float = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.words, tuple):
            object.__setattr__(self, "words", tuple(self.words))
        object.__setattr__(self, "mean_conf", mean_confidence(self.words))

    @property
    def lines(self) -> list[str]:
        """The text lines, rebuilt from the words (one string per ``(block, par, line)``)."""
        out: list[str] = []
        key = None
        for w in self.words:
            if w.line_key != key:
                out.append(w.text)
                key = w.line_key
            else:
                out[-1] += " " + w.text
        return out
