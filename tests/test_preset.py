"""Presets: loading, validation messages, round-trips, YAML safety."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.errors import PresetError
from pipeline.preset import SCHEMA_VERSION, Preset, StageSpec, load_preset, parse_preset, save_preset
from pipeline.registry import all_stages

PRESETS = sorted((Path(__file__).resolve().parents[1] / "presets").glob("*.yaml"))


def test_presets_folder_is_not_empty() -> None:
    assert len(PRESETS) >= 3


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.name)
def test_every_shipped_preset_loads_and_round_trips(path: Path, tmp_path: Path) -> None:
    preset = load_preset(path)
    assert preset.schema_version == SCHEMA_VERSION
    assert preset.description, "every shipped preset says when to use it"
    save_preset(preset, tmp_path / "copy.yaml")
    again = load_preset(tmp_path / "copy.yaml")
    assert again == preset
    assert again.to_yaml() == preset.to_yaml()


def test_minimal_preset_has_defaults() -> None:
    preset = parse_preset("schema_version: 1\n")
    assert preset.stages == ()
    assert preset.name == "untitled"
    assert preset.ocr.lang == "eng"


def test_stage_defaults_filled_in() -> None:
    preset = parse_preset("schema_version: 1\nstages:\n  - stage: median_blur\n  - invert\n")
    assert [s.stage for s in preset.stages] == ["median_blur", "invert"]
    assert all(s.enabled for s in preset.stages)
    default = all_stages()["median_blur"].params()
    assert preset.stages[0].params == default


def test_every_stage_round_trips_with_defaults() -> None:
    stages = tuple(
        StageSpec(stage=name, params={}, source="input" if stage.takes_source else None)
        for name, stage in all_stages().items()
    )
    preset = Preset(name="all", description="every stage", stages=stages)
    assert parse_preset(preset.to_yaml()) == preset


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty"),
        ("- a\n- b\n", "mapping"),
        ("name: x\n", "schema_version"),
        ("schema_version: 99\n", "newer Clarity"),
        ("schema_version: 0\n", "unknown"),
        ("schema_version: one\n", "whole number"),
        ("schema_version: 1\ncolour: red\n", "unknown key 'colour'"),
        ("schema_version: 1\nstages: {a: 1}\n", "list"),
        ("schema_version: 1\nstages: [{stage: sharpen}]\n", "stage 1: unknown stage 'sharpen'"),
        ("schema_version: 1\nstages: [{stage: invert, colour: 1}]\n", "unknown key 'colour'"),
        ("schema_version: 1\nstages: [{stage: invert, enabled: maybe}]\n", "true or false"),
        (
            "schema_version: 1\nstages: [invert, {stage: median_blur, params: {ksize_w: 4}}]\n",
            "stage 2 (median_blur), field 'ksize_w': must be odd; got 4; allowed: 1..",
        ),
        (
            "schema_version: 1\nstages: [{stage: median_blur, params: {ksize_w: 999}}]\n",
            "stage 1 (median_blur), field 'ksize_w': Input should be less than or equal to",
        ),
        (
            "schema_version: 1\nstages: [{stage: median_blur, params: {ksize_w: abc}}]\n",
            "field 'ksize_w': Input should be a valid integer",
        ),
        (
            "schema_version: 1\nstages: [{stage: median_blur, params: {size: 3}}]\n",
            "field 'size': unknown field; known fields: ksize_w",
        ),
        ("schema_version: 1\nstages: [{stage: invert, source: input}]\n", "reads only the previous image"),
        (
            "schema_version: 1\nstages: [{stage: hull_mask, source: later}, {stage: invert, id: later}]\n",
            "'later' names this or a later stage",
        ),
        ("schema_version: 1\nstages: [{stage: hull_mask, source: nowhere}]\n", "'nowhere' names no stage"),
        ("schema_version: 1\nstages: [{stage: invert, id: a}, {stage: invert, id: a}]\n", "already used"),
        ("schema_version: 1\nstages: [{stage: invert, engines: [easyocr]}]\n", "field 'engines'"),
        ("schema_version: 1\nstages: [{stage: invert, engines: {a: 1}}]\n", "allowed: tesseract"),
        ("schema_version: 1\nstages: [{stage: invert, engines: [rapidocr, rapidocr]}]\n", "listed twice"),
        ("schema_version: 1\nocr: {psm: 42}\n", "ocr, field 'psm'"),
        ("schema_version: 1\nocr: {language: eng}\n", "ocr, field 'language': unknown field"),
        ("schema_version: 1\n  bad: [indent\n", "not valid preset YAML"),
    ],
)
def test_invalid_presets_name_what_is_wrong(text: str, expected: str) -> None:
    with pytest.raises(PresetError) as info:
        parse_preset(text, origin="my.yaml")
    message = str(info.value)
    assert message.startswith("my.yaml"), message
    assert expected in message, message


def test_out_of_range_message_names_range() -> None:
    with pytest.raises(PresetError) as info:
        parse_preset("schema_version: 1\nstages: [{stage: gaussian_blur, params: {ksize_w: 1001}}]\n")
    message = str(info.value)
    assert "gaussian_blur" in message and "1001" in message and ".." in message


@pytest.mark.parametrize(
    "text",
    [
        "!!python/object/apply:os.system ['echo hacked']\n",
        "schema_version: !!python/object/apply:os.getcwd []\n",
        "schema_version: 1\nname: !!python/name:os.system\n",
    ],
)
def test_yaml_tags_that_construct_objects_are_refused(text: str) -> None:
    with pytest.raises(PresetError, match="not valid preset YAML"):
        parse_preset(text)


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["schema_version: 1", 'a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        name = chr(ord("a") + i)
        lines.append(
            f"{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]"
        )
    with pytest.raises(PresetError, match="aliases"):
        parse_preset("\n".join(lines))


def test_deep_nesting_and_huge_files_are_refused() -> None:
    with pytest.raises(PresetError, match="nested deeper"):
        parse_preset("schema_version: 1\nname: " + "[" * 200 + "]" * 200)
    with pytest.raises(PresetError, match="bytes"):
        parse_preset("schema_version: 1\ndescription: '" + "x" * 300_000 + "'\n")


def test_load_preset_file_errors(tmp_path: Path) -> None:
    with pytest.raises(PresetError, match="no such file"):
        load_preset(tmp_path / "missing.yaml")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(PresetError, match="not a text file"):
        load_preset(binary)


def test_preset_rules_hold_for_models_built_in_code() -> None:
    """The id pattern and `source` naming an earlier stage are the models' rules, not only the parser's."""
    with pytest.raises(ValidationError, match="not a valid id"):
        StageSpec(stage="grayscale", id="Bad Id")
    with pytest.raises(ValidationError, match="reads only the previous image"):
        StageSpec(stage="grayscale", source="input")
    hull = StageSpec(stage="hull_mask", source="gray")
    with pytest.raises(ValidationError, match="names no earlier stage"):
        Preset(stages=(hull, StageSpec(stage="grayscale", id="gray")))
    with pytest.raises(ValidationError, match="already used"):
        Preset(stages=(StageSpec(stage="grayscale", id="a"), StageSpec(stage="invert", id="a")))
    ok = Preset(stages=(StageSpec(stage="grayscale", id="gray"), hull))
    assert ok.stages[1].source == "gray"
