"""The shipped presets: found by folder and by name."""

from __future__ import annotations

import re
import string
from pathlib import Path

import numpy as np

from pipeline.auto import read
from pipeline.metrics import cer
from pipeline.preset import load_preset
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
