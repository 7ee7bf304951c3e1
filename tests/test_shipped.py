"""The shipped presets: found by folder and by name."""

from __future__ import annotations

from pathlib import Path

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
