"""Pages lying on their side or upside down (pipeline/upright.py and its step in pipeline.auto)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.auto import TURN_REASONS, read_auto, shipped_preset
from pipeline.imageio import read_image
from pipeline.metrics import cer
from pipeline.ocr.result import OcrResult, Word
from pipeline.upright import (
    MIN_TURN_LETTERS,
    dictionary_fraction,
    keeps_turn,
    runs_vertically,
    stood_up,
    turn_of,
    turned,
    turns_to_try,
)

DATA = Path(__file__).resolve().parent / "data"
TEXT = "The chairman noted that the annual report had been delayed by the weather"


def reading(text: str, *, tall: bool = False) -> OcrResult:
    """``text`` as one word a line, each word's box taller than wide when ``tall``."""
    words = []
    for i, word in enumerate(text.split()):
        w, h = (12, 10 * len(word)) if tall else (10 * len(word), 12)
        words.append(Word(text=word, conf=90.0, left=0, top=20 * i, width=w, height=h))
    return OcrResult(text=text, words=tuple(words))


def test_words_taller_than_wide_say_the_lines_run_up_or_down() -> None:
    assert runs_vertically(reading(TEXT, tall=True))
    assert not runs_vertically(reading(TEXT))
    assert not runs_vertically(reading("one two", tall=True))  # too few letters to say


def test_the_turns_tried_follow_the_reading() -> None:
    assert turns_to_try(reading(TEXT, tall=True)) == (90, 270)
    assert turns_to_try(reading(TEXT)) == ()  # upright words: nothing to try
    debris = "aunc jo pue a4) a10Jaq pPaysiuy aq jOU IIIM ajqeyew JayUIM ayy Neuueg"
    assert dictionary_fraction(debris) < 0.3
    assert turns_to_try(reading(debris)) == (180,)
    assert turns_to_try(reading("")) == ()


def test_a_turn_is_kept_only_for_more_real_words_in_order() -> None:
    debris = "aunc jo pue a4) a10Jaq pPaysiuy aq jOU IIIM ajqeyew JayUIM ayy Neuueg"
    assert keeps_turn(debris, reading(TEXT), 180)
    assert not keeps_turn(TEXT, reading(TEXT), 180)  # no gain over an upright reading
    assert keeps_turn(TEXT, reading(TEXT), 90)  # quarter turn: same words, lines known to run sideways
    assert not keeps_turn(debris, reading(TEXT, tall=True), 90)  # still sideways: words out of order
    assert not keeps_turn("", reading("The end"), 180)  # fewer than MIN_TURN_LETTERS dictionary letters
    assert len("The end") < MIN_TURN_LETTERS


def test_turned_puts_a_rotate_stage_in_front_for_every_engine() -> None:
    preset = turned(shipped_preset("document"), 270)
    first = preset.stages[0]
    assert first.stage == "rotate" and first.params.clockwise == 270 and not first.engines  # type: ignore[attr-defined]
    assert preset.stages[1:] == shipped_preset("document").stages


def test_stood_up_turns_the_page_as_the_preset_does() -> None:
    page = np.arange(6 * 4, dtype=np.uint8).reshape(6, 4)
    document = shipped_preset("document")
    assert turn_of(document) == 0 and stood_up(page, document) is page
    twice = turned(turned(document, 90), 270)
    assert turn_of(twice) == 0
    assert np.array_equal(stood_up(page, turned(document, 90)), cv2.rotate(page, cv2.ROTATE_90_CLOCKWISE))
    assert turn_of(turned(turned(document, 180), 270)) == 90


TURNS = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}
"""How to lay the page down so that turning it ``key`` degrees clockwise stands it up."""


@pytest.mark.parametrize("clockwise", [90, 180, 270])
def test_auto_reads_a_turned_page_upright(clockwise: int) -> None:
    page = read_image(DATA / "skewed-page.png")
    truth = (DATA / "skewed-page.gt.txt").read_text(encoding="utf-8")
    upright = read_auto(page)
    assert upright.reason not in TURN_REASONS.values()
    chosen = read_auto(cv2.rotate(page, TURNS[clockwise]))
    assert chosen.stem == "document" and chosen.reason == TURN_REASONS[clockwise]
    assert chosen.label.startswith(f"{chosen.preset.name}, turned {clockwise}° clockwise, read by")
    assert chosen.preset.stages[0].stage == "rotate"
    assert chosen.preset.stages[0].params.clockwise == clockwise  # type: ignore[attr-defined]
    assert cer(truth, chosen.ocr.text) <= cer(truth, upright.ocr.text) + 0.01 <= 0.05
    assert np.array_equal(chosen.result.steps[0].image, page)  # stood up exactly
