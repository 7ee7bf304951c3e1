"""Is a page lying on its side or upside down? What its first reading says, and the turns to try.

A scan or photo without an EXIF orientation tag can come turned: a page fed upside down, a
sheet scanned sideways. Read as it is, its lines come out as debris (upside down: CER 0.85 on
``tests/data/column-page.png``) or, for RapidOCR, as right words in a wrong order (turned
clockwise: 0.74). The reading itself tells: an engine reading lines that run up or down the
page gives its words boxes taller than wide (:func:`runs_vertically`), and a page read upside
down holds few dictionary words (:func:`dictionary_fraction`). :mod:`pipeline.auto` then reads
the turned copies (:func:`turns_to_try`, made by the ``rotate`` stage in front of the preset:
:func:`turned`) and keeps one only when it reads as more real words (:func:`keeps_turn`).
Tesseract's own orientation detection (``--psm 0``) was tried first: it found the three turns
of the column page (confidence 15-17), but refused the 7-line ``skewed-page.png`` ("too few
characters") and, at twice the size, named wrong turns with confidence 2-5.
"""

from __future__ import annotations

import numpy as np

from .ocr import OcrResult
from .ocr.dictionary import dictionary_letters
from .preset import Preset, StageSpec
from .stages.geometry import RotateParams, quarter_turn

MIN_TURN_LETTERS = 20
"""Fewest letters in the words whose boxes say which way the lines run, and fewest dictionary
letters a turned reading must hold to be kept."""
UPSIDE_DOWN_MAX_FRACTION = 0.3
"""A page reading with fewer of its letters in dictionary words than this (0..1) may be upside
down: its 180-degree turn is read too. Upright pages read 0.40-0.78 (``tests/data``), upside-down
ones 0.04-0.15; a page in another language than ``ocr.lang`` reads low too (its turn is read,
and not kept)."""
TURNED_MIN_FRACTION = 0.2
"""Share of a turned reading's letters (0..1) that must lie in dictionary words for it to be kept
(hard upright pages, such as DIBCO's, read 0.2-0.4 by RapidOCR)."""
UPSIDE_DOWN_GAIN = 2.0
"""How many times the dictionary letters of the reading as it is the 180-degree turn must hold."""
SIDEWAYS_KEEP = 0.9
"""Share of the dictionary letters of the reading as it is a quarter turn must keep (lines known
to run up or down: RapidOCR may read the right words in a wrong order as it is)."""


def letters(text: str) -> int:
    """The letters of ``text``."""
    return sum(c.isalpha() for c in text)


def dictionary_fraction(text: str, lang: str = "eng") -> float:
    """The share (0..1) of all the letters of ``text`` that lie in dictionary words of 4+ letters
    (:func:`~pipeline.ocr.dictionary.dictionary_letters`); 0 for a text with no letter."""
    total = letters(text)
    return dictionary_letters(text, lang) / total if total else 0.0


def runs_vertically(reading: OcrResult) -> bool:
    """True when the words of 3+ characters whose boxes are over 1.5 times taller than wide hold
    more characters than those over 1.5 times wider than tall, and at least
    :data:`MIN_TURN_LETTERS`: the engine read lines running up or down the image."""
    tall = wide = 0
    for word in reading.words:
        if len(word.text) < 3:
            continue
        if word.height > 1.5 * word.width:
            tall += len(word.text)
        elif word.width > 1.5 * word.height:
            wide += len(word.text)
    return tall > wide and tall >= MIN_TURN_LETTERS


def turns_to_try(reading: OcrResult, lang: str = "eng") -> tuple[int, ...]:
    """The clockwise turns (degrees) worth reading for a page read as ``reading``: a quarter turn
    either way when its lines run up or down, a half turn when few of its letters are in real
    words (:data:`UPSIDE_DOWN_MAX_FRACTION`), else none."""
    if runs_vertically(reading):
        return (90, 270)
    if letters(reading.text) and dictionary_fraction(reading.text, lang) < UPSIDE_DOWN_MAX_FRACTION:
        return (180,)
    return ()


def keeps_turn(as_is: str, reading: OcrResult, clockwise: int, lang: str = "eng") -> bool:
    """True when ``reading``, of the page turned by ``clockwise`` degrees, replaces ``as_is``: its
    lines do not run up or down (:func:`runs_vertically`: the words would be out of order), it
    holds :data:`MIN_TURN_LETTERS` dictionary letters or more, :data:`TURNED_MIN_FRACTION` of its
    letters are in them, and it holds :data:`UPSIDE_DOWN_GAIN` times the dictionary letters of
    ``as_is`` for a half turn (:data:`SIDEWAYS_KEEP` times for a quarter turn)."""
    if runs_vertically(reading):
        return False
    found = dictionary_letters(reading.text, lang)
    if found < MIN_TURN_LETTERS or dictionary_fraction(reading.text, lang) < TURNED_MIN_FRACTION:
        return False
    gain = UPSIDE_DOWN_GAIN if clockwise == 180 else SIDEWAYS_KEEP
    return found >= gain * dictionary_letters(as_is, lang)


def turned(preset: Preset, clockwise: int) -> Preset:
    """``preset`` with a ``rotate`` stage in front turning the image ``clockwise`` degrees (for
    every engine), so that the preset alone reproduces the reading."""
    turn = StageSpec(stage="rotate", params={"clockwise": clockwise})
    return preset.model_copy(update={"stages": (turn, *preset.stages)})


def turn_of(preset: Preset) -> int:
    """The clockwise degrees (0, 90, 180 or 270) by which the ``rotate`` stages of ``preset`` that
    run with its engine turn the image, in all."""
    turns = [s.params for s in preset.stages if s.stage == "rotate" and s.runs_with(preset.ocr.engine)]
    return sum(p.clockwise for p in turns if isinstance(p, RotateParams)) % 360


def stood_up(image: np.ndarray, preset: Preset) -> np.ndarray:
    """``image`` turned as ``preset``'s ``rotate`` stages turn it (:func:`turn_of`): the page as
    its words were read, for a searchable PDF whose text layer must lie on them."""
    clockwise = turn_of(preset)
    return quarter_turn(image, RotateParams.model_validate({"clockwise": clockwise})) if clockwise else image
