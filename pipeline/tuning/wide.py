"""The wide tuner: which shipped preset to start from, which engine, then the parameters.

:func:`tune_wide` is what ``clarity tune`` runs. It searches more than one neighbourhood, in
four steps, and guards each against fitting a handful of images:

1. **Starts.** Every *start* is read on every tuning image (:func:`start_candidates`): the
   ``--base`` preset (when one is given), then every shipped scenario preset as shipped (the
   presets meant for what the labels are first: :func:`scenario_order`), then
   each with its cleaning read by Tesseract, then each read by Tesseract with no cleaning (its
   OCR options only), then each with its cleaning read by RapidOCR. With
   an engine forced (``engine=``) only that engine's starts remain. Starts that would read the
   same thing are scored once. They are compared in that order, and a later start replaces the
   one chosen so far only when it clearly beats it: a mean CER lower by :data:`START_MARGIN`
   (10 %) of it and by one character's worth (the search's ``min_gain``), and better on 2 more
   images than worse (``min_support``). On 8 images smaller differences were luck: choosing the
   lowest mean picked, on a generated page set, the document cleaning read by RapidOCR (0.183
   vs 0.191 as shipped on the 8 tuning pages), which read the 16 unseen pages twice as badly
   (0.084 vs 0.043). Asking for one image more instead of two changed one choice in 21
   tunings of generated speckled lines, captchas and gray-band captchas, for the worse (captchas
   0.102 vs 0.169 unseen). A later start also replaces the chosen one when it is *ahead
   everywhere*: lower by one character's worth and worse on no tuning image
   (:func:`_ahead_everywhere`). A scenario preset often fixes one or two tuning images and
   changes no other, which the clear-win rule cannot tell from luck. Replayed on the unseen
   halves of 43 generated and corpus folders (``bench/start_rules.py``), this rule changed 8
   choices: 7 read better (speckled lines 0.090 vs 0.045 and 0.051 vs 0.037, gray-band captchas
   0.098 vs 0.055) and 1 the same. For codes the ``speckled-line`` starts are left out of it
   (:func:`may_edge_ahead`): its median filter fitted 8 captchas by luck in all three such
   choices (0.042 vs 0.057, 0.106 vs 0.115, 0.149 vs 0.180 unseen). When most tuning images
   are of a kind ``auto`` recognises (:func:`image_kind`), its preset is compared first.
   Characters in one tone over background text (``gray-band-captcha``): on 15 generated
   gray-band sets the ``captcha`` start, first before, kept its place on 5 whose 8 tuning
   images could not tell them apart, and read their unseen images worse on 4 (0.090 vs 0.031,
   0.067 vs 0.046, 0.098 vs 0.055, 0.041 vs 0.018; the fifth the same). Specks on gray paper
   (``speckled-line``): on 11 generated speckled sets forced to Tesseract, the captcha
   cleaning kept its place on 4 and read them worse (0.288 vs 0.155, 0.356 vs 0.125, 0.382 vs
   0.179, 0.537 vs 0.227); with both engines the choice changed on 2, one the same and one
   worse (0.022 vs 0.031). When the labels are single lines, the page preset
   (``document``) offers no start: with Tesseract forced, on 15 generated line sets one of its
   starts clearly beat ``text-line``'s on the 8 tuning lines of 2 and read their 16 unseen
   lines worse both times (0.151 vs 0.065, 0.067 vs 0.065); on 12 of them with both engines
   it was never chosen. Starts count as trials of
   ``trials``, but all of them always run, and steps
   2 to 4 never make the result worse than the chosen start on the tuning images; so the
   result is never worse on them than the best shipped preset but by a difference of that
   size.
2. **Character set.** When the labels are short codes whose alphabet they reveal (no small
   letters, say, or capital ``V`` and ``W`` but never ``v`` or ``w``), the chosen start is read
   again with that alphabet as its whitelist (:mod:`pipeline.tuning.charset`; within the
   start's own whitelist, as the ``captcha`` presets' letters and digits), and the whitelist
   is kept unless the tuning images read worse with it (in mean CER, or on more images than
   better). It needs no clear win: it is not fitted to the images, and on 8 captchas the few
   case errors it fixes rarely show, while on 16 unseen ones of four generated sets it took the
   tuned captcha CER from 0.089 to 0.038, 0.134 to 0.048, 0.046 to 0.010 and 0.141 to 0.099.
3. **Search.** The chosen start's neighbourhood is searched by :func:`pipeline.tuning.tune`
   (parameters, stages on or off, the page segmentation mode), on the images not held back.
   Stages that do not run with the start's engine are left out of the tuned preset first: they
   could not change its reading, and the search would spend trials on them.
4. **Held-back check.** With 6 tuning images or more, every third one (the 3rd, 6th, ...) is
   held back from the search. The search's result is kept only when its mean CER on the held-back
   images is no worse than the start's; otherwise the start itself is the tuned preset. So a
   change that only fitted the searched images does not ship. A tie keeps the change: tuned
   for Tesseract on generated sets, the four searches that tied on the 2 held-back images read
   the unseen ones better twice (captchas 0.667 → 0.604, 0.695 → 0.618) and worse twice (lines
   0.093 → 0.162, gray-band captchas 0.151 → 0.209), so asking for a lower mean there would
   only trade one for the other. A fifth tie, on held-out seed 1212, read worse (gray-band
   captchas 0.276 → 0.342); the rule stays until development data, not held-out data, says
   otherwise.

With ``metric="confidence"`` (no expected text) only the base's neighbourhood is searched:
word confidences of different engines and cleanings are not comparable enough to choose
between them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np

from ..auto import BAND_PRESET, SPECKLE_PRESET, has_background_text, is_speckled, measure
from ..errors import TuneUsageError
from ..evaluate import Reading, score
from ..ocr.options import engine_family
from ..preset import Preset, load_preset
from ..reading import only_engine, second_preset, with_ocr
from ..runner import as_input
from ..shipped import presets_folder
from .charset import are_codes, learned_whitelist
from .result import Metric, TuneResult
from .scoring import Evaluator
from .search import _default_gain, _key, _select, _support, default_support, tune

SCENARIOS = ("text-line", "document", "captcha", "speckled-line", "gray-band-captcha", "meter-digit")
"""The shipped scenario presets the starts come from, in the order they are compared for labels
that are single lines of words (:func:`scenario_order` puts others first for pages and codes)."""

CODE_SCENARIOS = ("captcha", "gray-band-captcha", "speckled-line", "meter-digit")
"""The scenario presets meant for short codes, compared first when every label is one."""


PAGE_SCENARIOS = ("document",)
"""The scenario presets meant for pages: left out of the starts when no label has several lines."""


def scenario_order(labels: Sequence[str | None], kind: str | None = None) -> tuple[str, ...]:
    """:data:`SCENARIOS` in the order their starts are compared, from what the labels are:
    ``document`` first when a label has several lines, the :data:`CODE_SCENARIOS` first when
    every label is a code (:func:`~pipeline.tuning.charset.are_codes`), else as listed; and,
    but for pages, the preset ``kind`` names before them all (what most tuning images look
    like to ``auto``: :func:`image_kind`). The first start is the one to beat clearly, so it
    should be a preset meant for such images. When there are labels and none has several
    lines, the :data:`PAGE_SCENARIOS` are left out (a page cleaning that wins on 8 single lines
    has won by luck, see the module docstring), unless ``kind`` says the images are pages (a
    page's text written on one line)."""
    if any(t and "\n" in t.strip() for t in labels):
        return tuple(dict.fromkeys(PAGE_SCENARIOS + SCENARIOS))
    first = ((kind,) if kind else ()) + (CODE_SCENARIOS if are_codes(labels) else ())
    lines = any(t and t.strip() for t in labels) and kind not in PAGE_SCENARIOS
    return tuple(n for n in dict.fromkeys(first + SCENARIOS) if not (lines and n in PAGE_SCENARIOS))


HOLD_FROM = 6
"""From this many tuning images on, every :data:`HOLD_EVERY`-th is held back from the search."""

HOLD_EVERY = 3

START_MARGIN = 0.1
"""A later start must have a mean CER at least this fraction lower than the one chosen so far."""


@dataclass(frozen=True)
class Start:
    """One starting point: a label (``"captcha, cleaned, read by Tesseract"``), its preset, and
    the shipped preset it was made from (``""`` for the user's base)."""

    label: str
    preset: Preset
    scenario: str = ""


@dataclass(frozen=True)
class StartScore:
    """A start's mean CER over all tuning images (and each image's), and whether it was chosen."""

    label: str
    score: float
    chosen: bool
    image_scores: tuple[float, ...] = ()


@dataclass(frozen=True)
class HeldBack:
    """The held-back check: the start's and the search result's mean CER on the held-back images.

    ``kept`` says whether the search's result was kept (no worse than the start there).
    """

    images: int
    start: float
    searched: float
    kept: bool


@dataclass(frozen=True)
class CharsetCheck:
    """The whitelist learned from the labels (:mod:`pipeline.tuning.charset`), the chosen start's
    mean CER on all tuning images without and with it, and whether it was kept (no worse on
    them, in mean and in images better against worse)."""

    whitelist: str
    start: float
    restricted: float
    kept: bool
    image_scores: tuple[float, ...] = ()


def with_whitelist(preset: Preset, whitelist: str) -> Preset:
    """``preset`` reading only the characters of ``whitelist``."""
    return with_ocr(preset, whitelist=whitelist)


def with_engine(preset: Preset, engine: str, *, clean_for_all: bool = False) -> Preset:
    """``preset`` read by ``engine``; ``clean_for_all``: its cleaning for Tesseract (the stages
    for every engine and those for Tesseract) runs whatever the engine, without the stages
    only RapidOCR runs (``speckled-line``'s median filter for RapidOCR, which ran before the
    Tesseract cleaning in its Tesseract start until it was left out: with Tesseract forced, the
    tuned preset that kept that start read the 16 unseen speckled lines of two fresh sets 0.141
    and 0.143, the shipped preset 0.099 and 0.118)."""
    stages = preset.stages
    if clean_for_all:
        tesseract = [s for s in stages if not s.engines or "tesseract" in map(engine_family, s.engines)]
        stages = tuple(s.model_copy(update={"engines": ()}) for s in tesseract)
    ocr = preset.ocr.model_copy(update={"engine": engine})
    return preset.model_copy(update={"stages": stages, "ocr": ocr})


def reading_engines(preset: Preset) -> list[str]:
    """The engines that read ``preset``: its engine, and its second engine when it has one."""
    engines: list[str] = [preset.ocr.engine]
    second = second_preset(preset)
    return [*engines, second.ocr.engine] if second is not None else engines


def effective(preset: Preset) -> Preset:
    """``preset`` without the stages that run with none of its engines (off, or for another engine):
    a stage for its second engine (``ocr.second_engine``) stays, as that engine's reading needs it."""
    engines = reading_engines(preset)
    kept = tuple(s for s in preset.stages if any(s.runs_with(engine) for engine in engines))
    return preset.model_copy(update={"stages": kept})


def _reads_key(preset: Preset) -> str:
    """What decides a preset's readings: the search's key of the stages that run, which of its
    engines each runs for, and the OCR options."""
    kept, engines = effective(preset), reading_engines(preset)
    runs = "|".join(",".join(e for e in engines if s.runs_with(e)) for s in kept.stages)
    return f"{_key(kept)}\n{runs}"


def start_candidates(
    base: Preset | None,
    engine: str | None = None,
    labels: Sequence[str | None] = (),
    images: Sequence[np.ndarray] = (),
) -> list[Start]:
    """The starts of a wide run, in the order they are compared, one per distinct reading.

    ``base``: the user's preset (first, so it wins ties), or ``None``. ``engine``: an engine
    every start must use (``"tesserocr"``, ``"rapidocr"``, ...; ``"auto"`` stands for the
    fastest Tesseract), or ``None`` for both engine families. ``labels``: the expected texts,
    which order the scenario presets (:func:`scenario_order`), as do the tuning ``images``
    (uint8 gray or BGR) when most of them are of a kind ``auto`` recognises (:func:`image_kind`).
    """
    wanted: list[Start] = []
    if base is not None:
        wanted.append(Start(f"{base.name} (the base)", only_engine(base, engine)))
    folder = presets_folder()
    names = scenario_order(labels, image_kind(images))
    shipped = [(n, load_preset(folder / f"{n}.yaml")) for n in names if (folder / f"{n}.yaml").is_file()]
    for variant in range(4):  # as shipped first, then cleaned and uncleaned for Tesseract, then RapidOCR
        for name, preset in shipped:
            label, made = _variants(name, preset)[variant]
            if engine is None or engine_family(made.ocr.engine) == engine_family(engine):
                wanted.append(Start(label, only_engine(made, engine), name))
    seen: set[str] = set()
    out: list[Start] = []
    for start in wanted:
        key = _reads_key(start.preset)
        if key not in seen:
            seen.add(key)
            out.append(start)
    return out


def image_kind(images: Sequence[np.ndarray]) -> str | None:
    """The shipped preset meant for what more than half of ``images`` are, by ``auto``'s tests:
    pages of several text lines (:attr:`pipeline.auto.Layout.is_page`, ``document``),
    characters in one tone over background text (:func:`pipeline.auto.has_background_text`,
    ``gray-band-captcha``) or a line on gray paper strewn with specks
    (:func:`pipeline.auto.is_speckled`, ``speckled-line``); ``None`` for none of them. Pages
    pass the second test too (a quarter of generated ones), so they are tested first."""
    tests: tuple[tuple[str, Callable[[np.ndarray], bool]], ...] = (
        (PAGE_SCENARIOS[0], lambda image: measure(image).is_page),
        (BAND_PRESET, has_background_text),
        (SPECKLE_PRESET, is_speckled),
    )
    for preset, test in tests:
        if sum(test(image) for image in images) * 2 > len(images):
            return preset
    return None


def _variants(name: str, shipped: Preset) -> list[tuple[str, Preset]]:
    """A shipped preset as shipped, its cleaning read by Tesseract, uncleaned read by Tesseract
    (its OCR options, no stage), its cleaning read by RapidOCR: in the order they are compared,
    so for Tesseract the preset's own cleaning is the one to beat."""
    uncleaned = with_engine(shipped, "auto").model_copy(update={"stages": ()})
    return [
        (f"{name} (as shipped)", shipped),
        (f"{name}, cleaned, read by Tesseract", with_engine(shipped, "auto", clean_for_all=True)),
        (f"{name}, uncleaned, read by Tesseract", uncleaned),
        (f"{name}, cleaned, read by RapidOCR", with_engine(shipped, "rapidocr", clean_for_all=True)),
    ]


def tune_wide(
    images: Sequence[tuple[np.ndarray, str | None]],
    base: Preset | None,
    *,
    engine: str | None = None,
    trials: int = 60,
    metric: Metric = "auto",
    ignore_spaces: bool = False,
    ignore_case: bool = False,
    jobs: int = 2,
    label: str = "",
    **search: Any,
) -> WideResult:
    """Choose a start among the shipped presets and engines, search its neighbourhood, keep the
    search's result only if the held-back images agree (see the module docstring).

    Parameters
    ----------
    images:
        ``(image, expected text or None)`` pairs.
    base:
        The user's preset (compared first; ``None``: only the shipped ones). Required with
        ``metric="confidence"``.
    engine:
        Force one engine on every start (``None``: starts with both engine families).
    trials:
        Trials in all: the starts, then the search (at least one trial).
    search:
        Passed on to :func:`pipeline.tuning.tune` (seed, timeout, patience, toggles, ...).
    """
    chosen_metric, pairs = _select(images, metric)
    if chosen_metric == "confidence":
        if base is None:
            raise TuneUsageError("without expected text, give the preset to tune (--base PRESET)")
        base = only_engine(base, engine)
        result = tune(pairs, base, trials=trials, metric="confidence", jobs=jobs, label=label, **search)
        return WideResult(result, starts=(), held_back=None)
    arrays = [as_input(image) for image, _ in pairs]
    expected = [text for _, text in pairs]
    cer_of = partial(score, ignore_spaces=ignore_spaces, ignore_case=ignore_case)
    starts = start_candidates(base, engine, expected, arrays)
    min_gain = search.pop("min_gain", None)
    if min_gain is None:
        min_gain = _default_gain("cer", expected, ignore_spaces=ignore_spaces, ignore_case=ignore_case)
    min_support = search.get("min_support")
    if min_support is None:
        min_support = default_support(len(arrays))
    with Evaluator(arrays, min(jobs, len(starts) * len(arrays))) as evaluator:
        readings = evaluator.read([s.preset for s in starts])
        scores = [[cer_of(r, t) for r, t in zip(row, expected, strict=True)] for row in readings]
        pick = _pick(scores, min_gain, min_support, may_edge_ahead(starts, expected))
        start, start_scores = effective(starts[pick].preset), scores[pick]
        charset = _charset_check(start, start_scores, evaluator, expected, cer_of, ignore_case)
    table = tuple(
        StartScore(s.label, sum(row) / len(row), i == pick, tuple(row))
        for i, (s, row) in enumerate(zip(starts, scores, strict=True))
    )
    if charset is not None and charset.kept:
        start, start_scores = with_whitelist(start, charset.whitelist), list(charset.image_scores)
    held = [i for i in range(len(pairs)) if len(pairs) >= HOLD_FROM and i % HOLD_EVERY == HOLD_EVERY - 1]
    searched = [pairs[i] for i in range(len(pairs)) if i not in held]
    result = tune(
        searched,
        start,
        trials=max(1, trials - len(starts)),
        metric="cer",
        jobs=jobs,
        label=label,
        min_gain=min_gain,
        ignore_spaces=ignore_spaces,
        ignore_case=ignore_case,
        **search,
    )
    check = None
    if held:
        check = _held_back_check(result, [pairs[i] for i in held], start_scores, held, cer_of)
        if not check.kept:
            result = replace(result, preset=result.tuned(result.base))
    return WideResult(result, starts=table, held_back=check, charset=charset)


@dataclass(frozen=True)
class WideResult:
    """:func:`tune_wide`'s outcome: the search's :class:`TuneResult` (``result.preset`` is what to
    save), every start's score, and the held-back check (``None`` without one)."""

    result: TuneResult
    starts: tuple[StartScore, ...]
    held_back: HeldBack | None
    charset: CharsetCheck | None = None

    @property
    def preset(self) -> Preset:
        """The tuned preset to save."""
        return self.result.preset

    @property
    def chosen(self) -> StartScore:
        """The start the search began from."""
        return next(start for start in self.starts if start.chosen)

    @property
    def alphabet(self) -> str:
        """The whitelist learned from the labels when it was kept, else ``""``."""
        return self.charset.whitelist if self.charset is not None and self.charset.kept else ""


def _pick(scores: list[list[float]], min_gain: float, min_support: int, edge: Sequence[bool] = ()) -> int:
    """The index of the chosen start: the first, replaced by a later one when it clearly beats it
    (:func:`_clearly_better`) or, for a start ``i`` with ``edge[i]`` true, when it is ahead
    everywhere (:func:`_ahead_everywhere`)."""
    best = 0
    for i in range(1, len(scores)):
        ahead = i < len(edge) and edge[i] and _ahead_everywhere(scores[i], scores[best], min_gain)
        if ahead or _clearly_better(scores[i], scores[best], min_gain, min_support):
            best = i
    return best


def _ahead_everywhere(scores: list[float], than: list[float], min_gain: float) -> bool:
    """Mean CER lower by ``min_gain`` (one character's worth) and worse on no image."""
    lower = sum(scores) / len(scores) <= sum(than) / len(than) - min_gain
    return lower and all(a <= b for a, b in zip(scores, than, strict=True))


def may_edge_ahead(starts: Sequence[Start], labels: Sequence[str | None]) -> list[bool]:
    """Which starts may replace the one chosen by being ahead everywhere, not clearly: all but
    the ``speckled-line`` ones when the labels are codes (its median filter fitted 8 captchas by
    luck, see the module docstring)."""
    codes = are_codes(labels)
    return [not (codes and s.scenario == "speckled-line") for s in starts]


def _clearly_better(scores: list[float], than: list[float], min_gain: float, min_support: int) -> bool:
    """Mean CER lower by :data:`START_MARGIN` of it and by ``min_gain``, and better on
    ``min_support`` more images than worse: what 8 images can tell apart from luck."""
    mean, other = sum(scores) / len(scores), sum(than) / len(than)
    return mean <= other * (1 - START_MARGIN) - min_gain and _support(scores, than, True) >= min_support


def _charset_check(
    start: Preset,
    start_scores: list[float],
    evaluator: Evaluator,
    expected: list[str | None],
    cer_of: Callable[[Reading, str | None], float],
    ignore_case: bool,
) -> CharsetCheck | None:
    """Read the start with the whitelist the labels call for (within the start's own whitelist,
    if it has one), with the evaluator that read the starts; ``None`` when the labels call for
    none or for no narrower one than the start's."""
    whitelist = learned_whitelist(expected, ignore_case=ignore_case)
    if start.ocr.whitelist:
        whitelist = "".join(c for c in whitelist if c in start.ocr.whitelist)
        if set(whitelist) == set(start.ocr.whitelist):
            return None
    if not whitelist:
        return None
    (row,) = evaluator.read([with_whitelist(start, whitelist)])
    restricted = [cer_of(r, t) for r, t in zip(row, expected, strict=True)]
    kept = sum(restricted) <= sum(start_scores) and _support(restricted, start_scores, True) >= 0
    n = len(restricted)
    return CharsetCheck(whitelist, sum(start_scores) / n, sum(restricted) / n, kept, tuple(restricted))


def _held_back_check(
    result: TuneResult,
    held_pairs: list[tuple[np.ndarray, str | None]],
    start_scores: list[float],
    held: list[int],
    cer_of: Callable[[Reading, str | None], float],
) -> HeldBack:
    """Read the search's best preset on the held-back images and compare it with the start there."""
    start_mean = sum(start_scores[i] for i in held) / len(held)
    if result.best.number == 0:  # the search changed nothing: nothing to check
        return HeldBack(len(held), start_mean, start_mean, True)
    with Evaluator([as_input(im) for im, _ in held_pairs], 1) as evaluator:
        (row,) = evaluator.read([result.preset])
    searched = sum(cer_of(r, t) for r, (_, t) in zip(row, held_pairs, strict=True)) / len(row)
    return HeldBack(len(held), start_mean, searched, searched <= start_mean)
