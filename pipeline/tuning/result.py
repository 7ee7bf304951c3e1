"""What a tuning run hands back: one :class:`TrialInfo` per trial and the :class:`TuneResult`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..errors import TuneUsageError
from ..preset import Preset
from .space import SearchSpace

Metric = Literal["auto", "cer", "confidence"]
"""What a run optimises: ``"cer"``, ``"confidence"``, or ``"auto"`` (CER when any text is known)."""


@dataclass(frozen=True)
class TrialInfo:
    """One trial of a tuning run.

    Attributes
    ----------
    number:
        0-based trial number; trial 0 is the base preset.
    score:
        Mean CER (0..1, lower is better) or mean word confidence (0..100, higher is better)
        over the tuning images; ``None`` when the sampled values were an invalid combination.
    preset:
        The preset tried (its name and description are the base's), ``None`` if invalid.
    values:
        The searched values by dimension name (``"3.threshold.window"``, ``"ocr.psm"``).
    changes:
        What differs from the base, one short text per value: ``"3.threshold.window 31→45"``.
    image_scores:
        The score of each tuning image, in order (a failed image scores worst: CER 1, confidence 0).
    failures:
        Error messages of the images that failed with this preset.
    seconds:
        Wall-clock time since the start of the run when this trial was scored.
    best_score:
        The incumbent's score after this trial (the best so far, give or take ``min_gain``).
    is_best:
        This trial became the incumbent: it beat the previous one by at least ``min_gain`` on
        enough images (trial 0 always does), or, in the simplification, scored no worse with
        one change fewer.
    done, total:
        Trials finished so far and trials planned (for progress bars).
    """

    number: int
    score: float | None
    preset: Preset | None
    values: dict[str, Any]
    changes: tuple[str, ...]
    image_scores: tuple[float, ...]
    failures: tuple[str, ...]
    seconds: float
    best_score: float | None
    is_best: bool
    done: int
    total: int

    @property
    def valid(self) -> bool:
        """False when the sampled values were an invalid combination (not scored)."""
        return self.score is not None and self.preset is not None

    @property
    def summary(self) -> str:
        """The changes from the base as one line (``"base preset"`` for none)."""
        return ", ".join(self.changes) if self.changes else "base preset"


@dataclass(frozen=True)
class TuneResult:
    """The outcome of :func:`tune`.

    Attributes
    ----------
    preset:
        The best preset, with a name and description saying it was tuned, where and how well.
    best, base:
        The best trial and trial 0 (the base preset).
    trials:
        Every trial in order.
    ranked:
        The best trial (the last incumbent) first, then the other valid trials by score (ties:
        earlier first), one per distinct preset.
    metric:
        ``"cer"`` or ``"confidence"``.
    stop_reason:
        ``"trials"`` (all done), ``"patience"``, ``"timeout"`` or ``"stopped"`` (``should_stop``).
    seconds:
        Wall-clock time of the run.
    n_images:
        Images scored per trial.
    space:
        The search space (``space.dimensions``; ``space.frozen`` lists the fixed fields).
    label, seed:
        What the tuning data was called and the sampler seed (used in descriptions).
    min_gain:
        How much a trial had to improve on the best so far to replace it (see :func:`tune`).
    searched:
        Trials of the search itself; the simplification's trials come after them.
    """

    preset: Preset
    best: TrialInfo
    base: TrialInfo
    trials: tuple[TrialInfo, ...]
    ranked: tuple[TrialInfo, ...]
    metric: str
    stop_reason: str
    seconds: float
    n_images: int
    space: SearchSpace
    label: str = ""
    seed: int = 0
    min_gain: float = 0.0
    searched: int = 0

    @property
    def lower_is_better(self) -> bool:
        """True for CER, False for confidence."""
        return self.metric == "cer"

    @property
    def improvement(self) -> float:
        """How much better the best is than the base (>= 0), in the metric's unit."""
        assert self.best.score is not None and self.base.score is not None
        diff = self.base.score - self.best.score
        return diff if self.lower_is_better else -diff

    def top(self, n: int = 5) -> tuple[TrialInfo, ...]:
        """The ``n`` best distinct trials."""
        return self.ranked[:n]

    def tuned(self, trial: TrialInfo) -> Preset:
        """``trial``'s preset named and described as tuned (what "apply" should use)."""
        if trial.preset is None or trial.score is None:
            raise TuneUsageError(f"trial {trial.number} has no valid preset")
        base = self.space.base
        data = self.label or f"{self.n_images} images"
        text = (
            f"Tuned from '{base.name}' with `python -m pipeline tune` on {data} "
            f"({self.n_images} images, {len(self.trials)} trials, seed {self.seed}; trial {trial.number}): "
            f"{format_score(self.metric, trial.score)} vs {format_score(self.metric, self.base.score)} "
            "for the base preset on the same images."
        )
        if trial.changes:
            text += " Changes: " + "; ".join(trial.changes) + "."
        if base.description:
            text += " Base: " + base.description
        name = base.name if base.name.endswith("(tuned)") else f"{base.name} (tuned)"
        return trial.preset.model_copy(update={"name": name[:200], "description": text[:5000]})


def format_score(metric: str, score: float | None, *, short: bool = False) -> str:
    """``"mean CER 0.123"`` or ``"mean confidence 87.4"``.

    ``short`` (the studio's wording): ``"CER 12.3%"`` or ``"confidence 87.4"``.
    """
    if score is None:
        return "invalid"
    if metric == "cer":
        return f"CER {score:.1%}" if short else f"mean CER {score:.3f}"
    return f"{'' if short else 'mean '}confidence {score:.1f}"
