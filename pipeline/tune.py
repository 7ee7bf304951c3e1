"""Automatic tuning of a preset's parameters on images with known text (``python -m pipeline tune``).

Starting from a base preset, the search changes every stage's parameters (the space is derived
from the stages' parameter models, see :mod:`pipeline.tuning.space`), whether each stage is
enabled and Tesseract's page segmentation mode, to minimise the mean CER over the tuning
images (``metric="cer"``), or, when no expected text is known, to maximise the mean word
confidence (``metric="confidence"``: a proxy for accuracy, not accuracy; it can prefer a preset
that erases the hard words).

The search is local first and widens only as needed. It keeps an *incumbent*, the best preset
so far (the base, trial 0, at first). Most trials are *local moves* of it
(:class:`pipeline.tuning.local.Mutator`, seeded): 1 to 3 of its values changed, a numeric one
by a few steps or a small fraction of its (log) range, a choice switched, the psm
occasionally, a stage switched on or off rarely (never with ``toggles=False``). Trial ``n`` is
instead proposed by Optuna's TPE (seeded, 2 random startup trials) when ``n % 4 == 3``, and
TPE only chooses :data:`TPE_FREE` parameters drawn at random, the others being the
incumbent's. Every :data:`WIDEN` trials without a new incumbent the moves double (up to 8
times) and TPE chooses 2 more parameters; after ``2 * WIDEN`` such trials every other trial is
TPE's. Each trial is enqueued in the Optuna study with its full set of values, so the study
records every trial and TPE models them all. A local move that gives a preset already tried (or
an invalid one) is drawn again.

A trial becomes the incumbent only when it beats it by ``min_gain``: by default one
character's worth of mean CER (one character fixed on the longest expected text), so a gain
that can only come from trading errors between images, i.e. noise on a small set, does not
move the search (nor reset ``patience``); and only when it is better on ``min_support`` more
images than it is worse on (2 by default from 4 images on), so a change that fixes one image
and may only fit that image does not either. The base preset is trial 0 and the first
incumbent, so the result is never worse than the base on the tuning images.

After the search comes a *simplification*: each value of the incumbent that differs from the
base is put back, one at a time, and kept back when the score on the tuning images is no worse
(one trial each, numbered after the search's). Changes that did not matter (a parameter of a
mode not in use, a value swept along with a useful one) are dropped, so the tuned preset
departs from the base only where the images asked for it: on new images, fewer changes mean
fewer chances to have fitted the tuning set's accidents.

Python API (what the studio uses)::

    from pipeline.tune import tune
    result = tune([(image, "expected text"), ...], base_preset, trials=50, seed=0,
                  on_trial=lambda info: ..., should_stop=lambda: False)
    result.preset          # the best preset, named and described as tuned
    result.ranked[:5]      # best trials first (TrialInfo: score, preset, changes)
    result.tuned(row)      # any row's preset, named and described as tuned ("apply")

Determinism: the same seed, images, base and options give the same trials and the same best
preset, whatever ``jobs`` is. The sampler is seeded and lives in this process only; trials are
asked from it in fixed batches of :data:`BATCH` (the second trial of a batch is sampled while
the first is pending, with Optuna's constant-liar rule; the local moves of a batch are both
drawn from the incumbent as it was when the batch started), and all readings of a batch
(``BATCH`` presets x every image) are spread over ``jobs`` worker processes, then collected
and told to the sampler in trial order. Nothing depends on which worker finishes first, and
the batch size does not depend on ``jobs`` (Optuna's own ``optimize(n_jobs=...)`` reseeds the
sampler per thread and depends on timing, so it is not used). Tesseract is itself
deterministic for a given image and settings. Only ``timeout`` and ``should_stop`` depend on
the clock: they decide *when* the search stops, never what a trial scores.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .argtypes import positive_int
from .errors import ClarityError, ExitCode, ImageError
from .evaluate import dataset
from .imageio import SUFFIXES, read_image
from .metrics import cer, normalise_text
from .ocr.engine import ENGINE_NAMES
from .preset import Preset, load_preset, save_preset
from .runner import as_input
from .tuning.local import MAX_LEVEL, Mutator, clamp, full_params
from .tuning.scoring import Evaluator, Reading
from .tuning.space import FROZEN_FIELDS, PSM_CHOICES, InvalidCombination, SearchSpace, search_space

Metric = Literal["auto", "cer", "confidence"]

BATCH = 2
"""Trials sampled before their scores are told to the sampler (fixed, for determinism)."""

WIDEN = 6
"""Local moves double in size after every this many trials without a new incumbent."""

TPE_EVERY = 4
"""While the search is local, trial ``n`` is proposed by TPE when ``n % TPE_EVERY == 3``."""

TPE_FREE = 3
"""Parameters a TPE trial chooses while the search is local (2 more per widening level)."""

TPE_STARTUP = 2
"""TPE's random startup trials (it models the local trials' results after these)."""

SUPPORT = 2
"""Default ``min_support``: images a new best must improve on, net of those it worsens..."""

SUPPORT_FROM = 4
"""...from this many tuning images on (below, 1)."""

CONFIDENCE_GAIN = 0.1
"""Mean word confidence points a trial must gain to become the incumbent (``metric="confidence"``)."""

DEFAULT_BASE = Path(__file__).resolve().parents[1] / "presets" / "document.yaml"
"""The base preset of ``python -m pipeline tune`` when ``--base`` is not given."""

CONFIDENCE_NOTE = (
    "note: no expected text (.gt.txt), so the score is Tesseract's mean word confidence, a proxy "
    "for accuracy, not accuracy: check the tuned preset's output by eye"
)


class TuneUsageError(ClarityError):
    """The tuning was asked for something impossible (bad option, no expected text for CER)."""

    exit_code = ExitCode.USAGE


class TuneError(ClarityError):
    """No image could be scored (none given, none readable, or every reading failed)."""


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


def format_score(metric: str, score: float | None) -> str:
    """``"mean CER 0.123"`` or ``"mean confidence 87.4"``."""
    if score is None:
        return "invalid"
    return f"mean CER {score:.3f}" if metric == "cer" else f"mean confidence {score:.1f}"


# ------------------------------------------------------------------------------------ the API


def tune(
    images: Sequence[tuple[np.ndarray, str | None]],
    base: Preset,
    *,
    trials: int = 100,
    seed: int = 0,
    metric: Metric = "auto",
    ignore_spaces: bool = False,
    ignore_case: bool = False,
    timeout: float | None = None,
    patience: int | None = 30,
    jobs: int = 2,
    on_trial: Callable[[TrialInfo], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    label: str = "",
    freeze: Collection[str] = FROZEN_FIELDS,
    psm_choices: Iterable[int] | None = PSM_CHOICES,
    toggles: bool = True,
    min_gain: float | None = None,
    min_support: int | None = None,
    simplify: bool = True,
) -> TuneResult:
    """Search ``base``'s parameters for the best score on ``images`` (see the module docstring).

    Parameters
    ----------
    images:
        ``(image, expected text or None)`` pairs; images are uint8 gray or BGR arrays.
    base:
        The preset to start from: trial 0, and the centre of the numeric search windows.
    trials:
        Most trials to run (trial 0 included).
    seed:
        Seed of the sampler; same seed and inputs give the same result.
    metric:
        ``"cer"``: minimise the mean CER over the images that have expected text.
        ``"confidence"``: maximise the mean word confidence over all images (a proxy).
        ``"auto"``: ``"cer"`` when any image has expected text, else ``"confidence"``.
    ignore_spaces, ignore_case:
        CER options (the corpus removes spaces for captcha labels, ignores case for some).
    timeout:
        Seconds after which no new batch of trials starts (the first batch always runs).
    patience:
        Stop when this many trials in a row brought no improvement (``None``: never).
    jobs:
        Worker processes reading images (1 reads in this process).
    on_trial:
        Called in this thread after each trial with its :class:`TrialInfo`.
    should_stop:
        Polled before each batch of trials but the first; returning True ends the run (the best
        so far is kept).
    label:
        What to call the tuning data in the tuned preset's description (e.g. a folder).
    freeze:
        Fields kept fixed (see :func:`pipeline.tuning.space.search_space`).
    psm_choices:
        Page segmentation modes searched (``None`` keeps the base's).
    toggles:
        Whether stages may be switched on or off (rarely: see the module docstring); False
        keeps the base's enabled stages.
    min_gain:
        How much better than the best so far a trial must score to replace it (and to reset
        ``patience``). ``None``: one character's worth for CER, ``1 / (n * L)`` with ``n``
        images and ``L`` the longest expected text (normalised as the CER does), i.e. one
        character fixed on the longest line; :data:`CONFIDENCE_GAIN` points for confidence.
    min_support:
        How many more tuning images a trial must score better on than worse on (compared with
        the best so far, image by image) to replace it. ``None``: 2 with 4 images or more, else
        1, so a change that helps a single image (and may only fit that image) is not taken.
    simplify:
        After the search, put each changed value back to the base's, one at a time, keeping
        that whenever the score is no worse (a trial each; skipped when the run was stopped or
        timed out). The result then carries only the changes that count on the tuning images.

    Raises
    ------
    TuneUsageError
        Invalid options, or ``metric="cer"`` with no expected text.
    TuneError
        No images, or no image could be read by any preset.
    OcrError
        Tesseract or the language data is missing.
    """
    _check_options(trials, jobs, patience, timeout, metric)
    metric, pairs = _select(images, metric)
    arrays = [as_input(image) for image, _ in pairs]
    expected = [text for _, text in pairs]
    area = max(int(a.shape[0]) * int(a.shape[1]) for a in arrays)
    side = max(max(a.shape[:2]) for a in arrays)
    space = search_space(
        base, image_area=area, image_side=side, freeze=freeze, psm_choices=psm_choices, stage_toggles=toggles
    )
    lower = metric == "cer"
    if min_gain is None:
        min_gain = _default_gain(metric, expected, ignore_spaces=ignore_spaces, ignore_case=ignore_case)
    elif not (min_gain >= 0 and math.isfinite(min_gain)):
        raise TuneUsageError(f"min_gain must be a number >= 0, got {min_gain!r}")
    if min_support is None:
        min_support = SUPPORT if len(arrays) >= SUPPORT_FROM else 1
    elif not isinstance(min_support, int) or min_support < 0:
        raise TuneUsageError(f"min_support must be a whole number >= 0, got {min_support!r}")

    def image_score(reading: Reading, text: str | None) -> float:
        if reading.error is not None:
            return 1.0 if lower else 0.0
        if lower:
            return cer(text or "", reading.text, ignore_spaces=ignore_spaces, ignore_case=ignore_case)
        return reading.conf

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=seed,
            n_startup_trials=TPE_STARTUP,
            multivariate=True,
            group=True,
            constant_liar=True,
        )
    study = optuna.create_study(direction="minimize" if lower else "maximize", sampler=sampler)
    mutator = Mutator(space, seed, toggles=toggles)
    by_name = space.by_name

    start = time.monotonic()
    infos: list[TrialInfo] = []
    memo: dict[str, list[Reading]] = {}
    best: float | None = None
    best_scores: tuple[float, ...] = ()
    incumbent = full_params(space)  # raw values of every dimension: the base at first
    since_best = 0
    scored_any = False
    stop_reason = "trials"

    def beats(score: float, scores: tuple[float, ...]) -> bool:
        """Search phase: better than the incumbent by min_gain, on min_support more images than worse."""
        if best is None:  # the first trial (the base) is the incumbent
            return True
        gain = score <= best - min_gain if lower else score >= best + min_gain
        return gain and _support(scores, best_scores, lower) >= min_support

    def matches(score: float, scores: tuple[float, ...]) -> bool:
        """Simplification phase: no worse than the incumbent."""
        return best is None or (score <= best if lower else score >= best)

    def stopping() -> str | None:
        if should_stop is not None and should_stop():
            return "stopped"
        if timeout is not None and time.monotonic() - start >= timeout:
            return "timeout"
        return None

    def run_batch(
        batch: list[tuple[Any, Preset | None, dict[str, Any]]],
        accept: Callable[[float, tuple[float, ...]], bool],
        total: int,
    ) -> None:
        """Read the batch's new presets, tell the sampler, update the incumbent, report each trial."""
        nonlocal best, best_scores, incumbent, since_best, scored_any
        todo: dict[str, Preset] = {}
        for _, preset, _ in batch:
            if preset is not None and _key(preset) not in memo:
                todo.setdefault(_key(preset), preset)
        for key, readings in zip(todo, evaluator.read(list(todo.values())), strict=True):
            memo[key] = readings
        for trial, preset, values in batch:
            score: float | None = None
            scores: tuple[float, ...] = ()
            failures: tuple[str, ...] = ()
            if preset is None:
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            else:
                readings = memo[_key(preset)]
                scores = tuple(image_score(r, t) for r, t in zip(readings, expected, strict=True))
                failures = tuple(r.error for r in readings if r.error is not None)
                scored_any = scored_any or len(failures) < len(readings)
                score = sum(scores) / len(scores)
                study.tell(trial, score)
            improved = score is not None and accept(score, scores)
            if improved:
                best, best_scores, since_best = score, scores, 0
                incumbent = {**incumbent, **{k: clamp(by_name[k], v) for k, v in trial.params.items()}}
            else:
                since_best += 1
            info = TrialInfo(
                number=trial.number,
                score=score,
                preset=preset,
                values=values,
                changes=_changes(space, values),
                image_scores=scores,
                failures=failures,
                seconds=time.monotonic() - start,
                best_score=best,
                is_best=improved,
                done=len(infos) + 1,
                total=total,
            )
            infos.append(info)
            if on_trial is not None:
                on_trial(info)

    def ask(values: dict[str, Any], pending: set[str]) -> tuple[Any, Preset | None, dict[str, Any]]:
        study.enqueue_trial(values)
        trial = study.ask()
        try:
            preset, chosen = space.preset(lambda d, t=trial: _suggest(t, d))
            pending.add(_key(preset))
        except InvalidCombination:
            preset, chosen = None, dict(trial.params)
        return trial, preset, chosen

    with warnings.catch_warnings(), Evaluator(arrays, min(jobs, BATCH * len(arrays))) as evaluator:
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        while len(infos) < trials:
            # the first batch (with the base preset) always runs, so there is a result to return
            reason = stopping() if infos else None
            if reason is not None:
                stop_reason = reason
                break
            batch = []
            pending: set[str] = set()
            level = min(MAX_LEVEL, since_best // WIDEN)
            for _ in range(min(BATCH, trials - len(infos))):
                number = len(infos) + len(batch)
                if number == 0:
                    values = space.base_params()
                else:
                    local = (
                        None
                        if _tpe_turn(number, level)
                        else _local_move(mutator, space, incumbent, level, memo, pending)
                    )
                    if local is not None:
                        values = local
                    else:  # TPE proposes a few parameters; the rest stay the incumbent's
                        free = mutator.subspace(incumbent, TPE_FREE + 2 * level)
                        values = {k: v for k, v in incumbent.items() if k not in free}
                batch.append(ask(values, pending))
            run_batch(batch, beats, trials)
            if patience is not None and since_best >= patience and len(infos) < trials:
                stop_reason = "patience"
                break

        # Simplification: put each changed value back to the base's, one at a time, and keep
        # that when the score is no worse, so the result carries only the changes that count.
        if simplify and stop_reason in ("trials", "patience"):
            base_raw = full_params(space)
            for d in space.dimensions:
                if incumbent[d.name] == base_raw[d.name]:
                    continue
                reason = stopping()
                if reason is not None:
                    stop_reason = reason
                    break
                left = sum(incumbent[e.name] != base_raw[e.name] for e in space.dimensions)
                run_batch([ask({**incumbent, d.name: base_raw[d.name]}, set())], matches, len(infos) + left)

    if not scored_any:
        reasons = sorted({f for i in infos for f in i.failures})
        detail = f": {reasons[0]}" if reasons else ""
        raise TuneError(f"no image could be scored by any of {len(infos)} trials{detail}")
    ranked = _rank(infos, lower, next(i for i in reversed(infos) if i.is_best))
    result = TuneResult(
        preset=base,
        best=ranked[0],
        base=infos[0],
        trials=tuple(infos),
        ranked=ranked,
        metric=metric,
        stop_reason=stop_reason,
        seconds=time.monotonic() - start,
        n_images=len(arrays),
        space=space,
        label=label,
        seed=seed,
        min_gain=min_gain,
    )
    return replace(result, preset=result.tuned(result.best))


def _default_gain(
    metric: str, expected: Sequence[str | None], *, ignore_spaces: bool, ignore_case: bool
) -> float:
    """One character's worth of mean CER (see :func:`tune`), or :data:`CONFIDENCE_GAIN`."""
    if metric != "cer":
        return CONFIDENCE_GAIN
    longest = max(
        len(normalise_text(t or "", ignore_spaces=ignore_spaces, ignore_case=ignore_case)) for t in expected
    )
    return (1.0 - 1e-9) / (len(expected) * max(1, longest))  # exactly one character qualifies


def _support(scores: Sequence[float], reference: Sequence[float], lower: bool) -> int:
    """Images ``scores`` is better on than ``reference``, minus the images it is worse on."""
    better = sum((a < b) if lower else (a > b) for a, b in zip(scores, reference, strict=True))
    worse = sum((a > b) if lower else (a < b) for a, b in zip(scores, reference, strict=True))
    return better - worse


def _tpe_turn(number: int, level: int) -> bool:
    """Whether TPE proposes trial ``number``: 1 in :data:`TPE_EVERY` while local, 1 in 2 once wide."""
    if level >= 2:
        return number % 2 == 1
    return number % TPE_EVERY == TPE_EVERY - 1


def _local_move(
    mutator: Mutator,
    space: SearchSpace,
    incumbent: dict[str, Any],
    level: int,
    memo: dict[str, list[Reading]],
    pending: set[str],
    attempts: int = 12,
) -> dict[str, Any] | None:
    """A mutation of the incumbent giving a valid preset not tried yet (``None`` if none is found)."""
    for attempt in range(attempts):
        raw, _ = mutator.mutate(incumbent, min(MAX_LEVEL, level + attempt // 4))
        try:
            preset, _ = space.preset(lambda d, r=raw: r[d.name])
        except InvalidCombination:
            continue
        key = _key(preset)
        if key not in memo and key not in pending:
            return raw
    return None


def _check_options(trials: int, jobs: int, patience: int | None, timeout: float | None, metric: str) -> None:
    if not isinstance(trials, int) or trials < 1:
        raise TuneUsageError(f"trials must be a whole number >= 1, got {trials!r}")
    if not isinstance(jobs, int) or jobs < 1:
        raise TuneUsageError(f"jobs must be a whole number >= 1, got {jobs!r}")
    if patience is not None and (not isinstance(patience, int) or patience < 1):
        raise TuneUsageError(f"patience must be a whole number >= 1, got {patience!r}")
    if timeout is not None and not (timeout > 0 and math.isfinite(timeout)):
        raise TuneUsageError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if metric not in ("auto", "cer", "confidence"):
        raise TuneUsageError(f"metric must be 'auto', 'cer' or 'confidence', got {metric!r}")


def _select(
    images: Sequence[tuple[np.ndarray, str | None]], metric: str
) -> tuple[str, list[tuple[np.ndarray, str | None]]]:
    pairs = list(images)
    if not pairs:
        raise TuneError("no images to tune on")
    with_text = [(image, text) for image, text in pairs if text is not None]
    if metric == "auto":
        metric = "cer" if with_text else "confidence"
    if metric == "cer":
        if not with_text:
            raise TuneUsageError(
                "metric 'cer' needs expected text (a <stem>.gt.txt beside each image); "
                "use metric 'confidence' for images without it"
            )
        return metric, with_text
    return metric, pairs


def _suggest(trial: Any, d: Any) -> Any:
    if d.kind == "categorical":
        return trial.suggest_categorical(d.name, list(d.choices))
    if d.kind == "int":
        return trial.suggest_int(d.name, int(d.low), int(d.high), step=d.step)
    return trial.suggest_float(d.name, d.low, d.high, log=d.log)


def _key(preset: Preset) -> str:
    """Everything that changes what a preset reads (not its name or description)."""
    return "\n".join([*(s.key() for s in preset.stages), preset.ocr.model_dump_json()])


def _changes(space: SearchSpace, values: dict[str, Any]) -> tuple[str, ...]:
    out: list[str] = []
    for d in space.dimensions:
        if d.name not in values or values[d.name] == d.base:
            continue
        value = values[d.name]
        if d.field == "enabled":
            out.append(f"{d.name.rsplit('.', 1)[0]} {'on' if value else 'off'}")
        elif d.field == "psm":
            out.append(f"psm {d.base}→{value}")
        else:
            out.append(f"{d.name} {_short(d.base)}→{_short(value)}")
    return tuple(out)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _rank(infos: list[TrialInfo], lower: bool, best: TrialInfo) -> tuple[TrialInfo, ...]:
    """``best`` (the last incumbent) first, then the other valid trials by score (ties: earlier first)."""
    valid = [i for i in infos if i.valid and i is not best]
    valid.sort(key=lambda i: ((i.score if lower else -i.score), i.number))  # type: ignore[operator]
    valid.insert(0, best)
    seen: set[str] = set()
    ranked = []
    for info in valid:
        key = _key(info.preset)  # type: ignore[arg-type]
        if key not in seen:
            seen.add(key)
            ranked.append(info)
    return tuple(ranked)


# ------------------------------------------------------------------------------------ the CLI


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``tune`` in the CLI's subcommands (called by :mod:`pipeline.cli`)."""
    p = subparsers.add_parser(
        "tune",
        help="search a preset's parameters for the lowest CER on a folder",
        description=(
            "Search the base preset's stage parameters, which stages are enabled and the page "
            "segmentation mode (local moves around the best so far, widened as needed, plus "
            "Optuna TPE; seeded: same seed and data give the same result) for "
            "the lowest mean CER over the images of DATA_DIR that have a <stem>.gt.txt, or the "
            "highest mean word confidence when none has. The base preset is trial 0, so the "
            "result is never worse than it on these images."
        ),
    )
    p.add_argument("--data", required=True, type=Path, metavar="DATA_DIR", help="images (and .gt.txt)")
    p.add_argument("--out", required=True, type=Path, metavar="P.yaml", help="where to write the best preset")
    p.add_argument(
        "--base", type=Path, metavar="P.yaml", help="preset to start from (default: presets/document.yaml)"
    )
    p.add_argument("--trials", type=positive_int, default=100, help="most trials (default 100)")
    p.add_argument("--seed", type=int, default=0, help="sampler seed (default 0)")
    p.add_argument(
        "--metric",
        choices=("cer", "confidence"),
        help="cer (needs .gt.txt) or confidence (a proxy); default: cer when any .gt.txt exists",
    )
    p.add_argument("--ignore-spaces", action="store_true", help="remove spaces before comparing (labels)")
    p.add_argument("--ignore-case", action="store_true", help="compare case-insensitively")
    p.add_argument("--timeout", type=_positive_float, metavar="SECONDS", help="start no trial after this")
    p.add_argument(
        "--patience", type=positive_int, default=30, help="stop after N trials without progress (default 30)"
    )
    p.add_argument(
        "--jobs", type=positive_int, default=os.cpu_count() or 1, help="worker processes (default: cores)"
    )
    p.add_argument("--engine", choices=("auto", *ENGINE_NAMES), help="OCR engine (default: base's)")
    p.add_argument(
        "--no-toggles",
        dest="toggles",
        action="store_false",
        help="never switch stages on or off (default: rarely, as one local move)",
    )
    p.add_argument(
        "--min-support",
        type=int,
        metavar="N",
        help="a new best must score better than the best so far on N more images than it scores "
        "worse on (default: 2 from 4 images on, else 1)",
    )
    p.add_argument(
        "--no-simplify",
        dest="simplify",
        action="store_false",
        help="keep every changed value (default: afterwards, put back each change that does not "
        "improve the score, one trial each)",
    )
    p.set_defaults(func=_cmd_tune)
    return p


def _load_base(path: Path | None, engine: str | None) -> Preset:
    if path is None:
        if not DEFAULT_BASE.is_file():
            raise TuneUsageError(f"no --base given and {DEFAULT_BASE} does not exist; pass --base PRESET")
        print(f"no --base given: starting from {DEFAULT_BASE}", file=sys.stderr)
        path = DEFAULT_BASE
    preset = load_preset(path)
    if engine:
        preset = preset.model_copy(update={"ocr": preset.ocr.model_copy(update={"engine": engine})})
    return preset


def images_of(data_dir: Path, metric: str | None) -> list[tuple[Path, str | None]]:
    """The ``(path, expected text or None)`` pairs to tune on, as the CLI chooses them.

    With ``metric`` ``"cer"`` or ``None`` (auto) the images that have a ``.gt.txt`` (if any);
    otherwise every image of the folder (ground-truth files excluded) without expected text.
    """
    if not data_dir.is_dir():
        raise TuneUsageError(f"{data_dir}: not a folder")
    if metric != "confidence":
        pairs: list[tuple[Path, str | None]] = list(dataset(data_dir))
        if pairs or metric == "cer":
            if not pairs:
                raise TuneUsageError(
                    f"{data_dir}: no image has a <stem>.gt.txt, which --metric cer needs; "
                    "use --metric confidence (a proxy) or add the expected texts"
                )
            return pairs
    paths = [
        p for p in sorted(data_dir.iterdir()) if p.suffix.lower() in SUFFIXES and not p.stem.endswith(".gt")
    ]
    return [(p, None) for p in paths]


def _cmd_tune(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    base = _load_base(args.base, args.engine)
    out: Path = args.out
    if out.is_dir() or not out.parent.is_dir():
        raise TuneUsageError(f"{out}: cannot write the preset there (a folder, or its folder does not exist)")
    listed = images_of(args.data, args.metric)
    if not listed:
        raise TuneError(f"{args.data}: no images in this folder")
    pairs: list[tuple[np.ndarray, str | None]] = []
    unreadable = 0
    for path, text in listed:
        try:
            pairs.append((read_image(path), text))
        except ImageError as exc:
            unreadable += 1
            print(str(exc) if str(exc).startswith(str(path)) else f"{path}: {exc}", file=sys.stderr)
    if not pairs:
        raise TuneError(f"{args.data}: none of the {len(listed)} images could be read")
    metric = "cer" if pairs[0][1] is not None else "confidence"
    if metric == "confidence":
        print(CONFIDENCE_NOTE, file=sys.stderr)
    print(
        f"tuning '{base.name}' on {len(pairs)} images of {args.data} ({_METRIC_TEXT[metric]}; "
        f"{args.trials} trials at most, patience {args.patience}, seed {args.seed}, {args.jobs} jobs)",
        file=sys.stderr,
    )
    bar = tqdm(total=args.trials, desc="tuning", unit="trial", file=sys.stderr, dynamic_ncols=True)

    def progress(info: TrialInfo) -> None:
        if info.total != bar.total:  # the simplification adds a trial per changed value
            bar.total = info.total
            bar.refresh()
        bar.update(1)
        if info.best_score is not None:
            best = f"{info.best_score:.3f}" if metric == "cer" else f"{info.best_score:.1f}"
            bar.set_postfix_str(f"best {best}")

    try:
        result = tune(
            pairs,
            base,
            trials=args.trials,
            seed=args.seed,
            metric=metric,
            ignore_spaces=args.ignore_spaces,
            ignore_case=args.ignore_case,
            timeout=args.timeout,
            patience=args.patience,
            jobs=args.jobs,
            on_trial=progress,
            label=str(args.data),
            toggles=args.toggles,
            min_support=args.min_support,
            simplify=args.simplify,
        )
    finally:
        bar.close()
    try:
        save_preset(result.preset, out)
    except OSError as exc:
        raise TuneError(f"{out}: cannot write the preset: {exc.strerror}") from None
    _report(result, out)
    return ExitCode.SOME_FAILED if unreadable else ExitCode.OK


_METRIC_TEXT = {"cer": "minimising the mean CER", "confidence": "maximising the mean word confidence"}

_STOPS = {
    "trials": "all {n} trials run",
    "patience": "stopped after {n} trials: no improvement in the last {p}",
    "timeout": "stopped after {n} trials: time limit reached",
    "stopped": "stopped after {n} trials on request",
}


def _report(result: TuneResult, out: Path) -> None:
    n = len(result.trials)
    patience = n - max(i.number for i in result.trials if i.is_best) - 1
    print(_STOPS[result.stop_reason].format(n=n, p=patience) + f" in {result.seconds:.1f} s")
    base, best = result.base, result.best
    print(f"base preset (trial 0): {format_score(result.metric, base.score)}")
    if best.number == 0:
        verdict = "no trial beat the base preset; it is written unchanged but for its name"
    else:
        unit = "" if result.lower_is_better else " points"
        verdict = f"{result.improvement:.3g}{unit} better than the base"
    print(
        f"best (trial {best.number}):{' ' * max(1, 10 - len(str(best.number)))}"
        f"{format_score(result.metric, best.score)}  ({verdict})"
    )
    if result.metric == "confidence":
        print("(mean word confidence is a proxy for accuracy, not accuracy: check the output by eye)")
    print(f"wrote {out}")
    print("\ntop trials:")
    header = "mean CER" if result.lower_is_better else "mean conf"
    print(f"{'rank':>4}  {'trial':>5}  {header:>9}  changes from the base")
    for rank, info in enumerate(result.top(5), 1):
        score = f"{info.score:.3f}" if result.lower_is_better else f"{info.score:.1f}"
        print(f"{rank:>4}  {info.number:>5}  {score:>9}  {info.summary}")


__all__ = [
    "BATCH",
    "TrialInfo",
    "TuneError",
    "TuneResult",
    "TuneUsageError",
    "add_parser",
    "images_of",
    "tune",
]
