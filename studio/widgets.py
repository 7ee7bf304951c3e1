"""A stage's parameters model mapped to Streamlit widgets.

:func:`widget_spec` turns one pydantic field into a :class:`WidgetSpec`, a plain description
(kind, bounds, step, choices, help) that unit tests check without Streamlit;
:func:`render_field` draws it. The rules:

* bounded numbers -> ``slider`` with the model's step (default 1 for integers, a round
  hundredth of the range for floats); odd-only integers step by 2 from an odd minimum;
* numbers with an open bound, or a range too long for a slider to be usable (more than
  :data:`MAX_SLIDER_STEPS` steps, e.g. an area of 0..100,000,000 px) -> ``number`` input;
* ``Literal`` choices -> ``select``; ``bool`` -> ``toggle``; anything else -> ``text``.

The help text is the field description (which states the unit) plus its allowed range.
"""

from __future__ import annotations

import math
import re
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from pipeline.params import bounds_of, choices_of, describe_range, is_odd_field, step_of

MAX_SLIDER_STEPS = 2000
"""Ranges with more steps than this get a number input: a slider could not hit a value."""

WidgetKind = Literal["slider", "number", "select", "toggle", "text"]


@dataclass(frozen=True)
class WidgetSpec:
    """How one parameter is edited.

    Attributes
    ----------
    field:
        The field name in the params model.
    label:
        Human label, e.g. ``"Block size"`` for ``block_size``.
    kind:
        ``slider``, ``number``, ``select``, ``toggle`` or ``text``.
    default:
        The model's default value.
    help:
        Description with unit, and the allowed range.
    min, max, step:
        Numeric bounds and increment (numbers only; ``None`` when open).
    is_int:
        True for integer fields (values are ``int``, else ``float``).
    options:
        The allowed values (``select`` only).
    """

    field: str
    label: str
    kind: WidgetKind
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    step: float | None = None
    is_int: bool = False
    options: tuple[Any, ...] = ()

    def coerce(self, value: Any) -> Any:
        """``value`` as the model wants it: snapped to the step and bounds, int or float.

        Float widgets return values like ``0.30000000000000004``; this rounds them to the
        step's decimals so presets and share links stay tidy.
        """
        if self.kind in ("slider", "number"):
            if value is None:
                return self.default
            number = float(value)
            if self.min is not None:
                number = max(number, self.min)
            if self.max is not None:
                number = min(number, self.max)
            if self.is_int:
                return round(number)
            return round(number, _decimals(self.step))
        if self.kind == "toggle":
            return bool(value)
        if self.kind == "select":
            return value if value in self.options else self.default
        return "" if value is None else str(value)


def humanize(name: str) -> str:
    """``"block_size"`` -> ``"Block size"``; short all-letter names stay as they are (``k``, ``c``)."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if len(text) > 2 else text


def _base_type(annotation: Any) -> Any:
    """The annotation without ``Annotated[...]`` and ``Optional``."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _base_type(args[0])
    return annotation


def _decimals(step: float | None) -> int:
    """Decimal places needed to write multiples of ``step`` (at most 6)."""
    if not step:
        return 6
    for places in range(7):
        if abs(round(step, places) - step) < 1e-9:
            return places
    return 6


def _nice_step(span: float) -> float:
    """A round step giving about 100 positions across ``span`` (1, 2 or 5 times a power of 10)."""
    if span <= 0:
        return 0.01
    raw = span / 100
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power  # pragma: no cover


_UNIT = re.compile(
    r"\((px|degrees|ratio|megapixels|percent|gray levels|levels)[;,)]"
    r"|,\s*(px|degrees|gray levels|percent|count)\b"
)
"""A unit named in a field's description: "(px)", "(px; 0 = off)", "Window, px." ..."""


def unit_of(description: str) -> str | None:
    """The unit a field's description names (``"px"``, ``"degrees"``...), or ``None``."""
    match = _UNIT.search(description)
    return (match.group(1) or match.group(2)) if match else None


def widget_spec(field: str, info: FieldInfo) -> WidgetSpec:
    """The widget description of one params field (see the module docstring for the rules)."""
    description = (info.description or "").strip()
    help_text = (
        f"{description} Allowed: {describe_range(info)}."
        if description
        else f"Allowed: {describe_range(info)}."
    )
    label = humanize(field)
    unit = unit_of(description)
    if unit:
        label = f"{label}, {unit}"
    default = info.get_default(call_default_factory=True)
    choices = choices_of(info)
    if choices is not None:
        return WidgetSpec(field, label, "select", default, help_text, options=tuple(choices))
    base = _base_type(info.annotation)
    if base is bool:
        return WidgetSpec(field, label, "toggle", bool(default), help_text)
    if base in (int, float):
        is_int = base is int
        low, high = bounds_of(info)
        step = step_of(info)
        if is_odd_field(info):
            step = 2
            if low is not None and low % 2 == 0:
                low += 1
            if high is not None and high % 2 == 0:
                high -= 1
        if step is None:
            step = 1 if is_int else (_nice_step(high - low) if low is not None and high is not None else 0.1)
        if is_int:
            step = max(1, int(step))
            low = None if low is None else math.ceil(low)
            high = None if high is None else math.floor(high)
        else:
            step = float(step)
            low = None if low is None else float(low)
            high = None if high is None else float(high)
        few_steps = low is not None and high is not None and (high - low) / step <= MAX_SLIDER_STEPS
        kind: WidgetKind = "slider" if few_steps else "number"
        return WidgetSpec(
            field,
            label,
            kind,
            default if default is None else (int(default) if is_int else float(default)),
            help_text,
            min=low,
            max=high,
            step=step,
            is_int=is_int,
        )
    return WidgetSpec(field, label, "text", "" if default is None else str(default), help_text)


def specs_for(model: type[BaseModel]) -> list[WidgetSpec]:
    """The widget descriptions of every field of a params model, in declaration order."""
    return [widget_spec(name, info) for name, info in model.model_fields.items()]


def render_field(st: Any, spec: WidgetSpec, key: str, *, disabled: bool = False) -> Any:
    """Draw the widget for ``spec`` bound to session-state ``key`` and return its value.

    The value is taken from ``st.session_state[key]``, which the caller seeds (see
    :mod:`studio.state`); no ``value=`` is passed, so Streamlit never warns about a widget
    having both.
    """
    common = {"key": key, "help": spec.help, "disabled": disabled}
    if spec.kind == "slider":
        return st.slider(spec.label, min_value=spec.min, max_value=spec.max, step=spec.step, **common)
    if spec.kind == "number":
        fmt = None if spec.is_int else f"%.{_decimals(spec.step)}f"
        return st.number_input(
            spec.label, min_value=spec.min, max_value=spec.max, step=spec.step, format=fmt, **common
        )
    if spec.kind == "select":
        return st.selectbox(spec.label, options=list(spec.options), **common)
    if spec.kind == "toggle":
        return st.toggle(spec.label, **common)
    return st.text_input(spec.label, **common)
