"""The tuner's search: a preset's parameters tuned on images with known text (``python -m pipeline tune``).

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

The run's state lives in a :class:`Search` object (the study, the incumbent, the trials so
far); :func:`tune` checks the options, builds one and returns its :class:`TuneResult`.

Python API (what the studio uses)::

    from pipeline.tuning import tune
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

import math
import time
import warnings
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from ..errors import TuneError, TuneUsageError
from ..evaluate import Reading, score
from ..metrics import normalise_text
from ..preset import Preset
from ..runner import as_input
from .local import MAX_LEVEL, Mutator, clamp, full_params
from .result import Metric, TrialInfo, TuneResult
from .scoring import Evaluator
from .space import PSM_CHOICES, InvalidCombination, SearchSpace, search_space

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

Batch = list[tuple[Any, Preset | None, dict[str, Any]]]
"""Trials asked from the study, each with its preset (``None``: an invalid combination) and values."""


@dataclass(frozen=True)
class Settings:
    """The checked options of one run.

    Attributes
    ----------
    metric:
        ``"cer"`` (minimise the mean CER) or ``"confidence"`` (maximise the mean word confidence).
    trials:
        Most trials to run (trial 0 included).
    seed:
        Seed of the sampler; same seed and inputs give the same result.
    ignore_spaces, ignore_case:
        CER options (the corpus removes spaces for captcha labels, ignores case for some).
    timeout:
        Seconds after which no new batch of trials starts (the first batch always runs).
    patience:
        Stop when this many trials in a row brought no improvement (``None``: never).
    toggles:
        Whether stages may be switched on or off (rarely: see the module docstring); False
        keeps the base's enabled stages.
    min_gain:
        How much better than the best so far a trial must score to replace it (and to reset
        ``patience``); :func:`tune` makes ``None`` one character's worth for CER, ``1 / (n * L)`` with ``n``
        images and ``L`` the longest expected text (normalised as the CER does), i.e. one
        character fixed on the longest line; :data:`CONFIDENCE_GAIN` points for confidence.
    min_support:
        How many more tuning images a trial must score better on than worse on (compared with
        the best so far, image by image) to replace it; :func:`tune` makes ``None`` 2 with 4
        images or more, else 1, so a change that helps a single image (and may only fit that
        image) is not taken.
    simplify:
        After the search, put each changed value back to the base's, one at a time, keeping
        that whenever the score is no worse (a trial each; skipped when the run was stopped or
        timed out). The result then carries only the changes that count on the tuning images.
    """

    metric: Literal["cer", "confidence"]
    trials: int
    seed: int
    timeout: float | None
    patience: int | None
    toggles: bool
    min_gain: float
    min_support: int
    simplify: bool
    ignore_spaces: bool
    ignore_case: bool

    @property
    def lower(self) -> bool:
        """True when a lower score is better (CER)."""
        return self.metric == "cer"


class Search:
    """One tuning run: the Optuna study, the incumbent (best preset so far) and every trial.

    :meth:`run` explores (local moves and TPE, see the module docstring), then simplifies;
    :meth:`result` hands back what it found. ``on_trial`` is called after each trial and
    ``should_stop`` polled before each batch but the first.
    """

    def __init__(
        self,
        space: SearchSpace,
        expected: Sequence[str | None],
        settings: Settings,
        on_trial: Callable[[TrialInfo], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.space = space
        self.expected = list(expected)
        self.settings = settings
        self.on_trial = on_trial
        self.should_stop = should_stop
        self.study = _new_study(settings)
        self.mutator = Mutator(space, settings.seed, toggles=settings.toggles)
        self.start = time.monotonic()
        self.infos: list[TrialInfo] = []
        self.memo: dict[str, list[Reading]] = {}
        self.best: float | None = None
        self.best_scores: tuple[float, ...] = ()
        self.incumbent = full_params(space)  # raw values of every dimension: the base at first
        self.since_best = 0
        self.scored_any = False
        self.stop_reason = "trials"
        self.explored = 0
        """Trials of the search phase (the simplification's come after them)."""

    # ------------------------------------------------------------------------------ phases

    def run(self, evaluator: Evaluator) -> None:
        """Explore, then (unless stopped or timed out) simplify, reading with ``evaluator``."""
        import optuna

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            self._explore(evaluator)
            self.explored = len(self.infos)
            if self.settings.simplify and self.stop_reason in ("trials", "patience"):
                self._simplify(evaluator)

    def _explore(self, evaluator: Evaluator) -> None:
        trials, patience = self.settings.trials, self.settings.patience
        while len(self.infos) < trials:
            # the first batch (with the base preset) always runs, so there is a result to return
            reason = self._stopping() if self.infos else None
            if reason is not None:
                self.stop_reason = reason
                return
            batch: Batch = []
            pending: set[str] = set()
            level = min(MAX_LEVEL, self.since_best // WIDEN)
            for _ in range(min(BATCH, trials - len(self.infos))):
                values = self._propose(len(self.infos) + len(batch), level, pending)
                batch.append(self._ask(values, pending))
            self._run_batch(evaluator, batch, self._beats, trials)
            if patience is not None and self.since_best >= patience and len(self.infos) < trials:
                self.stop_reason = "patience"
                return

    def _propose(self, number: int, level: int, pending: set[str]) -> dict[str, Any]:
        """The values of trial ``number``: the base, a local move, or a few for TPE to choose."""
        if number == 0:
            return self.space.base_params()
        if not _tpe_turn(number, level):
            local = _local_move(self.mutator, self.space, self.incumbent, level, self.memo, pending)
            if local is not None:
                return local
        # TPE proposes a few parameters; the rest stay the incumbent's
        free = self.mutator.subspace(self.incumbent, TPE_FREE + 2 * level)
        return {k: v for k, v in self.incumbent.items() if k not in free}

    def _simplify(self, evaluator: Evaluator) -> None:
        """Put each changed value back to the base's, one at a time, keeping that when no worse."""
        dimensions = self.space.dimensions
        base_raw = full_params(self.space)
        for d in dimensions:
            if self.incumbent[d.name] == base_raw[d.name]:
                continue
            reason = self._stopping()
            if reason is not None:
                self.stop_reason = reason
                return
            left = sum(self.incumbent[e.name] != base_raw[e.name] for e in dimensions)
            trial = self._ask({**self.incumbent, d.name: base_raw[d.name]}, set())
            self._run_batch(evaluator, [trial], self._matches, len(self.infos) + left)

    # ----------------------------------------------------------------------------- trials

    def _ask(self, values: dict[str, Any], pending: set[str]) -> tuple[Any, Preset | None, dict[str, Any]]:
        self.study.enqueue_trial(values)
        trial = self.study.ask()
        try:
            preset, chosen = self.space.preset(lambda d, t=trial: _suggest(t, d))
            pending.add(_key(preset))
        except InvalidCombination:
            return trial, None, dict(trial.params)
        return trial, preset, chosen

    def _run_batch(
        self,
        evaluator: Evaluator,
        batch: Batch,
        accept: Callable[[float, tuple[float, ...]], bool],
        total: int,
    ) -> None:
        """Read the batch's new presets, tell the sampler, update the incumbent, report each trial."""
        todo: dict[str, Preset] = {}
        for _, preset, _ in batch:
            if preset is not None and _key(preset) not in self.memo:
                todo.setdefault(_key(preset), preset)
        for key, readings in zip(todo, evaluator.read(list(todo.values())), strict=True):
            self.memo[key] = readings
        for trial, preset, values in batch:
            score_, scores, failures = self._tell(trial, preset)
            improved = score_ is not None and accept(score_, scores)
            if improved:
                self.best, self.best_scores, self.since_best = score_, scores, 0
                by_name = self.space.by_name
                moved = {k: clamp(by_name[k], v) for k, v in trial.params.items()}
                self.incumbent = {**self.incumbent, **moved}
            else:
                self.since_best += 1
            info = TrialInfo(
                number=trial.number,
                score=score_,
                preset=preset,
                values=values,
                changes=_changes(self.space, values),
                image_scores=scores,
                failures=failures,
                seconds=time.monotonic() - self.start,
                best_score=self.best,
                is_best=improved,
                done=len(self.infos) + 1,
                total=total,
            )
            self.infos.append(info)
            if self.on_trial is not None:
                self.on_trial(info)

    def _tell(
        self, trial: Any, preset: Preset | None
    ) -> tuple[float | None, tuple[float, ...], tuple[str, ...]]:
        """Score one trial from its readings and tell the study: (mean, per image, failures)."""
        import optuna

        if preset is None:
            self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            return None, (), ()
        readings = self.memo[_key(preset)]
        s = self.settings
        scores = tuple(
            score(r, t, metric=s.metric, ignore_spaces=s.ignore_spaces, ignore_case=s.ignore_case)
            for r, t in zip(readings, self.expected, strict=True)
        )
        failures = tuple(r.error for r in readings if r.error is not None)
        self.scored_any = self.scored_any or len(failures) < len(readings)
        mean = sum(scores) / len(scores)
        self.study.tell(trial, mean)
        return mean, scores, failures

    def _beats(self, score_: float, scores: tuple[float, ...]) -> bool:
        """Search phase: better than the incumbent by min_gain, on min_support more images than worse."""
        if self.best is None:  # the first trial (the base) is the incumbent
            return True
        s = self.settings
        gain = score_ <= self.best - s.min_gain if s.lower else score_ >= self.best + s.min_gain
        return gain and _support(scores, self.best_scores, s.lower) >= s.min_support

    def _matches(self, score_: float, scores: tuple[float, ...]) -> bool:
        """Simplification phase: no worse than the incumbent."""
        if self.best is None:
            return True
        return score_ <= self.best if self.settings.lower else score_ >= self.best

    def _stopping(self) -> str | None:
        if self.should_stop is not None and self.should_stop():
            return "stopped"
        timeout = self.settings.timeout
        if timeout is not None and time.monotonic() - self.start >= timeout:
            return "timeout"
        return None

    # ----------------------------------------------------------------------------- result

    def result(self, base: Preset, label: str, n_images: int) -> TuneResult:
        """The run's outcome; raises :class:`TuneError` when no image could be scored at all."""
        infos = self.infos
        if not self.scored_any:
            reasons = sorted({f for i in infos for f in i.failures})
            detail = f": {reasons[0]}" if reasons else ""
            raise TuneError(f"no image could be scored by any of {len(infos)} trials{detail}")
        ranked = _rank(infos, self.settings.lower, next(i for i in reversed(infos) if i.is_best))
        result = TuneResult(
            preset=base,
            best=ranked[0],
            base=infos[0],
            trials=tuple(infos),
            ranked=ranked,
            metric=self.settings.metric,
            stop_reason=self.stop_reason,
            seconds=time.monotonic() - self.start,
            n_images=n_images,
            space=self.space,
            label=label,
            seed=self.settings.seed,
            min_gain=self.settings.min_gain,
            searched=self.explored or len(infos),
        )
        return replace(result, preset=result.tuned(result.best))


def _new_study(settings: Settings) -> Any:
    """An Optuna study with a seeded TPE sampler (constant liar: batches are asked before told)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=settings.seed,
            n_startup_trials=TPE_STARTUP,
            multivariate=True,
            group=True,
            constant_liar=True,
        )
    return optuna.create_study(direction="minimize" if settings.lower else "maximize", sampler=sampler)


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
    freeze: Collection[str] = (),
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
    trials, seed, ignore_spaces, ignore_case, timeout, patience, toggles, min_gain, min_support, simplify:
        See :class:`Settings`.
    metric:
        ``"cer"``: minimise the mean CER over the images that have expected text.
        ``"confidence"``: maximise the mean word confidence over all images (a proxy).
        ``"auto"``: ``"cer"`` when any image has expected text, else ``"confidence"``.
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
    chosen, pairs = _select(images, metric)
    arrays = [as_input(image) for image, _ in pairs]
    expected = [text for _, text in pairs]
    area = max(int(a.shape[0]) * int(a.shape[1]) for a in arrays)
    side = max(max(a.shape[:2]) for a in arrays)
    space = search_space(
        base, image_area=area, image_side=side, freeze=freeze, psm_choices=psm_choices, stage_toggles=toggles
    )
    if min_gain is None:
        min_gain = _default_gain(chosen, expected, ignore_spaces=ignore_spaces, ignore_case=ignore_case)
    elif not (min_gain >= 0 and math.isfinite(min_gain)):
        raise TuneUsageError(f"min_gain must be a number >= 0, got {min_gain!r}")
    if min_support is None:
        min_support = default_support(len(arrays))
    elif not isinstance(min_support, int) or min_support < 0:
        raise TuneUsageError(f"min_support must be a whole number >= 0, got {min_support!r}")
    settings = Settings(
        metric=chosen,
        trials=trials,
        seed=seed,
        timeout=timeout,
        patience=patience,
        toggles=toggles,
        min_gain=min_gain,
        min_support=min_support,
        simplify=simplify,
        ignore_spaces=ignore_spaces,
        ignore_case=ignore_case,
    )
    search = Search(space, expected, settings, on_trial, should_stop)
    with Evaluator(arrays, min(jobs, BATCH * len(arrays))) as evaluator:
        search.run(evaluator)
    return search.result(base, label, len(arrays))


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


def default_support(images: int) -> int:
    """``min_support`` when none is given: :data:`SUPPORT` from :data:`SUPPORT_FROM` images on, else 1."""
    return SUPPORT if images >= SUPPORT_FROM else 1


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
    images: Sequence[tuple[np.ndarray, str | None]], metric: Metric
) -> tuple[Literal["cer", "confidence"], list[tuple[np.ndarray, str | None]]]:
    """The metric ``"auto"`` stands for, and the images scored with it."""
    pairs = list(images)
    if not pairs:
        raise TuneError("no images to tune on")
    with_text: list[tuple[np.ndarray, str | None]] = [(im, text) for im, text in pairs if text is not None]
    if metric == "auto":
        metric = "cer" if with_text else "confidence"
    if metric == "cer":
        if not with_text:
            raise TuneUsageError(
                "metric 'cer' needs expected text (a <stem>.gt.txt beside each image); "
                "use metric 'confidence' for images without it"
            )
        return "cer", with_text
    return "confidence", pairs


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
