"""Building blocks for stage parameter models.

A stage's parameters are declared once, as a frozen pydantic model built from the annotated
types below. The same declaration drives validation (presets, CLI, share links) and the
studio's widgets: numeric bounds come from ``ge``/``le``, the widget step from
:func:`step_of`, choices from ``Literal`` types and help text from the field description,
which always states the unit.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo


class StageParams(BaseModel):
    """Base class of every stage's parameters: immutable, unknown fields refused.

    ``main_fields`` names the few fields a newcomer needs (the studio shows the others under
    "More settings"); empty means every field is a main one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    main_fields: ClassVar[tuple[str, ...]] = ()


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


def number(default: float, ge: float, le: float, description: str, step: float | None = None) -> Any:
    """A bounded numeric field; ``step`` is the widget increment (omit for a sensible default)."""
    extra: dict[str, Any] | None = {"step": step} if step is not None else None
    return Field(default, ge=ge, le=le, description=description, json_schema_extra=extra)


Odd = Annotated[int, AfterValidator(_must_be_odd)]
"""An ``int`` that must be odd; combine with :func:`odd_int` for bounds and step."""


def step_of(info: FieldInfo) -> float | None:
    """The widget step declared on a field, or ``None`` when none was declared."""
    extra = info.json_schema_extra
    if isinstance(extra, dict) and "step" in extra:
        return extra["step"]  # type: ignore[return-value]
    return None


def bounds_of(info: FieldInfo) -> tuple[float | None, float | None]:
    """The inclusive ``(low, high)`` bounds declared on a numeric field (``None`` if open)."""
    low = high = None
    for meta in info.metadata:
        low = getattr(meta, "ge", low) if getattr(meta, "ge", None) is not None else low
        high = getattr(meta, "le", high) if getattr(meta, "le", None) is not None else high
    return low, high


def is_odd_field(info: FieldInfo) -> bool:
    """True when the field only accepts odd integers."""
    return any(getattr(m, "func", None) is _must_be_odd for m in info.metadata) or _annotation_is_odd(
        info.annotation
    )


def _annotation_is_odd(annotation: Any) -> bool:
    if get_origin(annotation) is Annotated:
        return any(getattr(m, "func", None) is _must_be_odd for m in get_args(annotation)[1:])
    return False


def choices_of(info: FieldInfo) -> tuple[Any, ...] | None:
    """The allowed values of a ``Literal`` field, or ``None`` for other fields."""
    annotation = info.annotation
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    return None


def describe_range(info: FieldInfo) -> str:
    """Human text for a field's allowed values, e.g. ``1..31, odd`` or ``one of 'a', 'b'``."""
    choices = choices_of(info)
    if choices is not None:
        return "one of " + ", ".join(repr(c) for c in choices)
    low, high = bounds_of(info)
    if low is None and high is None:
        return info.annotation.__name__ if isinstance(info.annotation, type) else str(info.annotation)
    text = f"{_fmt(low)}..{_fmt(high)}"
    if is_odd_field(info):
        text += ", odd"
    return text


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)
