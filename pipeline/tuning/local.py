"""Local moves around the incumbent: the trials :func:`pipeline.tuning.tune` proposes itself.

A tuning run keeps an *incumbent* (the best preset so far, the base at first) as a full dict of
raw (Optuna) values, one per dimension of the :class:`~pipeline.tuning.space.SearchSpace`,
including the parameters of disabled stages (at their base values, so that a stage switched
on has values). :meth:`Mutator.mutate` copies it and changes 1 to 3 of its values (1 with
probability 1/2, 2 with 1/3, 3 with 1/6), each chosen among the *active* dimensions (the
parameters of the enabled stages, the psm and, when searched, the stage toggles):

* each pick is the psm with probability :data:`P_PSM`, a stage toggle with :data:`P_TOGGLE`
  (when toggles are searched), else one of the stage parameters, uniformly;
* an integer dimension moves 1 to 3 of its steps (2 px for odd windows) up or down;
* a float dimension moves by a fraction of its range, on the dimension's own scale (log or
  linear): ``STEP * U(0.5, 1.5)`` of ``log(high/low)`` or ``high - low``, at least one step of
  its declared grid; from a sentinel zone (e.g. ``0 = off``) it enters the searched interval
  near the zone's edge (so "off" becomes a gentle "on");
* a categorical (a ``Literal`` or ``bool`` field, the psm, a stage's ``enabled``) switches to
  another of its values, uniformly.

Every numeric move is multiplied by ``2 ** level``: the caller raises ``level`` (0 to
:data:`MAX_LEVEL`) as the search stalls, so the search starts next to the incumbent and widens
only when nothing close improves it. Everything is drawn from one seeded NumPy generator, so
the moves depend only on the seed and on the incumbents, never on timing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .space import Dimension, SearchSpace

P_PSM = 0.06
"""Probability that one pick of a mutation is the page segmentation mode."""

P_TOGGLE = 0.04
"""Probability that one pick of a mutation switches a stage on or off (when toggles are searched)."""

STEP = 0.06
"""A float move at level 0: this fraction of the dimension's (log) range, times U(0.5, 1.5)."""

MAX_LEVEL = 3
"""Moves grow by 2 ** level up to this level (8 times the level-0 move)."""

N_CHANGES = ((1, 1 / 2), (2, 1 / 3), (3, 1 / 6))
"""How many values one mutation changes, with their probabilities."""


def full_params(space: SearchSpace) -> dict[str, Any]:
    """The base preset as raw values of *every* dimension (disabled stages' parameters too)."""
    return {d.name: d.encode(d.base) for d in space.dimensions}


def clamp(d: Dimension, raw: Any) -> Any:
    """``raw`` inside ``d``'s distribution (on the integer step grid), as Optuna wants it."""
    if d.kind == "categorical":
        return raw
    if d.kind == "int":
        low, high, step = int(d.low), int(d.high), d.step
        value = low + round((min(max(float(raw), low), high) - low) / step) * step
        return int(min(value, high - (high - low) % step))
    return float(min(max(float(raw), d.low), d.high))


class Mutator:
    """Seeded local moves of an incumbent (see the module docstring)."""

    def __init__(self, space: SearchSpace, seed: int, *, toggles: bool = True) -> None:
        self.space = space
        self.rng = np.random.default_rng([seed, 0x7C1A])  # not the sampler's stream
        self.toggles = toggles
        self._psm = [d for d in space.dimensions if d.field == "psm" and d.stage_index is None]
        self._toggles = [d for d in space.dimensions if d.field == "enabled"] if toggles else []

    def active(self, raw: dict[str, Any]) -> list[Dimension]:
        """The stage parameters that matter in ``raw``: those of its enabled stages."""
        out = []
        for d in self.space.dimensions:
            if d.stage_index is None or d.field == "enabled":
                continue
            if self._enabled(raw, d.stage_index):
                out.append(d)
        return out

    def _enabled(self, raw: dict[str, Any], index: int) -> bool:
        spec = self.space.base.stages[index]
        name = f"{index + 1}.{spec.stage}.enabled"
        return bool(raw[name]) if name in raw else spec.enabled

    def subspace(self, raw: dict[str, Any], n: int) -> set[str]:
        """``n`` active stage parameters of ``raw`` drawn at random (for TPE to choose)."""
        params = [d.name for d in self.active(raw)]
        if len(params) <= n:
            return set(params)
        return {params[i] for i in self.rng.choice(len(params), size=n, replace=False)}

    def mutate(self, raw: dict[str, Any], level: int = 0) -> tuple[dict[str, Any], list[str]]:
        """A copy of ``raw`` with 1-3 values moved; returns it and the names of the moved values."""
        out = dict(raw)
        counts = [n for n, _ in N_CHANGES]
        n = int(self.rng.choice(counts, p=[p for _, p in N_CHANGES]))
        moved: list[str] = []
        for _ in range(n):
            d = self._pick(out, moved)
            if d is None:
                break
            out[d.name] = self._move(d, out[d.name], level)
            moved.append(d.name)
        return out, moved

    def _pick(self, raw: dict[str, Any], moved: list[str]) -> Dimension | None:
        params = [d for d in self.active(raw) if d.name not in moved]
        psm = [d for d in self._psm if d.name not in moved]
        toggles = [d for d in self._toggles if d.name not in moved]
        groups = [(psm, P_PSM), (toggles, P_TOGGLE)]
        weights = [p if dims else 0.0 for dims, p in groups]
        rest = max(0.0, 1.0 - sum(weights)) if params else 0.0
        total = sum(weights) + rest
        if total <= 0:
            return None
        u = float(self.rng.random()) * total
        for (dims, _), w in zip(groups, weights, strict=True):
            if u < w:
                return dims[int(self.rng.integers(len(dims)))]
            u -= w
        return params[int(self.rng.integers(len(params)))]

    def _move(self, d: Dimension, raw: Any, level: int) -> Any:
        scale = 2 ** max(0, min(level, MAX_LEVEL))
        if d.kind == "categorical":
            others = [c for c in d.choices if c != raw]
            return others[int(self.rng.integers(len(others)))] if others else raw
        sign = 1.0 if self.rng.random() < 0.5 else -1.0
        if d.kind == "int":
            steps = int(self.rng.integers(1, 4)) * scale * d.step
            new = clamp(d, raw + sign * steps)
            if new == raw:  # on a bound: go the other way
                new = clamp(d, raw - sign * steps)
            return new
        return self._move_float(d, float(raw), sign, scale)

    def _move_float(self, d: Dimension, raw: float, sign: float, scale: int) -> float:
        a, b = d.inner
        frac = STEP * scale * float(self.rng.uniform(0.5, 1.5))
        in_zone = (d.zone == "below" and raw < a) or (d.zone == "above" and raw > b)
        if in_zone:  # from the sentinel (e.g. 0 = off) into the interval, near the zone's edge
            sign = 1.0 if d.zone == "below" else -1.0
            raw = a if d.zone == "below" else b
        new = clamp(d, self._step(d, raw, sign * frac))
        if new == raw:  # on a bound: go the other way
            new = clamp(d, self._step(d, raw, -sign * frac))
        return new

    @staticmethod
    def _step(d: Dimension, raw: float, frac: float) -> float:
        if d.log:
            return math.exp(math.log(raw) + frac * math.log(d.high / d.low))
        delta = abs(frac) * (d.high - d.low)
        if d.grid:
            delta = max(delta, d.grid)
        return raw + math.copysign(delta, frac)
