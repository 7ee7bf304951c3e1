"""The wide tuner: starts from the shipped presets and both engines, a search, a held-back check."""

from __future__ import annotations

import string
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.cli import main
from pipeline.imageio import read_image
from pipeline.metrics import cer
from pipeline.ocr import recognize
from pipeline.preset import Preset, load_preset, parse_preset
from pipeline.runner import run
from pipeline.shipped import presets_folder
from pipeline.tuning import search as search_module
from pipeline.tuning import wide
from pipeline.tuning.wide import SCENARIOS, effective, start_candidates, tune_wide
from scripts import synth

from .conftest import text_image
from .test_tune import BASE_YAML, noisy

TEXTS = ("HELLO 42", "Clarity 7", "NOISE 123", "tune me", "WIDE 88", "start 5")


@pytest.fixture(scope="module")
def six() -> list[tuple[np.ndarray, str]]:
    return [(noisy(t, 10 + i), t) for i, t in enumerate(TEXTS)]


def labelled_folder(folder: Path, pairs: list[tuple[np.ndarray, str]]) -> Path:
    """``folder`` with each image as ``l<i>.png`` beside its ``l<i>.gt.txt``."""
    folder.mkdir()
    for i, (image, text) in enumerate(pairs):
        cv2.imwrite(str(folder / f"l{i}.png"), image)
        (folder / f"l{i}.gt.txt").write_text(text + "\n")
    return folder


def mean_cer(pairs: list[tuple[np.ndarray, str]], preset: Preset) -> float:
    """Mean CER of ``preset`` on ``pairs``, measured independently of the tuner."""
    total = 0.0
    for image, text in pairs:
        final = run(image, preset).final
        total += cer(text, recognize(final, preset.ocr).text)
    return total / len(pairs)


def test_starts_cover_every_scenario_preset_three_ways_once() -> None:
    starts = start_candidates(None)
    labels = [s.label for s in starts]
    for name in SCENARIOS:
        assert any(label.startswith(name) for label in labels), name
    assert {s.preset.ocr.engine for s in starts} >= {"rapidocr", "auto"}
    # the cleaned-for-RapidOCR starts really clean: their stages run with RapidOCR
    cleaned = next(s for s in starts if s.label == "document, cleaned, read by RapidOCR")
    assert effective(cleaned.preset).stages and cleaned.preset.ocr.engine == "rapidocr"
    keys = [wide._reads_key(s.preset) for s in starts]
    assert len(keys) == len(set(keys)), "two starts read the same way"


def test_the_presets_meant_for_what_the_labels_are_come_first() -> None:
    lines_only = tuple(n for n in SCENARIOS if n not in wide.PAGE_SCENARIOS)
    assert wide.scenario_order(["HELLO 42", "tune me"]) == lines_only
    assert wide.scenario_order(["X7kQ2", "AB12", None])[:4] == wide.CODE_SCENARIOS
    assert wide.scenario_order(["first line\nsecond line", "one line"])[0] == "document"
    assert sorted(wide.scenario_order(["a\npage"])) == sorted(SCENARIOS)
    for labels in (["X7kQ2"], ["a line"]):  # single lines: no page preset to start from
        assert sorted(wide.scenario_order(labels)) == sorted(lines_only)
    assert wide.scenario_order([]) == wide.scenario_order([None]) == SCENARIOS  # no label: every start
    line_starts = start_candidates(None, "tesserocr", ["HELLO 42", "tune me"])
    assert line_starts and not any(s.scenario == "document" for s in line_starts)
    starts = start_candidates(None, "tesserocr", ["X7kQ2", "AB12"])
    assert starts[0].label == "captcha, cleaned, read by Tesseract"


