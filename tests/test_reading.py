"""A preset's second engine (``ocr.second_engine``) and the dictionary judge between the readings.

Real engines and Tesseract's real word list throughout; the page is one the project generated
(``tests/data/README.md``) on which RapidOCR reads nonsense and Tesseract, after the document
preset's cleaning, reads most of the text.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from pipeline.auto import read, shipped_preset
from pipeline.imageio import read_image
from pipeline.metrics import cer
from pipeline.ocr import OcrResult, dictionary
from pipeline.ocr.dictionary import SURE_LETTERS, dictionary_letters, second_is_better, word_list, word_share
from pipeline.preset import Preset
from pipeline.reading import only_engine, prefer_second, read_preset, second_preset, with_ocr
from pipeline.runner import Result
from pipeline.tuning.scoring import Reader
from tests.conftest import text_image

DATA = Path(__file__).parent / "data"
PAGE = DATA / "noisy-wavy-page.png"


def test_word_list_is_tesseracts_english_words():
    words = word_list("eng")
    assert len(words) > 50_000
    assert {"meeting", "harbour", "delivery"} <= words
    assert "xqzvt" not in words


def test_dictionary_letters_counts_known_words_of_four_letters_or_more():
    # "meeting" 7 + "opened" 6 + "Thomas" 6 (case-insensitive); "was", "by" are too short,
    # "Xqzvt" is no word, "2019" no letters.
    assert dictionary_letters("The meeting was opened by Thomas, Xqzvt 2019.") == 19
    assert dictionary_letters("") == 0
    assert dictionary_letters("ee re Oe ,. 44 iii") == 0


def test_second_reading_wins_only_by_a_clear_margin():
    text = "The minutes of the last meeting were read and signed as a true record."
    nonsense = "Tha mlnvtes af tne lsst mceting wera raad"
    assert second_is_better(nonsense, text)
    assert not second_is_better(text, nonsense)
    assert not second_is_better(text, text)  # ties keep the first
    assert not second_is_better(text, text + " Read")  # 4 more letters of 51: within the margin
    assert second_is_better("", "meeting")


def test_word_share_is_the_share_of_long_words_letters_in_the_dictionary():
    assert word_share("The minutes of the meeting") == 1.0  # "minutes" 7, "meeting" 7; "The", "of" too short
    assert word_share("the mlnvtes of the meeting") == pytest.approx(7 / 14)
    assert word_share("PEOPLEQNMORE 2019") == 0.0
    assert word_share("") == 0.0 and word_share("a b c") == 0.0


def test_with_a_share_asked_for_only_a_reading_made_of_real_words_wins():
    line = "please notify us immediately by telephone and return the facsimile by mail."
    debris = "p iy y b l e iey l"
    assert second_is_better(debris, line, share=0.8)
    # a code read as one chance word (a captcha's background text): too few letters
    assert second_is_better("FDXwYX3", "ae Sections :")
    assert dictionary_letters("ae Sections :") < SURE_LETTERS
    assert not second_is_better("FDXwYX3", "ae Sections :", share=0.8)
    # a German line judged by the English list: more English-looking words, but few of its own
    german_first = "jetzt zu erfallende Pfichten obliegen. Weit eher"
    german_second = "jetzt zu erfillende Pflichten obliegen. Weit eber"
    assert second_is_better(german_first, german_second)
    assert word_share(german_second) < 0.8
    assert not second_is_better(german_first, german_second, share=0.8)
    # the share does not lower the margin: a reading no better than the first still loses
    assert not second_is_better(line, line, share=0.8)


def test_text_line_keeps_tesseracts_reading_of_small_print_rapidocr_reads_into_debris(corpus: Path):
    # An 18 px tall crop of a faxed form (FUNSD): RapidOCR reads "p iy y b l e iey l".
    image = read_image(corpus / "forms-funsd-lines" / "83553333_3334_l1.png")
    expected = (corpus / "forms-funsd-lines" / "83553333_3334_l1.gt.txt").read_text()
    preset = shipped_preset("text-line")
    assert cer(expected, read(image, preset, engine="rapidocr").ocr.text) > 0.5
    kept = read(image, preset)
    assert kept.ocr.engine != "rapidocr" and kept.preset.ocr.engine == "auto"
    assert cer(expected, kept.ocr.text) < 0.05
    # a clean form line RapidOCR reads right stays RapidOCR's
    other = read(read_image(corpus / "forms-funsd-lines" / "82251504_l1.png"), preset)
    assert other.ocr.engine == "rapidocr"


def test_a_number_read_first_stands_without_asking_the_second_engine():
    asked: list[Preset] = []

    def read(other: Preset) -> str:
        asked.append(other)
        return "the minutes of the last meeting were read and signed"

    preset = shipped_preset("text-line")
    for number in ("240.15", "12:30 29/11/2026", "0 4 7 1"):
        assert prefer_second(preset, number, read, str) is None
    assert asked == []
    won = prefer_second(preset, "tne mlnvtes af tne lsst", read, str)  # words: the judge is asked
    assert won is not None and won[0].ocr.engine == "auto" and len(asked) == 1
    assert prefer_second(preset, None, read, str) is not None  # a failed first reading: the second


def test_missing_tools_mean_no_word_list_and_the_first_reading_kept(monkeypatch, caplog):
    word_list.cache_clear()
    monkeypatch.setattr(dictionary.shutil, "which", lambda name: None)
    try:
        with caplog.at_level(logging.WARNING):
            assert word_list("eng") == frozenset()
        assert "no word list for eng" in caplog.text
        assert not second_is_better("", "the minutes of the meeting")
    finally:
        word_list.cache_clear()


def test_second_preset_needs_an_engine_of_the_other_family():
    document = shipped_preset("document")
    assert document.ocr.engine == "rapidocr" and document.ocr.second_engine == "auto"
    other = second_preset(document)
    assert other is not None and other.ocr.engine == "auto" and other.ocr.second_engine is None
    assert second_preset(with_ocr(document, engine="tesserocr")) is None  # both Tesseract
    assert second_preset(with_ocr(document, second_engine=None)) is None
    forced = only_engine(document, "rapidocr")
    assert forced.ocr.engine == "rapidocr" and forced.ocr.second_engine is None


@pytest.fixture(scope="module")
def page_reading() -> tuple[Preset, Result, OcrResult]:
    """The document preset's reading of the noisy page (RapidOCR first, Tesseract second)."""
    return read_preset(read_image(PAGE), shipped_preset("document"))


