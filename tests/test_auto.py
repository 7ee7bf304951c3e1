"""``--preset auto``: page/line measurement, the digit rule, the chosen preset reported everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.auto import (
    AUTO,
    BAND_PRESET,
    DIGITS,
    LINE_MAX_CONFIDENCE,
    NUMBER_CHARS,
    SPECKLE_PRESET,
    band_params,
    has_background_text,
    is_band_captcha,
    is_speckled,
    is_speckled_line,
    measure,
    read,
    read_auto,
    several_lines,
    shipped_preset,
)
from pipeline.cli import main
from pipeline.metrics import cer
from pipeline.ocr.result import OcrResult, Word
from pipeline.preset import Preset
from pipeline.stages.tone import find_tone_band
from scripts import synth

from .conftest import text_image
from .test_ocr import two_lines

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


def page(lines: int = 6) -> np.ndarray:
    rows = [text_image(f"Line number {i} of a printed page", scale=1.0, pad=8) for i in range(lines)]
    width = max(r.shape[1] for r in rows)
    return np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1])), constant_values=255) for r in rows])


def test_measure_tells_pages_from_lines() -> None:
    line = measure(text_image("HELLO WORLD"))
    assert line.rows <= 2 and not line.is_page
    assert not measure(two_lines()).is_page
    layout = measure(page(8))
    assert 8 <= layout.rows <= 16 and layout.is_page


def test_measure_ignores_a_few_large_shapes_and_speckle(rng: np.random.Generator) -> None:
    display = np.full((400, 900), 255, np.uint8)
    cv2.putText(display, "88.8", (40, 300), cv2.FONT_HERSHEY_SIMPLEX, 8, 0, 30)
    assert measure(display).rows <= 1
    speckle = np.where(rng.random((400, 600)) < 0.02, 0, 255).astype(np.uint8)
    assert not measure(speckle).is_page


def test_measure_counts_light_text_on_dark_too() -> None:
    assert measure(255 - page(8)).is_page


def test_a_page_is_read_with_the_document_preset() -> None:
    reading = read_auto(page(6))
    assert reading.preset.name == shipped_preset("document").name
    assert reading.reason.startswith("a page")
    assert cer("Line number 3 of a printed page", reading.ocr.text.split("\n")[3]) <= 0.1


def short_page() -> np.ndarray:
    """Two lines of text far apart on a 300 px tall sheet: too few rows for a page by count."""
    first = text_image("A short note on two lines", scale=1.0, pad=8)
    second = text_image("signed by the whole team", scale=1.0, pad=8)
    width = max(first.shape[1], second.shape[1])
    sheet = np.full((300, width + 40), 255, np.uint8)
    sheet[40 : 40 + first.shape[0], 20 : 20 + first.shape[1]] = first
    sheet[200 : 200 + second.shape[0], 20 : 20 + second.shape[1]] = second
    return sheet


def test_a_short_page_of_separate_lines_is_read_as_a_page() -> None:
    layout = measure(short_page())
    assert layout.lines == 2 and not layout.is_page and layout.may_be_page
    assert not measure(text_image("HELLO WORLD", scale=1.4)).may_be_page
    reading = read_auto(short_page())
    assert reading.preset.name == shipped_preset("document").name
    assert reading.reason.startswith("a short page")
    lines = reading.ocr.text.splitlines()
    assert len(lines) == 2 and cer("signed by the whole team", lines[1]) <= 0.1


FEW_LINES = ("Settings saved at 14:32", "Your balance is 1,204.50 EUR", "next payment due 3 March")


def few_lines() -> np.ndarray:
    """Three lines of light text on a dark background set close together, 114 px tall: a piece
    of a screenshot, too short to be taken for a page."""
    rows = [text_image(text, scale=0.8, pad=6) for text in FEW_LINES]
    width = max(r.shape[1] for r in rows)
    return 255 - np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1])), constant_values=255) for r in rows])


def test_a_few_short_lines_are_read_as_lines_not_squeezed_into_one() -> None:
    layout = measure(few_lines())
    assert layout.height < 150 and layout.may_be_lines and not layout.may_be_page
    assert not measure(text_image("HELLO WORLD", scale=1.4)).may_be_lines
    reading = read_auto(few_lines())
    assert reading.stem == "document" and reading.reason.startswith("a few lines of text")
    lines = reading.ocr.text.splitlines()
    assert len(lines) == 3
    assert all(cer(expected, got) <= 0.1 for expected, got in zip(FEW_LINES, lines, strict=True))


def test_a_few_lines_are_tried_only_when_the_one_line_reading_is_unsure() -> None:
    image = few_lines()
    layout = measure(image)

    def line_read_with(conf: float) -> OcrResult:
        words = (Word(text="Yourpalemne", conf=conf, left=0, top=0, width=300, height=40),)
        return OcrResult(text="Yourpalemne", words=words, engine="rapidocr", ms=1.0)

    assert several_lines(image, None, layout, line_read_with(LINE_MAX_CONFIDENCE + 1)) is None
    kept = several_lines(image, None, layout, line_read_with(LINE_MAX_CONFIDENCE - 1))
    assert kept is not None and len(kept.ocr.text.splitlines()) == 3


def faint_grainy_page() -> np.ndarray:
    """Eight lines of gray text 25 levels below gray, grainy paper (sigma 10), on a white margin:
    Otsu's threshold splits the page from its margin and finds no text row."""
    rng = np.random.default_rng(1)
    ink = (255 - page(8)).astype(np.float32) / 255
    paper = 175 - 25 * ink + rng.normal(0, 10, ink.shape)
    sheet = np.full((ink.shape[0] + 120, ink.shape[1] + 120), 250, np.float32)
    sheet[60:-60, 60:-60] = paper
    return np.clip(sheet, 0, 255).astype(np.uint8)