def test_images_auto_recognises_put_their_preset_first() -> None:
    codes = ["X7kQ2", "AB12"]
    band, speckle = "gray-band-captcha", "speckled-line"
    assert wide.scenario_order(codes, band)[:2] == (band, "captcha")
    assert wide.scenario_order(["one line"], speckle)[:2] == (speckle, "text-line")
    assert wide.scenario_order(["a\npage"], band)[0] == "document"
    not_pages = sorted(n for n in SCENARIOS if n not in wide.PAGE_SCENARIOS)
    assert sorted(wide.scenario_order(codes, speckle)) == not_pages
    rng = np.random.default_rng(5)
    banded = [synth.gray_band_captcha(rng).image for _ in range(3)]
    speckled = [synth.speckled_line(rng).image for _ in range(3)]
    plain = [text_image(word, scale=1.5) for word in ("HELLO", "World 42", "tune")]
    assert wide.image_kind(banded + plain[:2]) == band
    assert wide.image_kind(speckled + plain[:2]) == speckle
    assert wide.image_kind(banded[:1] + speckled[:1] + plain) is None
    assert start_candidates(None, None, codes, banded)[0].label == "gray-band-captcha (as shipped)"
    assert start_candidates(None, None, codes, speckled)[0].label == "speckled-line (as shipped)"
    assert start_candidates(None, None, codes, plain)[0].label == "captcha (as shipped)"


def test_pages_labelled_on_one_line_still_start_from_the_page_preset() -> None:
    data = Path(__file__).parent / "data"
    pages = [read_image(data / f"{name}.png") for name in ("column-page", "noisy-wavy-page", "skewed-page")]
    assert wide.image_kind(pages) == "document"
    one_line = ["the text of a page written on one line"]
    assert start_candidates(None, None, one_line, pages)[0].label == "document (as shipped)"
    lines = [text_image(word, scale=1.5) for word in ("HELLO", "World 42", "tune")]
    assert wide.image_kind(lines) is None
    assert not any(s.scenario == "document" for s in start_candidates(None, None, one_line, lines))


def test_a_forced_engine_keeps_only_its_starts_and_the_base_comes_first() -> None:
    base = parse_preset(BASE_YAML)
    tess = start_candidates(base, "tesserocr")
    assert tess[0].label == "small (the base)"
    assert {s.preset.ocr.engine for s in tess} == {"tesserocr"}
    rapid = start_candidates(None, "rapidocr")
    assert {s.preset.ocr.engine for s in rapid} == {"rapidocr"}
    assert len(rapid) < len(start_candidates(None))


def test_the_result_is_no_worse_than_its_start_and_no_start_clearly_beats_it(six) -> None:
    starts = start_candidates(None, None, [text for _, text in six])
    outcome = tune_wide(six, None, trials=len(starts) + 4, jobs=1, seed=0)
    assert [s.label for s in outcome.starts] == [s.label for s in starts]
    assert [s.label for s in outcome.starts][:2] == ["text-line (as shipped)", "captcha (as shipped)"]
    assert sum(s.chosen for s in outcome.starts) == 1
    chosen = next(s for s in outcome.starts if s.chosen)
    start_preset = next(s.preset for s in starts if s.label == chosen.label)
    assert mean_cer(six, start_preset) == pytest.approx(chosen.score, abs=1e-9)  # scored as read
    assert mean_cer(six, outcome.preset) <= chosen.score + 1e-9
    gain = 1 / (len(six) * max(len(t) for _, t in six))
    for other in outcome.starts:
        assert not wide._clearly_better(list(other.image_scores), list(chosen.image_scores), gain, 2)
    assert outcome.held_back is not None and outcome.held_back.images == 2
    # the held-back images (3rd and 6th) were not searched on
    assert outcome.result.n_images == 4


def test_a_later_start_must_clearly_beat_the_one_chosen() -> None:
    first = [0.20, 0.20, 0.20, 0.20]
    slightly = [0.19, 0.19, 0.19, 0.19]  # 5 % lower: luck on 4 images
    one_image = [0.0, 0.20, 0.20, 0.20]  # 25 % lower, but from one image
    clearly = [0.10, 0.10, 0.10, 0.30]  # 25 % lower, better on 3 of 4
    assert wide._pick([first, slightly, one_image], 0.001, 2) == 0
    assert wide._pick([first, slightly, clearly], 0.001, 2) == 2


