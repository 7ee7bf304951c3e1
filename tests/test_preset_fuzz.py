"""The preset loader and share links never let an unexpected exception type escape.

Random YAML text and random data shaped like presets go in; only a valid Preset or a
PresetError may come out.
"""

from __future__ import annotations

import warnings

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline import preset as preset_module
from pipeline.errors import PresetError
from pipeline.ocr import OcrOptions
from pipeline.preset import Preset, parse_preset, preset_from_data
from pipeline.registry import all_stages
from pipeline.share import unpack

STAGE_NAMES = list(all_stages())
FIELD_NAMES = sorted({f for s in all_stages().values() for f in s.params.model_fields} | {"x", "psm", "lang"})

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from([*STAGE_NAMES, "input", "otsu", "dark", "light", "rect"]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=20,
)
stage_dicts = st.fixed_dictionaries(
    {"stage": st.sampled_from(STAGE_NAMES) | st.text(max_size=10)},
    optional={
        "enabled": values,
        "id": st.sampled_from(["a", "b", "gray", "Bad Id", ""]) | values,
        "source": st.sampled_from(["a", "b", "input", "gray"]) | values,
        "params": st.dictionaries(st.sampled_from(FIELD_NAMES), values, max_size=5) | values,
        "extra": values,
    },
)
presets = st.fixed_dictionaries(
    {"schema_version": st.sampled_from([1, 1, 1, 0, 2, "1", None, 1.0, True])},
    optional={
        "name": values,
        "description": values,
        "stages": st.lists(stage_dicts | values, max_size=5) | values,
        "ocr": st.dictionaries(
            st.sampled_from([*OcrOptions.model_fields, "x"]),
            values,
            max_size=4,
        )
        | values,
    },
)


def _accepts_or_refuses(make) -> None:
    try:
        result = make()
    except PresetError as exc:
        assert str(exc) and "\n" not in str(exc).strip()
        return
    assert isinstance(result, Preset)
    assert parse_preset(result.to_yaml()) == result  # anything accepted round-trips


NEWLINE_FIELD = {"schema_version": 1, "stages": [], "ocr": {"\n": None}}
"""Found by a random run: a field name holding a newline once broke the one-line error message."""


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(presets)
@example(NEWLINE_FIELD)
def test_random_preset_data(data: dict) -> None:
    _accepts_or_refuses(lambda: preset_from_data(data, "fuzz"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(presets)
@example(NEWLINE_FIELD)
def test_random_preset_yaml_text(data: dict) -> None:
    try:
        text = yaml.safe_dump(data)
    except yaml.YAMLError:
        return
    _accepts_or_refuses(lambda: parse_preset(text, "fuzz"))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    _accepts_or_refuses(lambda: parse_preset(text, "fuzz"))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="1AZaz09-_=+/!", max_size=200))
def test_random_share_links(text: str) -> None:
    _accepts_or_refuses(lambda: unpack(text))


def test_older_schema_versions_are_migrated_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """The migration path: a version-0 preset (made up here: `steps` for `stages`) is upgraded."""
    monkeypatch.setattr(
        preset_module,
        "MIGRATIONS",
        {0: lambda d: {**{k: v for k, v in d.items() if k != "steps"}, "stages": d.get("steps", [])}},
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        preset = parse_preset("schema_version: 0\nsteps: [invert]\n", "old.yaml")
    assert [s.stage for s in preset.stages] == ["invert"]
    assert preset.schema_version == preset_module.SCHEMA_VERSION
    assert any("migrated from schema_version 0" in str(w.message) for w in caught)
