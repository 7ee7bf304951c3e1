"""Building blocks for stage parameter models.

A stage's parameters are declared once, as a frozen pydantic model built from the annotated
types below. Everything about a field is declared on it: bounds (``ge``/``le``), the step
(:func:`number`, :func:`odd_int`), odd-only values (:data:`Odd`), choices (``Literal``), the
meaning and unit (the description: "Window, px."), whether it is a convention the tuner must
not change (:func:`convention`). The model adds which fields a newcomer sees first
(``main_fields``) and which pairs must be in order (``ordered``, e.g. ``min_area <= max_area``).

:func:`field_spec` reads all of it into one :class:`FieldSpec`, which validation messages, the
studio's widgets, the tuner's search space, ``clarity stages`` and the README reference use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import UnionType
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.fields import FieldInfo


class StageParams(BaseModel):
    """Base class of every stage's parameters: immutable, unknown fields refused.

    ``main_fields`` names the few fields a newcomer needs (the studio shows the others under
    "More settings"); empty means every field is a main one. ``ordered`` lists the
    ``(low, high)`` field pairs whose values must satisfy ``low <= high``. ``used_when`` names
    the fields that only matter for some values of another field (``{"value": {"method":
    ("fixed",)}}``: the threshold value only for the fixed method); elsewhere they cannot change
    the output, so the studio does not offer them and the tuner does not search them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    main_fields: ClassVar[tuple[str, ...]] = ()
    ordered: ClassVar[tuple[tuple[str, str], ...]] = ()
    used_when: ClassVar[dict[str, dict[str, tuple[Any, ...]]]] = {}

    def sized_fields(self) -> dict[str, int]:
        """The fields whose values follow the image's size, each with its power
        (:attr:`FieldSpec.size_power`: 1 for lengths, 2 for areas); :mod:`pipeline.preview`
        scales them for a run on a reduced copy. A model overrides it when a field's unit
        depends on another field (a crop given in percent does not follow the size)."""
        return {spec.name: spec.size_power for spec in field_specs(type(self)) if spec.size_power}

    @model_validator(mode="after")
    def _pairs_in_order(self) -> StageParams:
        for low, high in self.ordered:
            if getattr(self, low) > getattr(self, high):
                raise ValueError(
                    f"{low} ({getattr(self, low)}) must not be greater than {high} ({getattr(self, high)})"
                )
        return self


def _must_be_odd(value: int) -> int:
    if value % 2 == 0:
        raise ValueError("must be odd")
    return value


def odd_int(default: int, ge: int, le: int, description: str) -> Any:
    """A field holding an odd integer (kernel and window sizes), with step 2 in the UI.

    Parameters
    ----------
    default, ge, le:
        Default value and inclusive bounds; all three must be odd.
    description:
        One line saying what the value means, with its unit.
    """
    return Field(default, ge=ge, le=le, description=description, json_schema_extra={"step": 2})


def number(
    default: float, ge: float, le: float, description: str, step: float | None = None, *, tune: bool = True
) -> Any:
    """A bounded numeric field; ``step`` is the widget increment (omit for a sensible default).

    ``tune=False`` keeps the tuner off it (a safety limit, not a strength).
    """
    extra: dict[str, Any] = {"step": step} if step is not None else {}
    if not tune:
        extra["tune"] = False
    return Field(default, ge=ge, le=le, description=description, json_schema_extra=extra or None)


def convention(default: Any, description: str) -> Any:
    """A field stating a convention other stages or the preset's author rely on (ink polarity,
    a border colour, the unit other fields are given in): validated and shown, never tuned."""
    return Field(default, description=description, json_schema_extra={"tune": False})


Odd = Annotated[int, AfterValidator(_must_be_odd)]
"""An ``int`` that must be odd; combine with :func:`odd_int` for bounds and step."""


def _step_of(info: FieldInfo) -> float | None:
    """The widget step declared on a field, or ``None`` when none was declared."""
    extra = info.json_schema_extra
    if isinstance(extra, dict) and "step" in extra:
        return extra["step"]  # type: ignore[return-value]
    return None


def _bounds_of(info: FieldInfo) -> tuple[float | None, float | None]:
    """The inclusive ``(low, high)`` bounds declared on a numeric field (``None`` if open)."""
    low = high = None
    for meta in info.metadata:
        low = getattr(meta, "ge", low) if getattr(meta, "ge", None) is not None else low
        high = getattr(meta, "le", high) if getattr(meta, "le", None) is not None else high
    return low, high


def _is_odd_field(info: FieldInfo) -> bool:
    """True when the field only accepts odd integers."""
    return any(getattr(m, "func", None) is _must_be_odd for m in info.metadata) or _annotation_is_odd(
        info.annotation
    )


def _annotation_is_odd(annotation: Any) -> bool:
    if get_origin(annotation) is Annotated:
        return any(getattr(m, "func", None) is _must_be_odd for m in get_args(annotation)[1:])
    return False


def _choices_of(info: FieldInfo) -> tuple[Any, ...] | None:
    """The allowed values of a ``Literal`` field, or ``None`` for other fields."""
    annotation = info.annotation
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    return None


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


# ------------------------------------------------------------------------ the field specification

FieldKind = Literal["choice", "bool", "int", "float", "text"]

_UNITS = r"px|degrees|ratio|megapixels|percent|gray levels?|levels|count|tiles|rank|std units|channel value"
_UNIT = re.compile(rf"\(({_UNITS})[;,)]|[,;]\s*(?:0-255 )?({_UNITS})\b|\bbox area (ratio)\)")
"""A unit named in a field's description: "(px)", "(px; 0 = off)", "Window, px.", ", ratio." ..."""


