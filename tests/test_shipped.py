"""The shipped presets: found by folder and by name."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.preset import load_preset
from pipeline.shipped import presets_folder, resolve_preset, shipped_names

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
