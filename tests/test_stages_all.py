"""Every registered stage: defaults run, metadata is complete, random valid params never crash."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pipeline.params import FieldSpec, field_specs
from pipeline.registry import CATEGORIES, all_stages, get_stage
from pipeline.stages._image import is_binary
from pipeline.stages.binarise import ThresholdParams
from pipeline.stages.colour import ColorRangeParams
from pipeline.stages.components import (
    ComponentFilterParams,
    HullMaskParams,
    StrokeWidthFilterParams,
    stroke_widths,
)
from pipeline.stages.denoise import GaussianBlurParams, MedianBlurParams, NlMeansParams
from pipeline.stages.geometry import CropParams, DeskewParams, PadParams, RescaleParams
from pipeline.stages.morphology import MorphologyParams
from pipeline.stages.tone import BackgroundFlattenParams, NormalizeParams

from .conftest import text_image
from .stage_images import (
    BINARY_OUTPUT,
    CASES,
    GRAY_OUTPUT,
    lines_image,
    random_gray,
)

STAGES = all_stages()
UNITLESS = {"clip_limit", "canny_high", "k"}
"""Numeric parameters that are plain factors or gradient magnitudes: their labels carry no unit."""


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
    for spec in field_specs(stage.params):
        assert spec.description, f"{name}.{spec.name} has no description"
        assert spec.kind != "text", f"{name}.{spec.name} has no kind a widget can edit"
        if spec.kind in ("int", "float"):
            assert spec.low is not None and spec.high is not None, f"{name}.{spec.name} is unbounded"
            assert spec.low <= spec.default <= spec.high
            assert spec.unit or not spec.tunable or spec.name in UNITLESS, f"{name}.{spec.name}: no unit"
        if spec.odd:
            assert spec.default % 2 == 1
    for low, high in stage.params.ordered:
        assert {low, high} <= set(stage.params.model_fields), (name, low, high)


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


def _field_strategy(spec: FieldSpec) -> st.SearchStrategy[Any]:
    if spec.choices is not None:
        return st.sampled_from(spec.choices)
    if spec.kind == "bool":
        return st.booleans()
    low, high = spec.low, spec.high
    assert low is not None and high is not None
    if spec.odd:
        first = int(low) | 1  # smallest odd value allowed
        return st.integers(0, (int(high) - first) // 2).map(lambda i: first + 2 * i)
    if spec.kind == "int":
        return st.integers(int(low), int(high))
    if spec.kind == "float":
        return st.floats(float(low), float(high), allow_nan=False)
    return st.just(spec.default)


@st.composite
def stage_case(draw: st.DrawFn) -> tuple[str, Any, np.ndarray]:
    name = draw(st.sampled_from(list(STAGES)))
    model = STAGES[name].params
    values = {spec.name: draw(_field_strategy(spec)) for spec in field_specs(model)}
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


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (1, 1, 3), (2, 3, 3), (17, 26), (17, 26, 3)])
@pytest.mark.parametrize(("name", "params"), CASES)
def test_stage_keeps_shape_dtype_and_input(name: str, params: dict[str, Any], shape: tuple[int, ...]) -> None:
    stage = get_stage(name)
    image = random_gray(shape, seed=len(shape) * 100 + shape[0])
    before = image.copy()
    out = stage(image, stage.params(**params))
    assert out.dtype == np.uint8
    assert np.array_equal(image, before), "the stage modified its input"
    expected = shape[:2] if name in GRAY_OUTPUT else shape
    assert out.shape == expected
    if name in BINARY_OUTPUT:
        assert is_binary(out)


def test_stages_are_registered_with_expected_returns() -> None:
    returns = {
        "color_range": "binary 0/255",
        "normalize": "same as input",
        "background_flatten": "gray",
        "gaussian_blur": "same as input",
        "median_blur": "same as input",
        "bilateral": "same as input",
        "nl_means": "same as input",
        "threshold": "binary 0/255",
        "morphology": "same as input",
    }
    for name, what in returns.items():
        stage = get_stage(name)
        assert stage.returns == what
        assert stage.summary, f"{name} has no one-line summary"
        for field, info in stage.params.model_fields.items():
            assert info.description, f"{name}.{field} has no description"


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "kwargs"),
    [
        (GaussianBlurParams, {"ksize_w": 4}),
        (GaussianBlurParams, {"ksize_h": 0}),
        (MedianBlurParams, {"ksize_w": 6}),
        (NlMeansParams, {"template_window": 8}),
        (NlMeansParams, {"template_window": 21, "search_window": 7}),
        (ThresholdParams, {"window": 30}),
        (ThresholdParams, {"value": 256}),
        (ThresholdParams, {"method": "bernsen"}),
        (BackgroundFlattenParams, {"size": 50}),
        (BackgroundFlattenParams, {"size": 303}),
        (ColorRangeParams, {"c0_min": 200, "c0_max": 100}),
        (ColorRangeParams, {"c2_min": 11, "c2_max": 10}),
        (ColorRangeParams, {"c1_max": 256}),
        (NormalizeParams, {"low_percentile": 60}),
        (MorphologyParams, {"width": 0}),
        (MorphologyParams, {"iterations": 11}),
        (MorphologyParams, {"ink": "grey"}),
        (MorphologyParams, {"kernel": 3}),
    ],
)
def test_invalid_pixel_stage_params_raise(model: type, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        model(**kwargs)


def test_params_are_frozen() -> None:
    p = ThresholdParams()
    with pytest.raises(ValidationError):
        p.window = 5  # type: ignore[misc]


def test_stroke_widths_estimate() -> None:
    labels, widths = stroke_widths(lines_image() < 128)
    by_row = {row: widths[labels[row, 100]] for row in (14, 40, 61)}
    assert by_row == {14: 9.0, 40: 1.0, 61: 3.0}
    assert 5.5 < widths[labels[95, 85]] < 7.5  # the ring


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("model", "kwargs"),
    [
        (ComponentFilterParams, {"min_area": 10, "max_area": 5}),
        (ComponentFilterParams, {"min_width": 10, "max_width": 5}),
        (ComponentFilterParams, {"min_height": 10, "max_height": 5}),
        (ComponentFilterParams, {"min_aspect": 2.0, "max_aspect": 1.0}),
        (ComponentFilterParams, {"min_fill": 0.8, "max_fill": 0.2}),
        (ComponentFilterParams, {"min_area": -1}),
        (ComponentFilterParams, {"size_rule": "all"}),
        (StrokeWidthFilterParams, {"min_width": 9, "max_width": 3}),
        (HullMaskParams, {"margin": 201}),
        (RescaleParams, {"factor": 0.05}),
        (RescaleParams, {"target_height": 500}),
        (DeskewParams, {"max_angle": 50}),
        (DeskewParams, {"max_angle": 1.0, "resolution": 2.0}),
        (CropParams, {"unit": "percent", "top": 150}),
        (PadParams, {"size": 501}),
        (PadParams, {"colour": "white"}),
    ],
)
def test_invalid_component_and_geometry_params_raise(model: type, kwargs: dict) -> None:
    with pytest.raises(ValidationError):
        model(**kwargs)


SMALL_IMAGE_STAGES = [
    "component_filter",
    "stroke_width_filter",
    "hull_mask",
    "rescale",
    "deskew",
    "crop",
    "pad",
]
"""Component and geometry stages, checked on tiny and empty images."""


@pytest.mark.parametrize("name", SMALL_IMAGE_STAGES)
@pytest.mark.parametrize(
    "image",
    [
        np.zeros((1, 1), np.uint8),
        np.full((1, 1), 255, np.uint8),
        np.full((5, 7, 3), 255, np.uint8),
        np.zeros((3, 4), np.uint8),
    ],
)
def test_tiny_and_empty_images(name: str, image: np.ndarray) -> None:
    stage = get_stage(name)
    before = image.copy()
    out = stage(image, stage.params())
    binary_out = name in ("component_filter", "stroke_width_filter")  # always 2-D 0/255
    assert out.dtype == np.uint8 and out.size > 0 and out.ndim == (2 if binary_out else image.ndim)
    assert np.array_equal(image, before)


def test_registered_metadata() -> None:
    for name in SMALL_IMAGE_STAGES:
        stage = get_stage(name)
        assert stage.summary and stage.returns
        for field_name, info in stage.params.model_fields.items():
            assert info.description, f"{name}.{field_name} has no description"
    assert get_stage("hull_mask").takes_source and not get_stage("component_filter").takes_source


def _unused_cases() -> list[tuple[str, str, str, Any]]:
    """(stage, field, controlling field, a value of it the field is not used with), for every
    ``used_when`` declaration."""
    cases = []
    for name, stage in all_stages().items():
        for spec in field_specs(stage.params):
            for control, allowed in spec.when:
                control_spec = next(f for f in field_specs(stage.params) if f.name == control)
                options = control_spec.choices if control_spec.kind == "choice" else (True, False)
                cases += [(name, spec.name, control, v) for v in options if v not in allowed]
    return cases


@pytest.mark.parametrize(("stage", "field", "control", "value"), _unused_cases())
def test_a_field_declared_unused_cannot_change_the_output(
    stage: str, field: str, control: str, value: Any
) -> None:
    """``used_when`` is what hides a field in the studio and the tuner: it must be true."""
    model = get_stage(stage).params
    spec = next(f for f in field_specs(model) if f.name == field)
    base = {control: value}
    image = text_image("Unused 42")
    if stage == "component_filter":
        image = (image > 128).astype(np.uint8) * 255
    if spec.kind == "bool":
        other = not spec.default
    elif spec.kind == "choice":
        other = next(c for c in spec.choices if c != spec.default)
    else:
        other = spec.high if spec.default != spec.high else spec.low
        if spec.odd and other is not None and other % 2 == 0:
            other -= 1
    a = get_stage(stage).func(image, model.model_validate(base))
    b = get_stage(stage).func(image, model.model_validate({**base, field: other}))
    assert a.shape == b.shape and np.array_equal(a, b)


def test_every_declared_unused_field_is_used_with_some_value() -> None:
    """The declarations name real fields and values: a typo would hide a field for good."""
    for stage in all_stages().values():
        names = {f.name: f for f in field_specs(stage.params)}
        for field, conditions in stage.params.used_when.items():
            assert field in names, (stage.name, field)
            for control, allowed in conditions.items():
                spec = names[control]
                options = spec.choices if spec.kind == "choice" else (True, False)
                assert set(allowed) <= set(options), (stage.name, control, allowed)
