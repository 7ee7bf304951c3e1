"""Reduced-resolution previews (pipeline.preview): the factor, the scaled parameters, and that a
preview of the scaled preset looks like the full run reduced."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.params import field_specs
from pipeline.preset import Preset, StageSpec, load_preset
from pipeline.preview import PREVIEW_PIXELS, preview_factor, reduce, scale_params, scale_preset
from pipeline.registry import all_stages, get_stage
from pipeline.runner import run
from pipeline.shipped import presets_folder

from .stage_images import multiline


@pytest.mark.parametrize(
    ("shape", "factor"),
    [((3024, 4032), 2), ((4000, 6000), 3), ((1000, 1000), 1), ((1870, 1870), 1), ((1871, 1871), 2)],
)
def test_preview_factor_is_the_smallest_whole_factor_that_fits(shape: tuple[int, int], factor: int) -> None:
    assert preview_factor(shape) == factor
    pixels = shape[0] * shape[1]
    assert pixels <= PREVIEW_PIXELS * factor**2
    assert factor == 1 or pixels > PREVIEW_PIXELS * (factor - 1) ** 2


def test_reduce_divides_each_side() -> None:
    image = np.zeros((3024, 4032, 3), np.uint8)
    assert reduce(image, 2).shape == (1512, 2016, 3)
    assert reduce(image, 1) is image


def _params(stage: str, **values: object):  # type: ignore[no-untyped-def]
    return get_stage(stage).params.model_validate(values)


def test_lengths_scale_by_the_factor_and_areas_by_its_square() -> None:
    p = scale_params(_params("component_filter", min_area=400, min_width=10, max_height=41), 2)
    assert (p.min_area, p.min_width, p.max_height) == (100, 5, 20)
    m = scale_params(_params("rescale", mode="text_height", target_height=30, max_pixels=40.0), 2)
    assert (m.target_height, m.max_pixels) == (15, 10.0)


def test_odd_sizes_stay_odd_and_within_bounds() -> None:
    p = scale_params(_params("background_flatten", size=75, erase=15), 2)
    assert (p.size, p.erase) == (37, 7)
    t = scale_params(_params("threshold", method="sauvola", window=5), 3)
    assert t.window == 3  # 5 / 3 rounds to 1, below the window's minimum of 3


def test_off_values_the_top_of_a_range_and_other_units_are_kept() -> None:
    p = scale_params(_params("contrast_binarise", stroke_width=0, k=0.3, smooth=3), 2)
    assert (p.stroke_width, p.k) == (0, 0.3)  # 0 = measured on the image; k is in std units
    top = next(s.high for s in field_specs(get_stage("component_filter").params) if s.name == "max_area")
    assert scale_params(_params("component_filter", max_area=top), 2).max_area == top
    assert scale_params(_params("pad", size=1), 4).size == 1  # a border that was there stays


def test_crop_margins_scale_in_px_not_in_percent() -> None:
    assert scale_params(_params("crop", unit="px", top=40.0), 2).top == 20.0
    assert scale_params(_params("crop", unit="percent", top=40.0), 2).top == 40.0


@pytest.mark.parametrize("factor", [2, 3, 7])
def test_every_stage_scales_to_valid_params(factor: int) -> None:
    for name, stage in all_stages().items():
        model = stage.params
        for values in (model(), _extremes(model)):
            scaled = scale_params(values, factor)
            assert isinstance(scaled, model), name
            for field, power in values.sized_fields().items():
                assert getattr(scaled, field) <= getattr(values, field), (name, field, power)


def _extremes(model):  # type: ignore[no-untyped-def]
    """The model with every sized field at its top bound but one step (a valid, big value)."""
    values = {}
    for spec in field_specs(model):
        if spec.size_power and spec.high is not None:
            values[spec.name] = spec.high - (2 if spec.odd else 1)
    try:
        return model.model_validate(values)
    except ValueError:  # ordered pairs (min <= max) may refuse some tops: keep the defaults then
        return model()


def test_scale_preset_scales_every_stage_and_keeps_the_rest() -> None:
    preset = load_preset(presets_folder() / "captcha.yaml")
    half = scale_preset(preset, 2)
    assert [s.stage for s in half.stages] == [s.stage for s in preset.stages]
    assert half.ocr == preset.ocr
    assert scale_preset(preset, 1) is preset
    sizes = [(a.params, b.params) for a, b in zip(preset.stages, half.stages, strict=True)]
    assert any(a != b for a, b in sizes)


def _specks_and_text() -> np.ndarray:
    """Lines of text (letters of 300-820 px, dots of 73-188) and 7x7 px specks (49 px), dark on white."""
    image = multiline(4)
    image = cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    rng = np.random.default_rng(3)
    for _ in range(60):
        y, x = int(rng.integers(0, image.shape[0] - 7)), int(rng.integers(0, image.shape[1] - 7))
        image[y : y + 7, x : x + 7] = 0
    return image


def test_a_preview_of_the_scaled_preset_looks_like_the_full_run_reduced() -> None:
    image = _specks_and_text()
    preset = Preset(
        name="specks",
        stages=(
            StageSpec(stage="threshold", params={"method": "otsu"}),
            StageSpec(stage="component_filter", params={"min_area": 280}),
        ),
    )
    full = run(image, preset, cache=None).final
    assert full.min() == 0  # the text is kept at full size

    def agreement(preview: np.ndarray) -> float:
        """Intersection over union of the preview's ink and the full run's, reduced."""
        ink, reduced = preview < 128, reduce(full, 2) < 128
        return float((ink & reduced).sum() / (ink | reduced).sum())

    scaled = run(reduce(image, 2), scale_preset(preset, 2), cache=None).final
    unscaled = run(reduce(image, 2), preset, cache=None).final
    assert agreement(scaled) > 0.95
    assert agreement(unscaled) < 0.5  # the glyphs, 4 times smaller, were removed as specks