def test_a_later_start_ahead_on_every_image_may_replace_the_one_chosen() -> None:
    first = [0.20, 0.20, 0.20, 0.20]
    one_image = [0.0, 0.20, 0.20, 0.20]  # better on one image, worse on none
    traded = [0.0, 0.25, 0.20, 0.20]  # lower, but worse on one image
    below_a_character = [0.195, 0.195, 0.195, 0.195]
    assert wide._pick([first, one_image], 0.01, 2, [True, True]) == 1
    assert wide._pick([first, one_image], 0.01, 2, [True, False]) == 0  # not allowed to edge ahead
    assert wide._pick([first, one_image], 0.01, 2) == 0
    assert wide._pick([first, traded], 0.01, 2, [True, True]) == 0
    assert wide._pick([first, below_a_character], 0.01, 2, [True, True]) == 0


def test_speckled_line_starts_edge_ahead_only_for_lines() -> None:
    codes = ["X7kQ2", "AB12"]
    starts = start_candidates(None, None, codes)
    barred = [s for s, edge in zip(starts, wide.may_edge_ahead(starts, codes), strict=True) if not edge]
    assert barred and {s.scenario for s in barred} == {"speckled-line"}
    assert len(barred) == sum(s.scenario == "speckled-line" for s in starts)
    lines = ["HELLO world", "tune me"]
    assert all(wide.may_edge_ahead(start_candidates(None, None, lines), lines))


def test_a_search_that_fails_on_the_held_back_images_is_dropped(six, monkeypatch) -> None:
    real_tune = search_module.tune
    blank = parse_preset(
        "schema_version: 1\nname: blank\nstages:\n"
        "  - {stage: threshold, params: {method: fixed, value: 0}}\nocr: {psm: 7}\n"
    )

    def overfitted(*args, **kwargs):
        result = real_tune(*args, **kwargs)
        best = replace(result.trials[0], number=99, preset=blank)
        return replace(result, preset=blank, best=best)

    monkeypatch.setattr(wide, "tune", overfitted)
    outcome = tune_wide(six, None, engine="tesserocr", trials=2, jobs=1)
    check = outcome.held_back
    assert check is not None and not check.kept and check.searched > check.start
    chosen = next(s for s in outcome.starts if s.chosen)
    assert outcome.preset.stages != blank.stages
    assert mean_cer(six, outcome.preset) == pytest.approx(chosen.score, abs=1e-9)


def test_a_search_that_ties_on_the_held_back_images_is_kept(six, monkeypatch) -> None:
    real_tune = search_module.tune

    def unconfirmed(*args, **kwargs):
        result = real_tune(*args, **kwargs)
        same = result.base.preset.model_copy(update={"name": "same reading"})  # reads as the start does
        return replace(result, preset=same, best=replace(result.trials[0], number=99, preset=same))

    monkeypatch.setattr(wide, "tune", unconfirmed)
    outcome = tune_wide(six, None, engine="tesserocr", trials=2, jobs=1)
    check = outcome.held_back
    assert check is not None and check.searched == pytest.approx(check.start) and check.kept
    assert outcome.preset.name == "same reading"


def test_cli_tune_without_base_reports_the_starts(tmp_path: Path, six, capsys) -> None:
    data = labelled_folder(tmp_path / "data", six[:4])
    out = tmp_path / "t.yaml"
    args = ["tune", "--data", str(data), "--out", str(out), "--trials", "3", "--jobs", "1"]
    assert main([*args, "--engine", "tesserocr"]) == 0
    printed = capsys.readouterr().out
    assert "starts (mean CER" in printed and "* " in printed
    assert "cleaned, read by Tesseract" in printed and "RapidOCR" not in printed
    assert parse_preset(out.read_text()).ocr.engine == "tesserocr"
    base = tmp_path / "b.yaml"
    base.write_text(BASE_YAML)
    assert main([*args, "--base", str(base), "--only-base"]) == 0
    assert "starts (mean CER" not in capsys.readouterr().out


def test_for_tesseract_each_preset_s_cleaning_is_compared_before_no_cleaning() -> None:
    # The first of two equal starts is kept: on 8 lines, no cleaning looked better by luck
    # (0.013 vs 0.023) and read 16 unseen ones twice as badly (0.186 vs 0.093).
    labels = [s.label for s in start_candidates(None, "tesserocr")]
    for name in SCENARIOS:
        cleaned, uncleaned = f"{name}, cleaned, read by Tesseract", f"{name}, uncleaned, read by Tesseract"
        if cleaned in labels and uncleaned in labels:
            assert labels.index(cleaned) < labels.index(uncleaned), name
    assert labels[0] == "text-line, cleaned, read by Tesseract"


