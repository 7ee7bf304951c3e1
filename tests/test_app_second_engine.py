"""The studio with a preset that has a second engine (``ocr.second_engine``), under AppTest."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from pipeline.preset import load_preset
from pipeline.reading import second_preset
from pipeline.runner import run
from studio import ocr as studio_ocr

from .test_app import assert_ok, new_app

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "tests" / "data" / "noisy-wavy-page.png"


@pytest.fixture
def worker_mb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], None]]:
    """Give the studio a fresh OCR worker pool whose workers are restarted above this many MB (a
    worker's memory depends on what it read before: with the shared pool the RapidOCR readings
    below would pass or fail by the order of the tests)."""

    def fresh(mb: int) -> None:
        monkeypatch.setenv("CLARITY_OCR_WORKER_MB", str(mb))
        monkeypatch.setattr(studio_ocr, "_pool", None)

    yield fresh
    if studio_ocr._pool is not None:
        studio_ocr._pool.close()


def studio_on(image_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The studio opened on ``image_path`` as its one sample, with the shipped document preset."""
    presets, samples = tmp_path / "presets", tmp_path / "samples"
    presets.mkdir()
    samples.mkdir()
    shutil.copy(ROOT / "presets" / "document.yaml", presets / "document.yaml")
    shutil.copy(image_path, samples / "page.png")
    index = [{"file": "page.png", "title": "Noisy page", "scenario": "page", "preset": "document"}]
    (samples / "samples.yaml").write_text(yaml.safe_dump(index), encoding="utf-8")
    monkeypatch.setenv("CLARITY_PRESETS_DIR", str(presets))
    monkeypatch.setenv("CLARITY_SAMPLES_DIR", str(samples))
    monkeypatch.setenv("CLARITY_USER_PRESETS_DIR", str(tmp_path / "user-presets"))
    at = new_app(open_stages=False)
    at.default_timeout = 180
    at.run()
    assert_ok(at)
    return at


def outcome(at: AppTest) -> tuple[list[str], list[str]]:
    """The cleaned column's heading, and the reading lines (engine, time, confidence) of both columns."""
    headings = [m.value for m in at.markdown if m.value.startswith("**What came out**")]
    lines = [m.value for m in at.markdown if "confidence" in m.value and " ms, " in m.value]
    return headings, lines


def test_the_studio_keeps_and_names_the_second_engines_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, worker_mb: Callable[[int], None]
) -> None:
    worker_mb(4000)
    crop = tmp_path / "left.png"  # the left 400 px of the page: RapidOCR reads it, badly
    cv2.imwrite(str(crop), cv2.imread(str(PAGE))[:, :400])
    at = studio_on(crop, tmp_path, monkeypatch)
    headings, lines = outcome(at)
    assert not at.error, [e.value for e in at.error]
    assert headings == [
        "**What came out**: Tesseract read its own cleaning of it, and its reading holds more "
        "dictionary words than RapidOCR's"
    ]
    assert len(lines) == 2, lines
    assert "ms, RapidOCR" in lines[0] and "ms, Tesseract" in lines[1], lines


def test_the_studio_falls_back_to_the_second_engine_when_the_first_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, worker_mb: Callable[[int], None]
) -> None:
    # On the whole speckled page RapidOCR finds ~150 specks to read and outgrows a worker limit
    # of 500 MB (the default is 700, which it outgrew too); Tesseract's reading is shown instead.
    worker_mb(500)
    at = studio_on(PAGE, tmp_path, monkeypatch)
    headings, lines = outcome(at)
    assert headings == [
        "**What came out**: Tesseract read its own cleaning of it, as RapidOCR could not read it"
    ]
    assert len(lines) == 1 and "ms, Tesseract" in lines[0], lines
    assert any("memory" in e.value for e in at.error)  # the original's RapidOCR reading says why
    assert any(
        c.value.startswith("RapidOCR: ") and "memory" in c.value for c in at.caption
    )  # and so does the heading


def test_the_second_engines_run_and_reading_start_beside_the_first(
    monkeypatch: pytest.MonkeyPatch, worker_mb: Callable[[int], None]
) -> None:
    # The grid starts them as soon as the first run is done (prefetch_second); the result panel
    # waits for them (wait_second) and then finds the second run's reading cached or under way.
    worker_mb(4000)
    monkeypatch.setattr(studio_ocr, "session_id", lambda: "second-engine-test")
    image = cv2.imread(str(PAGE))[:, :400]
    preset = load_preset(ROOT / "presets" / "document.yaml")
    other = second_preset(preset)
    assert other is not None and other.ocr.engine == "auto"
    studio_ocr.prefetch_second(image, preset)
    studio_ocr.wait_second()
    final = run(image, other).final
    key = studio_ocr._key(final, other.ocr, None, studio_ocr._source(other.ocr, image))
    assert key in studio_ocr._pending or studio_ocr._readings.get(key) is not None
    reading = studio_ocr.read_text(final, other.ocr, original=image)
    assert reading.result is not None and reading.result.engine != "rapidocr", reading
    assert key not in studio_ocr._pending  # picked up, not read twice
    studio_ocr.prefetch_second(image, preset.model_copy(update={"ocr": other.ocr}))  # no second engine
    assert "second-engine-test" not in studio_ocr._seconds
    studio_ocr.prefetch_second(image, preset)  # again, all cached: done at once, and forgotten
    for _ in range(100):
        if "second-engine-test" not in studio_ocr._seconds:
            break
        time.sleep(0.05)
    assert "second-engine-test" not in studio_ocr._seconds  # no entry kept per session once done
