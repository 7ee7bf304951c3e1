"""Reduced-resolution runs: what the studio shows while a slider moves on a big photo.

The stages of a 12 MP photo take seconds; the studio's tiles show at most 900 px of it. So
while a setting changes, the studio first runs the preset on a copy reduced by a whole factor
(:func:`preview_factor`, to at most :data:`PREVIEW_PIXELS`), then on the full image, whose
result replaces the preview and is what the OCR reads.

For the preview to look like the full run, every size parameter is scaled with the image
(:func:`scale_preset`): lengths in px by the factor, areas and pixel counts by its square, as
each field declares (:attr:`pipeline.params.FieldSpec.size_power`). Scaled values are rounded
to what the field allows (whole numbers, odd kernel sides, its bounds), so small kernels do
not shrink below their minimum: a 3 px opening stays 3 px on a copy halved, and the preview
is only as faithful as that rounding. ``0`` (off, or measured on the image) and the top of a
range (no limit) keep their meaning and are not scaled.
"""

from __future__ import annotations

import math
from typing import TypeVar

import cv2
import numpy as np

from .params import FieldSpec, StageParams, field_spec
from .preset import Preset

PREVIEW_PIXELS = 3_500_000
"""Most pixels of a preview copy: a 12 MP photo is halved, a 24 MP one reduced by 3."""

P = TypeVar("P", bound=StageParams)


def preview_factor(shape: tuple[int, ...], max_pixels: int = PREVIEW_PIXELS) -> int:
    """The smallest whole factor that brings an image of ``shape`` (height, width, ...) to at
    most ``max_pixels`` pixels; 1 when it already fits."""
    pixels = shape[0] * shape[1]
    factor = max(1, math.ceil(math.sqrt(pixels / max_pixels)))
    while pixels > max_pixels * factor * factor:  # guards the float square root
        factor += 1
    return factor


def reduce(image: np.ndarray, factor: int) -> np.ndarray:
    """``image`` reduced by ``factor`` on each side (area averaging); the image itself for 1."""
    if factor <= 1:
        return image
    h, w = image.shape[:2]
    size = (max(1, round(w / factor)), max(1, round(h / factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def scale_params(params: P, factor: float) -> P:
    """``params`` for an image ``factor`` times smaller: its size fields scaled (module docs)."""
    sized = params.sized_fields()
    if factor == 1 or not sized:
        return params
    model = type(params)
    updates = {
        name: _scaled(getattr(params, name), factor**power, field_spec(model, name))
        for name, power in sized.items()
    }
    return model.model_validate({**params.model_dump(), **updates})


def _scaled(value: float, divisor: float, spec: FieldSpec) -> float:
    """One size value divided by ``divisor``, rounded and bounded as the field allows."""
    if value == 0 or (spec.high is not None and value >= spec.high):
        return value  # off / measured on the image, or no limit
    exact = value / divisor
    if spec.kind == "float":
        scaled = exact
    elif spec.odd:
        scaled = 2 * round((exact - 1) / 2) + 1
    else:
        scaled = max(1, round(exact))  # a length that was on stays on
    if spec.low is not None:
        scaled = max(scaled, spec.low)
    if spec.high is not None:
        scaled = min(scaled, spec.high)
    return int(scaled) if spec.kind == "int" else float(scaled)


def scale_preset(preset: Preset, factor: float) -> Preset:
    """``preset`` with every stage's size parameters scaled for an image ``factor`` times smaller."""
    if factor == 1:
        return preset
    stages = tuple(
        spec.model_copy(update={"params": scale_params(spec.params, factor)}) for spec in preset.stages
    )
    return preset.model_copy(update={"stages": stages})
