"""A stage's parameters model mapped to Streamlit widgets.

:func:`widget_spec` turns one parameter's :class:`~pipeline.params.FieldSpec` into a
:class:`WidgetSpec`, a plain description (kind, bounds, step, choices, help) that unit tests
check without Streamlit;
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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from pipeline.params import FieldSpec, field_specs

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
        Human label with its unit, e.g. ``"Block size, px"`` for ``block_size``.
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
    basic:
        Shown to a newcomer; the others sit under "More settings".
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
    basic: bool = True

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


def widget_spec(spec: FieldSpec) -> WidgetSpec:
    """The widget description of one parameter (see the module docstring for the rules)."""
    help_text = (
        f"{spec.description} Allowed: {spec.allowed}." if spec.description else f"Allowed: {spec.allowed}."
    )
    common: dict[str, Any] = {"field": spec.name, "label": spec.label, "help": help_text, "basic": spec.basic}
    if spec.choices is not None:
        return WidgetSpec(kind="select", default=spec.default, options=spec.choices, **common)
    if spec.kind == "bool":
        return WidgetSpec(kind="toggle", default=bool(spec.default), **common)
    if spec.kind in ("int", "float"):
        return _numeric_widget(spec, common)
    default = "" if spec.default is None else str(spec.default)
    return WidgetSpec(kind="text", default=default, **common)


def _numeric_widget(spec: FieldSpec, common: dict[str, Any]) -> WidgetSpec:
    is_int = spec.kind == "int"
    low, high, step = spec.low, spec.high, spec.step
    if spec.odd:
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
    default = spec.default
    return WidgetSpec(
        kind="slider" if few_steps else "number",
        default=default if default is None else (int(default) if is_int else float(default)),
        min=low,
        max=high,
        step=step,
        is_int=is_int,
        **common,
    )


def specs_for(model: type[BaseModel]) -> list[WidgetSpec]:
    """The widget descriptions of every field of a params model, in declaration order."""
    return [widget_spec(spec) for spec in field_specs(model)]


def render_field(
    st: Any,
    spec: WidgetSpec,
    key: str,
    *,
    disabled: bool = False,
    on_change: Callable[[], None] | None = None,
) -> Any:
    """Draw the widget for ``spec`` bound to session-state ``key`` and return its value.

    The value is taken from ``st.session_state[key]``, which the caller seeds (see
    :mod:`studio.state`); no ``value=`` is passed, so Streamlit never warns about a widget
    having both. ``on_change`` is called when the user changes the value.
    """
    common = {"key": key, "help": spec.help, "disabled": disabled, "on_change": on_change}
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