def unit_of(description: str) -> str | None:
    """The unit a field's description names (``"px"``, ``"degrees"``...), or ``None``."""
    match = _UNIT.search(description)
    return next(g for g in match.groups() if g) if match else None


def humanize(name: str) -> str:
    """``"block_size"`` -> ``"Block size"``; short all-letter names stay as they are (``k``, ``c``)."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if len(text) > 2 else text


@dataclass(frozen=True)
class FieldSpec:
    """Everything declared about one parameter, read from its field in one place.

    The widgets (:mod:`studio.widgets`), the tuner's search space, ``clarity stages``, the
    README's stage reference and the preset error messages all read this, never the pydantic
    field directly.

    Attributes
    ----------
    name:
        The field name (``"block_size"``).
    kind:
        ``choice`` (a ``Literal``), ``bool``, ``int`` (odd-only integers included), ``float`` or
        ``text``.
    default:
        The default value.
    description:
        What the value means, with its unit.
    unit:
        The unit: ``json_schema_extra={"unit": ...}`` when declared so, else the one the
        description names (``"(px)"``, ``", px"``), else ``None``.
    label:
        The human label with its unit (``"Block size, px"``); ``{"label": ...}`` overrides the
        name-derived part.
    low, high:
        Inclusive numeric bounds (``None`` when open or not numeric).
    step:
        The declared increment (``{"step": ...}``), 2 for odd-only integers, else ``None``.
    odd:
        Only odd integers are valid.
    choices:
        The allowed values of a ``choice`` field.
    basic:
        Shown to a newcomer: listed in the model's ``main_fields`` (or the model lists none).
    tunable:
        The tuner may change it; ``False`` for conventions declared with :func:`convention` or
        ``{"tune": False}`` (ink polarity, colours, units, safety limits).
    when:
        The other fields' values this one matters for (``(("method", ("fixed",)),)``), from the
        model's ``used_when``; empty when it always matters. See :meth:`applies`.
    size_power:
        How the value follows the image's size, for a run on a scaled copy
        (:mod:`pipeline.preview`): 1 for lengths in px (a window, a stroke width), 2 for areas and
        pixel counts (``{"size_power": 2}``, or the unit ``megapixels``), 0 for everything else.
    """

    name: str
    kind: FieldKind
    default: Any
    description: str
    unit: str | None
    label: str
    low: float | None
    high: float | None
    step: float | None
    odd: bool
    choices: tuple[Any, ...] | None
    basic: bool
    tunable: bool
    size_power: int = 0
    when: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    def applies(self, values: Mapping[str, Any]) -> bool:
        """Whether this field can change the output when the other fields hold ``values`` (a field
        missing from ``values`` counts as matching)."""
        return all(field not in values or values[field] in allowed for field, allowed in self.when)

    @property
    def when_text(self) -> str:
        """``"only when method is fixed"``, or ``""`` for a field that always matters."""
        parts = [f"{field} is {' or '.join(str(v) for v in allowed)}" for field, allowed in self.when]
        return "only when " + " and ".join(parts) if parts else ""

    @property
    def allowed(self) -> str:
        """Human text for the allowed values, e.g. ``1..31, odd`` or ``one of 'a', 'b'``."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.low is None and self.high is None:
            return self.kind
        text = f"{_fmt(self.low)}..{_fmt(self.high)}"
        return text + ", odd" if self.odd else text


def _extra(info: FieldInfo) -> dict[str, Any]:
    extra = info.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def _kind(info: FieldInfo) -> FieldKind:
    if _choices_of(info) is not None:
        return "choice"
    annotation = info.annotation
    while get_origin(annotation) in (Annotated, Union, UnionType):  # Annotated[x, ...], Optional[x]
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if annotation is bool:
        return "bool"
    if annotation is int or _is_odd_field(info):
        return "int"
    return "float" if annotation is float else "text"


def field_spec(model: type[BaseModel], name: str) -> FieldSpec:
    """The :class:`FieldSpec` of field ``name`` of ``model`` (a stage's params or the OCR options)."""
    info = model.model_fields[name]
    extra = _extra(info)
    description = (info.description or "").strip()
    unit = extra.get("unit") or unit_of(description)
    label = extra.get("label") or humanize(name)
    odd = _is_odd_field(info)
    low, high = _bounds_of(info)
    main = getattr(model, "main_fields", ())
    step = _step_of(info)
    return FieldSpec(
        name=name,
        kind=_kind(info),
        default=info.get_default(call_default_factory=True),
        description=description,
        unit=unit,
        label=f"{label}, {unit}" if unit else label,
        low=low,
        high=high,
        step=2 if odd else step,
        odd=odd,
        choices=_choices_of(info),
        basic=not main or name in main,
        tunable=extra.get("tune", True) is not False,
        size_power=int(extra.get("size_power", _SIZE_POWERS.get(unit or "", 0))),
        when=tuple(getattr(model, "used_when", {}).get(name, {}).items()),
    )


_SIZE_POWERS = {"px": 1, "megapixels": 2}
"""How values in these units follow the image's size (:attr:`FieldSpec.size_power`)."""


@cache
def field_specs(model: type[BaseModel]) -> tuple[FieldSpec, ...]:
    """The :class:`FieldSpec` of every field of ``model``, in declaration order."""
    return tuple(field_spec(model, name) for name in model.model_fields)
