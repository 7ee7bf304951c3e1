"""The shipped presets: found by folder and by name."""

from __future__ import annotations

import re
import string
from pathlib import Path

import cv2
import numpy as np

from pipeline.auto import read
from pipeline.metrics import cer
from pipeline.preset import Preset, load_preset
from pipeline.shipped import presets_folder, resolve_preset, shipped_names
from scripts import synth

from .conftest import ROOT


def test_the_shipped_presets_are_the_repository_presets() -> None:
    assert presets_folder() == ROOT / "presets"
    assert "document" in shipped_names() and "text-line" in shipped_names()


def test_a_name_resolves_to_a_shipped_preset_but_paths_stay_paths(tmp_path: Path, monkeypatch) -> None:
    assert resolve_preset(Path("document")) == ROOT / "presets" / "document.yaml"
    assert resolve_preset(Path("nonexistent")) == Path("nonexistent")
    assert resolve_preset(Path("document.yaml")) == Path("document.yaml")  # a file name: as given
    monkeypatch.chdir(tmp_path)
    (tmp_path / "document").write_text("schema_version: 1\n")  # a file of that name wins
    assert resolve_preset(Path("document")) == Path("document")


def test_each_seed_preset_points_to_a_shipped_preset_for_other_images() -> None:
    """The seed presets are copies fixed to their thread's image; each description names the
    scenario preset to use instead, and that preset exists."""
    seeds = [name for name in shipped_names() if name.startswith("seed-")]
    assert len(seeds) == 3
    for name in seeds:
        description = load_preset(ROOT / "presets" / f"{name}.yaml").description
        named = re.findall(r"For your own [a-z ]+ use `([a-z-]+)`", description)
        assert len(named) == 1, name
        assert named[0] in shipped_names() and not named[0].startswith("seed-"), name


def test_the_captcha_preset_lets_tesseract_read_only_letters_and_digits() -> None:
    """Tesseract, left to itself, reads a distorted code's glyphs as symbols and spaces
    ("X¥n 6€" for XYn6C); the preset's whitelist keeps it to letters and digits."""
    shipped = load_preset(resolve_preset(Path("captcha")))
    tesseract = shipped.model_copy(update={"ocr": shipped.ocr.model_copy(update={"engine": "tesserocr"})})
    unrestricted = tesseract.model_copy(update={"ocr": tesseract.ocr.model_copy(update={"whitelist": ""})})
    assert set(shipped.ocr.whitelist) == set(string.ascii_letters + string.digits)
    with_list, without = [], []
    for seed in range(8):
        code = synth.captcha(np.random.default_rng(seed))
        text = read(code.image, tesseract).ocr.text
        assert set(text) <= set(shipped.ocr.whitelist), (seed, text)
        with_list.append(cer(code.text, text))
        without.append(cer(code.text, read(code.image, unrestricted).ocr.text))
    assert sum(with_list) < sum(without)


Lines = list[tuple[np.ndarray, str]]


def _speckled_lines(scale: float, seeds: tuple[int, ...] = (7,), count: int = 6) -> Lines:
    """``count`` generated speckled lines (the seed image's kind) for each seed, resized by ``scale``."""
    lines = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        for _ in range(count):
            line = synth.speckled_line(rng)
            method = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
            image = cv2.resize(line.image, None, fx=scale, fy=scale, interpolation=method)
            lines.append((line.image if scale == 1 else image, line.text))
    return lines


def _tesseract_cers(preset: Preset, lines: Lines) -> list[float]:
    forced = preset.model_copy(update={"ocr": preset.ocr.model_copy(update={"engine": "tesserocr"})})
    return [cer(text, read(image, forced).ocr.text, ignore_spaces=True) for image, text in lines]


def test_the_speckled_line_preset_reads_a_line_of_any_size_with_tesseract() -> None:
    """Its pixel sizes (3 px opening, 10 px specks, 35 px grouping) fit letters about 30 px tall,
    and it first scales the line to that (``measure: weighted``): halved or enlarged 2.5 times,
    the lines read as well as at their own size; without the scaling they did not (mean CER 0.22
    and 0.29 where it is 0.06 and 0.05)."""
    shipped = load_preset(resolve_preset(Path("speckled-line")))
    unscaled = shipped.model_copy(update={"stages": tuple(s for s in shipped.stages if s.stage != "rescale")})
    for scale in (0.5, 2.5):
        lines = _speckled_lines(scale)
        scaled = float(np.mean(_tesseract_cers(shipped, lines)))
        assert scaled <= 0.12, scale
        assert float(np.mean(_tesseract_cers(unscaled, lines))) >= scaled + 0.1, scale


def test_the_speckled_line_preset_drops_the_pieces_of_lines_cut_by_the_edge() -> None:
    """The part of a neighbouring line at the top or bottom edge (the seed image has one) made
    Tesseract read 2 of these 20 lines as nothing or nearly (CER 1.0): the ``edge-lines`` stage
    removes it (mean CER 0.18 without, 0.07 with)."""
    shipped = load_preset(resolve_preset(Path("speckled-line")))
    kept = shipped.model_copy(update={"stages": tuple(s for s in shipped.stages if s.id != "edge-lines")})
    assert len(kept.stages) == len(shipped.stages) - 1
    lines = _speckled_lines(1.0, seeds=(1, 2), count=10)
    cleaned, with_pieces = _tesseract_cers(shipped, lines), _tesseract_cers(kept, lines)
    assert float(np.mean(cleaned)) <= 0.1
    assert float(np.mean(with_pieces)) >= float(np.mean(cleaned)) + 0.05
    assert max(cleaned) < 0.5 <= max(with_pieces)
