"""The field specification: everything about a parameter is read from its declaration."""

from __future__ import annotations

from typing import ClassVar, Literal

import pytest
from pydantic import ValidationError

from pipeline.params import Odd, StageParams, convention, field_spec, field_specs, number, odd_int, unit_of
from pipeline.preset import parse_preset
from pipeline.registry import all_stages
from pipeline.tuning.space import search_space


class Demo(StageParams):
    main_fields: ClassVar[tuple[str, ...]] = ("window", "low")
    ordered: ClassVar[tuple[tuple[str, str], ...]] = (("low", "high"),)

    window: Odd = odd_int(15, 3, 99, "Side of the window, px.")
    low: float = number(0.2, 0.0, 1.0, "Lower share of the range, ratio.", 0.05)
    high: float = number(0.8, 0.0, 1.0, "Upper share of the range, ratio.", 0.05)
    ink: Literal["dark", "light"] = convention("dark", "Which pixels are the text.")
    limit: float = number(50.0, 0.1, 500.0, "Largest output (megapixels).", 0.1, tune=False)
    smooth: bool = False


def test_a_spec_holds_everything_declared_on_the_field() -> None:
    window = field_spec(Demo, "window")
    assert (window.kind, window.low, window.high, window.step, window.odd) == ("int", 3, 99, 2, True)
    assert (window.unit, window.label, window.basic, window.tunable) == ("px", "Window, px", True, True)
    assert window.allowed == "3..99, odd"
    high = field_spec(Demo, "high")
    assert (high.kind, high.step, high.unit, high.basic) == ("float", 0.05, "ratio", False)
    ink = field_spec(Demo, "ink")
    assert (ink.kind, ink.choices, ink.tunable) == ("choice", ("dark", "light"), False)
    assert ink.allowed == "one of 'dark', 'light'"
    assert field_spec(Demo, "limit").tunable is False
    assert field_spec(Demo, "smooth").kind == "bool"
    assert [s.name for s in field_specs(Demo)] == list(Demo.model_fields)


def test_ordered_pairs_are_enforced_by_the_model() -> None:
    assert Demo(low=0.5, high=0.5).low == 0.5
    with pytest.raises(ValidationError, match=r"low \(0.9\) must not be greater than high \(0.1\)"):
        Demo(low=0.9, high=0.1)


def test_every_shipped_ordered_pair_is_enforced() -> None:
    pairs = [(name, pair) for name, stage in all_stages().items() for pair in stage.params.ordered]
    assert len(pairs) >= 9  # component_filter 5, stroke_width_filter, colour bands 3, nl_means, deskew
    for name, (low, high) in pairs:
        model = all_stages()[name].params
        first, second = field_spec(model, low), field_spec(model, high)
        assert None not in (first.low, first.high, second.low, second.high)
        big, small = min(first.high, second.high), max(first.low, second.low)  # each valid alone
        assert big > small, (name, low, high)
        with pytest.raises(ValidationError, match=f"{low} .* must not be greater than {high}"):
            model(**{low: big, high: small})


def test_conventions_are_never_searched() -> None:
    preset = parse_preset(
        "schema_version: 1\nstages: [{stage: rescale}, {stage: morphology}, {stage: crop}, {stage: pad}]\n"
    )
    space = search_space(preset, image_area=10_000)
    for name in ("1.rescale.max_pixels", "2.morphology.ink", "3.crop.unit", "4.pad.color"):
        assert name in space.frozen
    assert "2.morphology.width" in space.by_name


def test_units_are_read_from_the_description() -> None:
    assert unit_of("Thickest line erased, measured across it (px); keep it below") == "px"
    assert unit_of("Window sizes tried, each double the last; count.") == "count"
    assert unit_of("fixed: threshold, 0-255 gray level.") == "gray level"
    assert unit_of("One of the methods.") is None