def test_a_faint_grainy_page_is_found_by_a_local_threshold_and_read_as_a_page() -> None:
    layout = measure(faint_grainy_page())
    assert layout.rows == 0 and layout.lines >= 6 and layout.may_be_page
    reading = read_auto(faint_grainy_page())
    assert reading.preset.name == shipped_preset("document").name
    lines = reading.ocr.text.splitlines()
    assert len(lines) == 8 and cer("Line number 5 of a printed page", lines[5]) <= 0.1


def test_a_page_under_a_dark_stamp_is_read_as_a_page_not_as_a_captcha() -> None:
    data = Path(__file__).parent / "data"
    stamped = cv2.imread(str(data / "stamped-page.png"))
    layout = measure(stamped)
    # Otsu keeps only the stamp (one row); the local threshold finds the faint lines under it
    assert layout.rows == 1 and layout.lines >= 10 and layout.may_be_page
    assert has_background_text(stamped)  # the stamp's one tone over text: what a band captcha shows
    reading = read_auto(stamped)
    assert reading.preset.name == shipped_preset("document").name
    expected = (data / "stamped-page.gt.txt").read_text()
    assert cer(expected, reading.ocr.text) < 0.6  # 0.454 (as a gray-band captcha: 0.995)


def test_a_line_is_read_as_it_is_by_rapidocr() -> None:
    image = text_image("Quick brown fox 2026", scale=1.4)
    reading = read_auto(image)
    assert reading.preset.name == shipped_preset("text-line").name
    assert reading.ocr.engine == "rapidocr" and reading.label.endswith("read by RapidOCR")
    assert np.array_equal(reading.result.final, image)  # no stage runs for RapidOCR
    assert cer("Quick brown fox 2026", reading.ocr.text) <= 0.1


def test_a_number_line_is_read_again_with_a_digits_whitelist() -> None:
    image = cv2.resize(text_image("4821 0375 9917", scale=1.4, pad=30), None, fx=1.0, fy=1.6)
    reading = read_auto(image)
    assert image.shape[0] > 120 and reading.ocr.text
    assert reading.preset.ocr.whitelist == NUMBER_CHARS and "number" in reading.reason
    assert set(reading.ocr.text) <= set(DIGITS + " ")


def test_a_small_digit_crop_goes_to_the_meter_preset() -> None:
    reading = read_auto(text_image("7", scale=1.6, pad=12))
    assert reading.preset.name == shipped_preset("meter-digit").name
    assert reading.ocr.text.strip() == "7"