CODES = ("VWXC7", "KPAB4", "ZOEW9", "CVH28", "WSRZ5", "UXNC3")


@pytest.fixture(scope="module")
def codes() -> list[tuple[np.ndarray, str]]:
    return [(noisy(t, 40 + i), t) for i, t in enumerate(CODES)]


def test_codes_in_capitals_and_digits_are_read_with_that_alphabet(codes) -> None:
    outcome = tune_wide(codes, None, engine="rapidocr", trials=1, jobs=1)
    charset = outcome.charset
    assert charset is not None and set(charset.whitelist) == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    chosen = next(s for s in outcome.starts if s.chosen)
    assert charset.start == pytest.approx(chosen.score, abs=1e-9)
    labels = [t for _, t in codes]
    start = next(s.preset for s in start_candidates(None, "rapidocr", labels) if s.label == chosen.label)
    restricted = wide.with_whitelist(effective(start), charset.whitelist)
    assert charset.restricted == pytest.approx(mean_cer(codes, restricted), abs=1e-9)  # scored as read
    assert charset.kept and charset.restricted <= charset.start
    assert outcome.preset.ocr.whitelist == charset.whitelist


def test_an_alphabet_that_reads_worse_is_not_kept(codes, monkeypatch) -> None:
    monkeypatch.setattr(wide, "learned_whitelist", lambda labels, ignore_case=False: "0123456789")
    outcome = tune_wide(codes, None, engine="rapidocr", trials=1, jobs=1)
    charset = outcome.charset
    assert charset is not None and not charset.kept and charset.restricted > charset.start
    chosen = next(s for s in outcome.starts if s.chosen)
    labels = [t for _, t in codes]
    start = next(s.preset for s in start_candidates(None, "rapidocr", labels) if s.label == chosen.label)
    assert outcome.preset.ocr.whitelist == start.ocr.whitelist  # the start's own, if any


def test_a_start_with_a_whitelist_of_its_own_is_narrowed_to_the_labels_alphabet(codes) -> None:
    """The captcha preset allows letters and digits; capitals-and-digits labels narrow that."""
    outcome = tune_wide(codes, None, engine="rapidocr", trials=1, jobs=1)
    chosen = next(s for s in outcome.starts if s.chosen)
    labels = [t for _, t in codes]
    start = next(s.preset for s in start_candidates(None, "rapidocr", labels) if s.label == chosen.label)
    assert set(string.ascii_lowercase) <= set(start.ocr.whitelist)
    assert outcome.charset is not None and outcome.charset.kept
    assert set(outcome.preset.ocr.whitelist) == set(string.ascii_uppercase + string.digits)


def test_sentences_learn_no_alphabet(six) -> None:
    assert wide.learned_whitelist([t for _, t in six]) == ""


def test_cli_tune_prints_the_learned_alphabet(tmp_path: Path, codes, capsys) -> None:
    data = labelled_folder(tmp_path / "codes", codes)
    out = tmp_path / "t.yaml"
    args = ["tune", "--data", str(data), "--out", str(out), "--trials", "1", "--jobs", "1"]
    assert main([*args, "--engine", "rapidocr"]) == 0
    printed = capsys.readouterr().out
    assert "character set learned from the labels: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'" in printed
    assert "(kept)" in printed
    assert parse_preset(out.read_text()).ocr.whitelist == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def test_a_cleaned_start_runs_the_cleaning_made_for_tesseract_only() -> None:
    """``speckled-line`` has a stage for RapidOCR alone (a median filter); its cleaned starts run
    the stages Tesseract runs, whatever engine reads them, and not that one."""
    shipped = load_preset(presets_folder() / "speckled-line.yaml")
    for_tesseract = [s.stage for s in shipped.stages if s.runs_with("tesserocr")]
    assert len(for_tesseract) < len(shipped.stages)
    for engine in ("auto", "rapidocr"):
        cleaned = wide.with_engine(shipped, engine, clean_for_all=True)
        assert [s.stage for s in cleaned.stages] == for_tesseract
        assert all(not s.engines for s in cleaned.stages)
