"""The stage registry: every stage under a stable snake_case name.

A stage is a pure function ``(image, params) -> image`` whose second argument is annotated
with its :class:`~pipeline.params.StageParams` model. Stages that combine two images (such as
``hull_mask``) take a third, keyword argument ``source``: the output of an earlier stage that
the preset names. Register a stage with :func:`register`::

    @register("invert", category="colour", returns="same as input")
    def invert(image: np.ndarray, p: InvertParams) -> np.ndarray:
        \"\"\"Swap dark and light: 255 - value.\"\"\"
        return 255 - image

The names are part of the preset format: never rename a registered stage.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .params import StageParams

CATEGORIES = ("colour", "tone", "denoise", "binarise", "morphology", "components", "geometry")


@dataclass(frozen=True)
class Stage:
    """A registered stage.

    Attributes
    ----------
    name:
        Stable snake_case name used in presets.
    func:
        The pure function ``(image, params[, source=...]) -> image``.
    params:
        The pydantic model of its parameters.
    category:
        One of :data:`CATEGORIES`, used to group stages in the UI and docs.
    returns:
        What the output is, e.g. ``"gray"``, ``"binary 0/255"``, ``"same as input"``.
    takes_source:
        True when the stage also reads an earlier stage's output (``source`` in a preset).
    title:
        What the stage does, in words for people ("Even out the lighting"): the studio's label
        (last, with a default, so code that builds a ``Stage`` by position keeps working).
    """

    name: str
    func: Callable[..., np.ndarray]
    params: type[StageParams]
    category: str
    returns: str
    takes_source: bool
    title: str = ""

    @property
    def heading(self) -> str:
        """The title, or the name when a stage was built without one."""
        return self.title or self.name

    @property
    def summary(self) -> str:
        """First line of the stage function's docstring."""
        return (inspect.getdoc(self.func) or "").splitlines()[0] if self.func.__doc__ else ""

    def __call__(
        self, image: np.ndarray, params: StageParams, source: np.ndarray | None = None
    ) -> np.ndarray:
        """Run the stage; ``source`` is passed only to stages that take one."""
        if self.takes_source:
            return self.func(image, params, source=image if source is None else source)
        return self.func(image, params)


_REGISTRY: dict[str, Stage] = {}


def register(
    name: str, *, title: str, category: str, returns: str
) -> Callable[[Callable[..., np.ndarray]], Callable[..., np.ndarray]]:
    """Class the decorated function as stage ``name`` (see the module docstring); ``title`` says
    what it does in words for people ("Even out the lighting")."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}; use one of {CATEGORIES}")

    def decorate(func: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        if name in _REGISTRY:
            raise ValueError(f"stage {name!r} is registered twice")
        hints = typing.get_type_hints(func)
        arg_names = list(inspect.signature(func).parameters)
        params_model = hints.get(arg_names[1]) if len(arg_names) > 1 else None
        if not (isinstance(params_model, type) and issubclass(params_model, StageParams)):
            raise TypeError(f"stage {name!r}: annotate the 2nd argument with its StageParams model")
        _REGISTRY[name] = Stage(
            name=name,
            title=title,
            func=func,
            params=params_model,
            category=category,
            returns=returns,
            takes_source="source" in arg_names,
        )
        return func

    return decorate


def _ensure_loaded() -> None:
    from . import stages  # noqa: F401  (importing registers every stage)


def get_stage(name: str) -> Stage:
    """The stage registered as ``name``; ``KeyError`` with the known names otherwise."""
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown stage {name!r}; known stages: {', '.join(sorted(_REGISTRY))}") from None


def all_stages() -> dict[str, Stage]:
    """Every registered stage by name, grouped by category in :data:`CATEGORIES` order."""
    _ensure_loaded()
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return dict(sorted(_REGISTRY.items(), key=lambda kv: (order[kv[1].category], kv[0])))
