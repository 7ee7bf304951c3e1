"""Corrections of the text read (pipeline/ocr/correct.py), alone and through ``recognize``."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.ocr import OcrOptions, OcrResult, recognize
from pipeline.ocr.correct import zero_as_o, zero_as_o_word
from pipeline.ocr.engine import corrected
from pipeline.ocr.result import Word
from pipeline.preset import load_preset

from .conftest import ROOT


@pytest.mark.parametrize(
    ("read", "fixed"),
    [
        ("T0TAL 12.50", "TOTAL 12.50"),  # a word of capitals; the price stays
        ("2 x D0Z", "2 x DOZ"),
        ("f0ll0w the r0ad", "follow the road"),  # small letters on both sides: small o
        ("0RANGE JUICE", "ORANGE JUICE"),  # at the start, capitals next to it
        ("X0KQ", "X0KQ"),  # one short run alone: a code (a captcha), left as read
        (" ab0cd\n", " ab0cd\n"),
        ("CR0ISSANTS", "CROISSANTS"),  # alone but longer than a code
        ("2 C0FFEE,", "2 COFFEE,"),
        ("2010 0.50 100%", "2010 0.50 100%"),  # numbers
        ("A0B1 X0Y2", "A0B1 X0Y2"),  # codes with another digit
        ("A0", "A0"),  # one letter: a code or a grid reference, not a word
        ("", ""),
        ("  two  spaces\nand lines  ", "  two  spaces\nand lines  "),  # spacing kept
    ],
)
def test_zero_as_o(read: str, fixed: str) -> None:
    assert zero_as_o(read) == fixed


def test_recognize_applies_it_to_the_text_and_the_words_only_when_asked() -> None:
    # RapidOCR reads a monospace 0 as it is drawn: the option is what turns it into O.
    face = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", 32)
    canvas = Image.new("L", (520, 60), 255)
    ImageDraw.Draw(canvas).text((10, 10), "B0X T0TAL 2010", font=face, fill=0)
    image = np.asarray(canvas)
    plain = recognize(image, OcrOptions(engine="rapidocr", psm=7))
    fixed = recognize(image, OcrOptions(engine="rapidocr", psm=7, zero_as_o=True))
    assert "T0TAL" in plain.text  # read as drawn
    assert fixed.text == zero_as_o(plain.text) and "TOTAL" in fixed.text and "2010" in fixed.text
    assert [w.text for w in fixed.words] == [zero_as_o_word(w.text) for w in plain.words]
    assert [w.left for w in fixed.words] == [w.left for w in plain.words]


def test_a_reading_that_looks_like_a_code_is_left_whole() -> None:
    def reading(*texts: str) -> OcrResult:
        words = tuple(Word(t, 90.0, 10 * i, 0, 8, 10, word=i + 1) for i, t in enumerate(texts))
        return OcrResult(text=" ".join(texts), words=words)

    code = reading("X0KQ")
    assert corrected(code) == code
    line = corrected(reading("T0TAL", "12.50"))
    assert line.text == "TOTAL 12.50" and [w.text for w in line.words] == ["TOTAL", "12.50"]


def test_only_the_presets_for_words_use_it() -> None:
    uses = {p.stem for p in (ROOT / "presets").glob("*.yaml") if load_preset(p).ocr.zero_as_o}
    assert uses == {"text-line", "document"}  # never for codes, where letters and 0 mix