def test_the_second_engines_reading_and_run_are_kept_when_it_reads_more_words(page_reading):
    image = read_image(PAGE)
    expected = (DATA / "noisy-wavy-page.gt.txt").read_text()
    alone = read(image, shipped_preset("document"), engine="rapidocr")
    assert alone.ocr.engine == "rapidocr"
    preset, result, reading = page_reading
    assert reading.engine == "tesserocr" and preset.ocr.engine == "auto"
    # The run kept is Tesseract's: its cleaning ran (RapidOCR's run has no active stage).
    assert any(step.enabled for step in result.steps)
    assert cer(expected, reading.text) < cer(expected, alone.ocr.text) - 0.3
    assert dictionary_letters(reading.text) > 1.1 * dictionary_letters(alone.ocr.text)


def test_the_first_reading_stands_when_the_second_engine_reads_no_more_words():
    image = text_image("Invoice paid in full on Tuesday morning", scale=1.0)
    preset = with_ocr(shipped_preset("document"), psm=6, alternative_psm=())
    kept, _, reading = read_preset(image, preset)
    assert reading.engine == "rapidocr" and kept is preset
    assert "Invoice" in reading.text


def test_a_failing_second_engine_leaves_the_first_reading(caplog):
    # RapidOCR reads chi_sim; Tesseract has no chi_sim model here, so the second reading fails.
    image = text_image("Harbour meeting opened", scale=1.0)
    preset = with_ocr(shipped_preset("text-line"), second_engine="tesserocr", lang="chi_sim")
    with caplog.at_level(logging.WARNING):
        kept, _, reading = read_preset(image, preset)
    assert kept is preset and reading.engine == "rapidocr"
    assert "second engine tesserocr failed" in caplog.text


def test_the_tuner_scores_what_read_preset_returns(page_reading):
    scored = Reader([read_image(PAGE)]).read(0, shipped_preset("document"))
    _, _, reading = page_reading
    assert scored.error is None
    assert scored.text == reading.text
    assert np.isclose(scored.conf, reading.mean_conf)


def test_an_exported_script_says_it_reads_with_the_first_engine_only():
    from pipeline.export import export_python

    script = export_python(shipped_preset("document"))
    docstring = script.split('"""')[1]
    assert "second engine (auto)" in docstring and "first engine only" in docstring
    assert "second engine" not in export_python(shipped_preset("captcha")).split('"""')[1]


def test_auto_decides_a_short_page_on_the_first_engines_reading(corpus: Path):
    # A fuel-pump LCD photo looks like a short page (4 separate lines); RapidOCR's page reading
    # is the number, Tesseract's reading of its cleaning is glare holding three chance dictionary
    # words ("SITY", "pile", "Lage"), which would win the second opinion against a number. Auto
    # decides on RapidOCR's reading, so the photo is read as a number, as before the second engine.
    image = read_image(corpus / "lcd-gaspump" / "HQ_175.jpg")
    document = shipped_preset("document")
    tesseract = read(image, document, engine="auto").ocr.text
    assert second_is_better(read(image, document, engine="rapidocr").ocr.text, tesseract)
    chosen = read(image, "auto")
    assert chosen.stem == "text-line" and chosen.ocr.engine == "rapidocr"
    assert chosen.ocr.text.replace(" ", "").startswith("240")


def test_the_tuner_keeps_the_stages_of_a_presets_second_engine():
    from pipeline.tuning.wide import effective

    document = shipped_preset("document")  # RapidOCR reads it as it is; its stages are Tesseract's
    assert [s.stage for s in effective(document).stages] == [s.stage for s in document.stages]
    alone = only_engine(document, "rapidocr")
    assert effective(alone).stages == ()
