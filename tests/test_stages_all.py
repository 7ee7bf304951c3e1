"""Every registered stage: defaults run, metadata is complete, random valid params never crash."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from pipeline.params import bounds_of, choices_of, is_odd_field
from pipeline.registry import CATEGORIES, all_stages

from .conftest import text_image

STAGES = all_stages()


def test_registry_has_the_required_stages() -> None:
    required = {
        "grayscale", "color_range", "invert", "normalize", "background_flatten",
        "gaussian_blur", "median_blur", "bilateral", "nl_means", "threshold", "morphology",
        "component_filter", "stroke_width_filter", "hull_mask", "rescale", "deskew", "crop", "pad",
    }  # fmt: skip
    assert required <= set(STAGES)


@pytest.mark.parametrize("name", list(STAGES))
def test_stage_metadata_is_complete(name: str) -> None:
    stage = STAGES[name]
    assert stage.category in CATEGORIES
    assert stage.summary and stage.returns
    assert stage.params.model_config.get("frozen") and stage.params.model_config.get("extra") == "forbid"
    for field, info in stage.params.model_fields.items():
        assert info.description, f"{name}.{field} has no description"
        if info.annotation in (int, float) or is_odd_field(info):
            low, high = bounds_of(info)
            assert low is not None and high is not None, f"{name}.{field} is unbounded"
            assert low <= info.default <= high
        if is_odd_field(info):
            assert info.default % 2 == 1


def _inputs() -> list[np.ndarray]:
    gray = text_image("Ab 12")
    colour = np.dstack([gray, np.roll(gray, 3, axis=1), 255 - gray // 2])
    return [gray, colour]


@pytest.mark.parametrize("name", list(STAGES))
def test_every_stage_runs_with_defaults_on_gray_and_colour(name: str) -> None:
    stage = STAGES[name]
    for image in _inputs():
        before = image.copy()
        out = stage(image, stage.params(), source=image)
        assert out.dtype == np.uint8 and out.ndim in (2, 3) and out.size > 0
        assert np.array_equal(image, before), f"{name} modified its input"


def _field_strategy(info: FieldInfo) -> st.SearchStrategy[Any]:
    choices = choices_of(info)
    if choices is not None:
        return st.sampled_from(choices)
    if info.annotation is bool:
        return st.booleans()
    low, high = bounds_of(info)
    if is_odd_field(info):
        first = int(low) | 1  # smallest odd value allowed
        return st.integers(0, (int(high) - first) // 2).map(lambda i: first + 2 * i)
    if info.annotation is int:
        return st.integers(int(low), int(high))
    if info.annotation is float:
        return st.floats(float(low), float(high), allow_nan=False)
    return st.just(info.default)


@st.composite
def stage_case(draw: st.DrawFn) -> tuple[str, Any, np.ndarray]:
    name = draw(st.sampled_from(list(STAGES)))
    model = STAGES[name].params
    values = {field: draw(_field_strategy(info)) for field, info in model.model_fields.items()}
    try:
        params = model(**values)
    except ValidationError:
        assume(False)
    h = draw(st.integers(1, 64))
    w = draw(st.integers(1, 64))
    colour = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    shape = (h, w, 3) if colour else (h, w)
    image = rng.integers(0, 256, size=shape, dtype=np.uint8)
    if draw(st.booleans()):
        image = np.where(image > 128, 255, 0).astype(np.uint8)
    return name, params, image


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(stage_case())
def test_random_valid_params_and_sizes_never_raise(case: tuple[str, Any, np.ndarray]) -> None:
    name, params, image = case
    out = STAGES[name](image, params, source=image)
    assert out.dtype == np.uint8 and out.ndim in (2, 3) and min(out.shape[:2]) >= 1