def _band_only(image: np.ndarray) -> np.ndarray:
    """``image`` with every pixel outside the gray-band preset's tone band painted background."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    band = find_tone_band(gray, band_params())
    assert band is not None
    out = image.copy()
    out[(gray < band[0]) | (gray > band[1])] = 245
    return out


def test_background_text_is_told_from_captchas_lines_and_speckle() -> None:
    for seed in range(4):
        rng = np.random.default_rng(100 + seed)
        captcha = synth.gray_band_captcha(rng).image
        assert has_background_text(captcha), seed
        # the same characters with the background text painted out: none left to find
        assert not has_background_text(_band_only(captcha)), seed
        assert not has_background_text(synth.speckled_line(rng).image), seed
    for name in ("document", "text-line", "speckled-line", "captcha"):
        assert not has_background_text(cv2.imread(str(SAMPLES / f"{name}.png"), cv2.IMREAD_COLOR)), name
    assert not has_background_text(text_image("HELLO THERE", scale=1.5))


def test_a_captcha_over_background_text_is_read_with_the_gray_band_preset() -> None:
    image = cv2.imread(str(SAMPLES / "gray-band-captcha.png"), cv2.IMREAD_COLOR)
    reading = read_auto(image)
    assert reading.stem == BAND_PRESET and "background text" in reading.reason
    assert reading.preset.ocr.also_read_original and reading.ocr.engine == "rapidocr"
    assert cer("K6PdRA", reading.ocr.text, ignore_spaces=True) <= 0.2
    tesseract = read_auto(image, engine="tesserocr")
    assert tesseract.stem == BAND_PRESET and tesseract.ocr.engine == "tesserocr"
    assert any(s.enabled for s in tesseract.result.steps)  # the tone band is kept for Tesseract


def test_an_enlarged_captcha_over_background_text_is_not_read_as_a_page() -> None:
    """Enlarged 2x, the sample's rows of background text make it a page, whose reading was the
    background text (CER 1.0); one row of large characters in one tone says it is a captcha."""
    sample = cv2.imread(str(SAMPLES / "gray-band-captcha.png"), cv2.IMREAD_COLOR)
    for factor in (2, 3):
        image = cv2.resize(sample, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        layout = measure(image)
        assert layout.is_page or layout.may_be_page, factor
        assert is_band_captcha(image), factor
        reading = read_auto(image)
        assert reading.stem == BAND_PRESET and "background text" in reading.reason, factor
        assert cer("K6PdRA", reading.ocr.text, ignore_spaces=True) <= 0.2, factor
    assert not is_band_captcha(_band_only(sample))  # no background text: not this kind
    for page in ("skewed-page.png", "column-page.png", "noisy-wavy-page.png"):
        assert not is_band_captcha(cv2.imread(str(ROOT / "tests" / "data" / page), cv2.IMREAD_COLOR)), page
    document = cv2.imread(str(SAMPLES / "document.png"), cv2.IMREAD_COLOR)
    assert not is_band_captcha(document)
    assert not is_band_captcha(cv2.resize(document, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))


def test_specks_on_gray_paper_are_told_from_captchas_and_lines() -> None:
    for seed in range(4):
        rng = np.random.default_rng(200 + seed)
        line = synth.speckled_line(rng)
        assert is_speckled(line.image), seed
        # the same line with its specks gone (a median filter): no longer speckled
        assert not is_speckled(cv2.medianBlur(line.image, 5)), seed
        assert not is_speckled(synth.gray_band_captcha(rng).image), seed
    for name in ("document", "text-line", "captcha", "gray-band-captcha"):
        assert not is_speckled(cv2.imread(str(SAMPLES / f"{name}.png"), cv2.IMREAD_COLOR)), name


def test_a_speckled_line_is_read_with_the_speckled_line_preset() -> None:
    image = cv2.imread(str(SAMPLES / "speckled-line.png"), cv2.IMREAD_COLOR)
    reading = read_auto(image)
    assert reading.stem == SPECKLE_PRESET and "specks" in reading.reason
    assert cer("EXPO 2016/01-2019", reading.ocr.text, ignore_spaces=True) <= 0.2
    tesseract = read_auto(image, engine="tesserocr")
    assert tesseract.stem == SPECKLE_PRESET
    assert cer("EXPO 2016/01-2019", tesseract.ocr.text, ignore_spaces=True) <= 0.2


def test_engine_override_reaches_the_chosen_preset() -> None:
    reading = read_auto(text_image("HELLO THERE", scale=1.5), engine="tesserocr")
    assert reading.preset.ocr.engine == "tesserocr" and reading.ocr.engine == "tesserocr"
    assert reading.label.endswith("read by Tesseract")
    assert len(reading.result.steps) > 0 and any(s.enabled for s in reading.result.steps)


def test_read_runs_a_given_preset_and_refuses_other_names() -> None:
    image = text_image("HELLO", scale=1.5)
    reading = read(image, Preset(), engine="rapidocr")
    assert reading.preset.ocr.engine == "rapidocr" and reading.reason == "" and reading.layout is None
    with pytest.raises(ValueError, match="unknown preset name"):
        read(image, "document")


def test_bundled_samples_read_well_with_auto() -> None:
    import yaml

    for sample in yaml.safe_load((SAMPLES / "samples.yaml").read_text()):
        image = cv2.imread(str(SAMPLES / sample["file"]), cv2.IMREAD_COLOR)
        reading = read_auto(image)
        spaces = sample["scenario"] != "document"
        assert cer(sample["expected"], reading.ocr.text, ignore_spaces=spaces) <= 0.2, (
            sample["file"],
            reading,
        )


def test_cli_eval_auto_json_items_name_the_chosen_preset(tmp_path: Path, capsys) -> None:
    cv2.imwrite(str(tmp_path / "line.png"), text_image("Quick brown fox", scale=1.4))
    (tmp_path / "line.gt.txt").write_text("Quick brown fox\n")
    cv2.imwrite(str(tmp_path / "digit.png"), text_image("5", scale=1.6, pad=12))
    (tmp_path / "digit.gt.txt").write_text("5\n")
    assert main(["eval", "--preset", AUTO, "--json", str(tmp_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    chosen = {Path(i["image"]).stem: (i["preset"], i["engine"]) for i in report["items"]}
    assert chosen == {"digit": ("meter digit", "rapidocr"), "line": ("text line", "rapidocr")}
    assert report["mean_cer"] <= 0.1


def test_cli_run_auto_says_what_it_chose(tmp_path: Path, capsys) -> None:
    image = tmp_path / "p.png"
    cv2.imwrite(str(image), page(5))
    out = tmp_path / "out"
    assert main(["run", "--preset", "auto", "--out", str(out), str(image)]) == 0
    assert "(auto: document, read by" in capsys.readouterr().out
    assert "printed page" in (out / "p.txt").read_text()


def test_an_enlarged_speckled_line_is_not_read_as_a_page() -> None:
    """Enlarged 2x, a speckled line's specks counted as dozens of text rows: it was read as a
    page (debris). As one line on gray paper strewn with specks it gets the speckled-line preset."""
    rng = np.random.default_rng(11)
    read_right = 0
    for _ in range(3):
        line = synth.speckled_line(rng)
        assert not is_speckled_line(line.image) or is_speckled(line.image)
        image = cv2.resize(line.image, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC)
        layout = measure(image)
        assert layout.is_page or layout.may_be_page
        assert is_speckled_line(image) and not is_speckled(image)
        reading = read_auto(image)
        assert reading.stem == SPECKLE_PRESET and "specks" in reading.reason
        read_right += cer(line.text, reading.ocr.text, ignore_spaces=True) <= 0.2
    assert read_right >= 2
    for page in ("skewed-page.png", "column-page.png", "noisy-wavy-page.png", "wavy-lines.png"):
        assert not is_speckled_line(cv2.imread(str(ROOT / "tests" / "data" / page), cv2.IMREAD_COLOR)), page
    for name in ("document", "text-line", "captcha", "gray-band-captcha"):
        sample = cv2.imread(str(SAMPLES / f"{name}.png"), cv2.IMREAD_COLOR)
        for factor in (1, 3):
            big = cv2.resize(sample, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
            assert not is_speckled_line(big), (name, factor)


def test_an_enlarged_line_with_fewer_specks_is_still_a_speckled_line() -> None:
    """Lines with half the seed's specks are speckled as made; enlarged 3x and reduced back to
    32 px letters, some keep only 70-80 specks per 10,000 px (the faint ones fade): the reduced
    copy is held to half the density (SPECKLE_REDUCED_MIN_DENSITY)."""
    rng = np.random.default_rng(11)
    for _ in range(3):
        line = synth.speckled_line(rng, noise=synth.SpeckleNoise(dark=0.03))
        assert is_speckled(line.image)
        image = cv2.resize(line.image, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
        assert is_speckled_line(image)
    plain = cv2.resize(synth.text_line(rng).image, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    assert not is_speckled_line(plain)
