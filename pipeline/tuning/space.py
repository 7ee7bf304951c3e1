"""The search space of a tuning run, derived from the stages' parameter models.

Nothing here is written per stage. Every field of every stage of the base preset becomes one
:class:`Dimension` according to its declaration, read as a :class:`~pipeline.params.FieldSpec`:

``Literal`` fields
    a categorical over the allowed values.
``bool`` fields
    a categorical ``False``/``True``.
numeric fields (``ge``/``le`` bounds)
    an interval *around the base value*, not the whole declared range: declared ranges are
    safety limits (a component area up to 1e8 px, a window up to 301 px), and a search over
    them wastes almost every trial on values that remove all the text or nothing at all. The
    interval is ``[base / 4, base * 4]`` (within the bounds), searched on a log scale, so that
    a 3 px kernel and a 150 px grouping are both explored in proportion. Signed fields (a
    range below 0, e.g. Sauvola's ``k``) are searched linearly over their whole range. When
    the base value sits on a bound ("0 = off", "top = no limit") the interval is the whole
    positive range on a log scale. Very wide ranges (high / low above :data:`WIDE`) are capped
    by the images: at the largest image's pixel count for fields named ``*area*``, else at its
    longest side (no length in pixels, and no ratio of two lengths, can usefully exceed it).
    Odd fields always get odd values, integer fields integers, fields with a declared
    ``step`` values on that grid.
fixed fields
    fields declared as conventions (:func:`~pipeline.params.convention`: ink polarity, border
    colours, units, colour space) or with ``tune=False`` (safety limits) keep the base value:
    the next stages or the preset's author rely on them; they are not strengths to tune. So
    does a field that cannot change the output with the base's values of the fields it depends
    on (the model's ``used_when``: the threshold value of the otsu method) when those are not
    searched; when they are, it is searched with them.

Each stage also gets a categorical ``enabled`` dimension, and the OCR a page segmentation
mode dimension (:data:`PSM_CHOICES` plus the base preset's own). A stage's parameters are only
sampled when the stage is enabled (a conditional space, which Optuna's TPE handles).

Whenever the base value is outside the searched interval (a sentinel on a bound), the
dimension gets a small extra *zone* beside the interval that decodes to the base value, so the
base preset is a point of the space (it is enqueued as trial 0) and the search can return to it.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from pydantic import ValidationError

from ..params import FieldSpec, StageParams, field_specs
from ..preset import Preset, StageSpec
from ..registry import get_stage

PSM_CHOICES: tuple[int, ...] = (3, 4, 6, 7, 8, 11, 13)
"""Page segmentation modes searched (the base preset's psm is always added)."""

WINDOW = 4.0
"""Numeric fields are searched within ``[base / WINDOW, base * WINDOW]`` (see the module doc)."""

WIDE = 1000.0
"""A positive range whose high / low ratio exceeds this is capped at the largest image's area."""

LOG_RATIO = 8.0
"""An interval whose high / low ratio reaches this is searched on a log scale."""

MAX_INT_CHOICES = 16
"""Integer intervals with at most this many values are searched as integers, linearly."""

Kind = Literal["categorical", "int", "float"]
Cast = Literal["any", "int", "odd", "float"]


class InvalidCombination(ValueError):
    """The sampled values break a rule of the stage's model (e.g. ``template_window > search_window``)."""


@dataclass(frozen=True)
class Dimension:
    """One searched value: a stage field, a stage's ``enabled`` flag or the OCR psm.

    Attributes
    ----------
    name:
        The Optuna parameter name: ``"<n>.<stage>.<field>"`` with ``n`` the 1-based position
        of the stage (``"2.threshold.window"``), ``"<n>.<stage>.enabled"``, or ``"ocr.psm"``.
    stage_index:
        0-based stage position, ``None`` for the OCR psm.
    field:
        The parameter name, ``"enabled"`` or ``"psm"``.
    kind:
        How Optuna samples it: a categorical, an integer or a float.
    base:
        The base preset's value (what :meth:`decode` of :meth:`encode` (``base``) gives).
    choices:
        Categorical choices.
    low, high:
        The sampled interval (int and float kinds), including the zone if any.
    log:
        Sampled on a log scale.
    step:
        Integer step (2 for odd fields), int kind only.
    cast:
        How a sampled float becomes a field value: ``int``, ``odd``, ``float`` (on ``grid``).
    grid:
        Float fields with a declared step are rounded to multiples of it from ``bounds[0]``.
    bounds:
        The field's declared inclusive bounds (values are clamped to them).
    zone:
        ``"below"``/``"above"``: the part of the interval below ``inner[0]`` / above ``inner[1]``
        decodes to ``base`` (see the module doc); ``""`` when there is none.
    inner:
        The interval searched for real values (``low``..``high`` without the zone).
    """

    name: str
    stage_index: int | None
    field: str
    kind: Kind
    base: Any
    choices: tuple[Any, ...] = ()
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    step: int = 1
    cast: Cast = "any"
    grid: float | None = None
    bounds: tuple[float, float] = (0.0, 0.0)
    zone: Literal["", "below", "above"] = ""
    inner: tuple[float, float] = (0.0, 0.0)

    def distribution(self) -> BaseDistribution:
        """The Optuna distribution this dimension is sampled from."""
        if self.kind == "categorical":
            return CategoricalDistribution(self.choices)
        if self.kind == "int":
            return IntDistribution(int(self.low), int(self.high), step=self.step)
        return FloatDistribution(self.low, self.high, log=self.log)

    def encode(self, value: Any) -> Any:
        """The raw (Optuna) value standing for field value ``value``; used to enqueue the base."""
        if self.kind == "categorical":
            return value
        if self.kind == "int":
            return int(value)
        if value == self.base and self.zone:
            a, b = self.inner
            if self.log:
                return math.sqrt(self.low * a) if self.zone == "below" else math.sqrt(b * self.high)
            return (self.low + a) / 2 if self.zone == "below" else (b + self.high) / 2
        return float(value)

    def decode(self, raw: Any) -> Any:
        """The field value for a raw sampled value (rounded, odd, clamped as the field wants)."""
        if self.kind != "float":
            return raw
        if raw == self.encode(self.base):
            return self.base
        a, b = self.inner
        if (self.zone == "below" and raw < a) or (self.zone == "above" and raw > b):
            return self.base
        return _round_to_field(raw, self.cast, self.grid, self.bounds)

    def describe(self) -> str:
        """Short human text of what is searched, e.g. ``7.75..124 log, odd``."""
        if self.kind == "categorical":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        a, b = (self.low, self.high) if self.kind == "int" else self.inner
        text = f"{_fmt(a)}..{_fmt(b)}"
        if self.log:
            text += " log"
        if self.cast == "odd" or self.step == 2:
            text += ", odd"
        if self.zone:
            text += f", or {self.base!r} (base)"
        return text


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _round_to_field(raw: float, cast: Cast, grid: float | None, bounds: tuple[float, float]) -> Any:
    lo, hi = bounds
    if cast == "odd":
        low_odd = math.ceil(lo) | 1
        high_odd = math.floor(hi)
        high_odd -= 1 - high_odd % 2
        value = 2 * round((raw - 1) / 2) + 1
        return int(min(max(value, low_odd), high_odd))
    if cast == "int":
        return int(min(max(round(raw), math.ceil(lo)), math.floor(hi)))
    # on the declared grid (printed to 12 digits to drop binary noise: 0.2, not 0.19999...), else 3 digits
    snapped = float(f"{lo + round((raw - lo) / grid) * grid:.12g}") if grid else float(f"{raw:.3g}")
    return float(min(max(snapped, lo), hi))


# ------------------------------------------------------------------------------------- fields


def field_dimension(
    name: str,
    spec: FieldSpec,
    base: Any,
    *,
    image_area: int,
    image_side: int | None = None,
    stage_index: int | None = None,
    field: str = "",
) -> Dimension | None:
    """The dimension searching one parameter field, or ``None`` when it stays fixed.

    Parameters
    ----------
    name:
        The Optuna parameter name to give it.
    spec:
        The field's declaration (:func:`~pipeline.params.field_spec`).
    base:
        The base preset's value of the field.
    image_area, image_side:
        Pixels (width x height) and longest side of the largest tuning image: the caps of very
        wide ranges (``image_side`` defaults to the square root of ``image_area``).
    """
    field = field or name.rsplit(".", 1)[-1]
    if spec.choices is not None:
        if len(spec.choices) < 2:
            return None
        return Dimension(name, stage_index, field, "categorical", base, choices=spec.choices)
    if spec.kind == "bool":
        return Dimension(name, stage_index, field, "categorical", base, choices=(False, True))
    lo, hi = spec.low, spec.high
    if lo is None or hi is None or not lo < hi or isinstance(base, bool) or not isinstance(base, int | float):
        return None
    side = image_side if image_side is not None else math.isqrt(max(1, int(image_area)))
    cap = image_area if "area" in field else side
    return _numeric_dimension(name, spec, float(base), base, lo, hi, cap, stage_index, field)


def _numeric_dimension(
    name: str,
    spec: FieldSpec,
    v: float,
    base: Any,
    lo: float,
    hi: float,
    cap: int,
    stage_index: int | None,
    field: str,
) -> Dimension:
    odd = spec.odd
    is_int = spec.kind == "int"
    cast: Cast = "odd" if odd else "int" if is_int else "float"
    grid = None if is_int else spec.step  # float fields with a declared step stay on its grid
    unit = 2.0 if odd else 1.0 if is_int else (grid or 0.0)

    if lo < 0:  # signed quantity: linear over the whole declared range
        a, b, log = float(lo), float(hi), False
    else:
        floor = float(lo) if lo > 0 else (unit or hi / 1000.0)
        ceiling = float(hi)
        if ceiling / floor > WIDE:
            ceiling = min(ceiling, max(float(cap), floor * 10.0))
        a, b = floor, ceiling
        if lo < v < hi and b / a > WINDOW * WINDOW / 2:
            a, b = max(a, v / WINDOW), min(b, v * WINDOW)
            if b <= a:
                a, b = floor, ceiling
        log = b / a >= LOG_RATIO

    if is_int:
        step = 2 if odd else 1
        ia, ib = _int_interval(a, b, odd)
        if ib > ia and (ib - ia) // step + 1 <= MAX_INT_CHOICES:
            ia, ib = min(ia, int(v)), max(ib, int(v))  # the base is always one of the values
            return Dimension(
                name,
                stage_index,
                field,
                "int",
                base,
                low=ia,
                high=ib,
                step=step,
                cast=cast,
                bounds=(lo, hi),
                inner=(ia, ib),
            )

    zone: Literal["", "below", "above"] = ""
    low, high = a, b
    if v < a:
        zone = "below"
        low = a / 2.0 if log else a - max((b - a) / 10.0, unit or (b - a) / 10.0)
    elif v > b:
        zone = "above"
        high = b * 2.0 if log else b + max((b - a) / 10.0, unit or (b - a) / 10.0)
    return Dimension(
        name,
        stage_index,
        field,
        "float",
        base,
        low=low,
        high=high,
        log=log,
        cast=cast,
        grid=grid,
        bounds=(lo, hi),
        zone=zone,
        inner=(a, b),
    )


def _int_interval(a: float, b: float, odd: bool) -> tuple[int, int]:
    ia, ib = math.ceil(a), math.floor(b)
    if odd:
        ia += 1 - ia % 2
        ib -= 1 - ib % 2
    return ia, ib


# ------------------------------------------------------------------------------------- space


@dataclass(frozen=True)
class SearchSpace:
    """Every dimension of a tuning run over ``base`` and how a sample becomes a preset."""

    base: Preset
    dimensions: tuple[Dimension, ...]
    frozen: tuple[str, ...] = field(default=())

    @property
    def by_name(self) -> dict[str, Dimension]:
        """The dimensions by Optuna parameter name."""
        return {d.name: d for d in self.dimensions}

    def stage_dimensions(self, index: int) -> list[Dimension]:
        """The parameter dimensions of stage ``index`` (0-based), without ``enabled``."""
        return [d for d in self.dimensions if d.stage_index == index and d.field != "enabled"]

    def base_params(self) -> dict[str, Any]:
        """Raw values that make :meth:`preset` return the base preset (to enqueue it)."""
        out: dict[str, Any] = {}
        for d in self.dimensions:
            index = d.stage_index
            if index is not None and d.field != "enabled" and not self.base.stages[index].enabled:
                continue
            out[d.name] = d.encode(d.base)
        return out

    def preset(self, suggest: Any) -> tuple[Preset, dict[str, Any]]:
        """Build a preset by asking ``suggest(dimension) -> raw value`` for each searched value.

        Parameters of a disabled stage are not asked for (they keep the base values).
        Returns the preset and the decoded values by dimension name. Raises
        :class:`InvalidCombination` when the values break a rule of a stage's model that a
        swap of ``min_*``/``max_*`` pairs does not mend.
        """
        values: dict[str, Any] = {}
        specs: list[StageSpec] = []
        by_name = self.by_name
        for index, spec in enumerate(self.base.stages):
            enabled_dim = by_name.get(_name(index, spec.stage, "enabled"))
            enabled = spec.enabled
            if enabled_dim is not None:
                enabled = bool(enabled_dim.decode(suggest(enabled_dim)))
                values[enabled_dim.name] = enabled
            params = spec.params
            if enabled:
                updates: dict[str, Any] = {}
                for d in self.stage_dimensions(index):
                    value = d.decode(suggest(d))
                    values[d.name] = value
                    updates[d.field] = value
                if updates:
                    data = {**spec.params.model_dump(), **updates}
                    params = _validated(get_stage(spec.stage).params, data, index)
            # every other field of the stage (its id, source, engines) stays as in the base
            specs.append(spec.model_copy(update={"enabled": enabled, "params": params}))
        ocr = self.base.ocr
        psm_dim = by_name.get("ocr.psm")
        if psm_dim is not None:
            psm = int(psm_dim.decode(suggest(psm_dim)))
            values[psm_dim.name] = psm
            # the chosen mode is read anyway, so it leaves the alternatives (options stay valid)
            alternatives = tuple(m for m in ocr.alternative_psm if m != psm)
            ocr = ocr.model_copy(update={"psm": psm, "alternative_psm": alternatives})
        return self.base.model_copy(update={"stages": tuple(specs), "ocr": ocr}), values


def _name(index: int, stage: str, field: str) -> str:
    return f"{index + 1}.{stage}.{field}"


def _validated(model: type[StageParams], data: dict[str, Any], index: int) -> StageParams:
    try:
        return model.model_validate(data)
    except ValidationError:
        pass
    repaired = _swap_inverted_pairs(model, data)
    try:
        return model.model_validate(repaired)
    except ValidationError as exc:
        raise InvalidCombination(f"stage {index + 1}: {exc.errors()[0]['msg']}") from None


def _swap_inverted_pairs(model: type[StageParams], data: dict[str, Any]) -> dict[str, Any]:
    """Swap the values of the model's ``ordered`` pairs that are in the wrong order."""
    out = dict(data)
    for low_name, high_name in model.ordered:
        if low_name in out and high_name in out:
            low, high = out[low_name], out[high_name]
            if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
                out[low_name], out[high_name] = high, low
    return out


def search_space(
    base: Preset,
    *,
    image_area: int,
    image_side: int | None = None,
    freeze: Collection[str] = (),
    psm_choices: Iterable[int] | None = PSM_CHOICES,
    stage_toggles: bool = True,
) -> SearchSpace:
    """Derive the search space of ``base`` (see the module docstring).

    Parameters
    ----------
    image_area, image_side:
        Pixels (width x height) of the largest tuning image and the longest side of any: the
        caps of very wide ranges (see :func:`field_dimension`).
    freeze:
        Field names kept fixed besides the declared conventions, as ``"field"`` (in every
        stage) or ``"<n>.field"`` (stage ``n``, 1-based); ``"enabled"`` keeps every stage's
        on/off state.
    psm_choices:
        Page segmentation modes to search (the base's own is added); ``None`` or empty keeps it.
    stage_toggles:
        Search whether each stage is enabled.
    """
    dims: list[Dimension] = []
    frozen: list[str] = []
    freeze = set(freeze)
    for index, spec in enumerate(base.stages):
        stage = get_stage(spec.stage)
        if stage_toggles and "enabled" not in freeze and f"{index + 1}.enabled" not in freeze:
            dims.append(
                Dimension(
                    _name(index, spec.stage, "enabled"),
                    index,
                    "enabled",
                    "categorical",
                    spec.enabled,
                    choices=(True, False),
                )
            )
        specs = field_specs(stage.params)
        searched = {f.name for f in specs if f.tunable and not {f.name, f"{index + 1}.{f.name}"} & freeze}
        values = spec.params.model_dump()
        for field_spec in specs:
            fname = field_spec.name
            name = _name(index, spec.stage, fname)
            unused = not field_spec.applies(values) and not any(c in searched for c, _ in field_spec.when)
            if fname not in searched or unused:  # unused: no value of it can change the output
                frozen.append(name)
                continue
            dim = field_dimension(
                name,
                field_spec,
                getattr(spec.params, fname),
                image_area=image_area,
                image_side=image_side,
                stage_index=index,
                field=fname,
            )
            if dim is None:
                frozen.append(name)
            else:
                dims.append(dim)
    if psm_choices:
        choices = tuple(sorted({*psm_choices, base.ocr.psm}))
        if len(choices) > 1:
            dims.append(Dimension("ocr.psm", None, "psm", "categorical", base.ocr.psm, choices=choices))
    return SearchSpace(base=base, dimensions=tuple(dims), frozen=tuple(frozen))
