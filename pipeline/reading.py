"""Run a preset on an image and read the result: with its second engine, when it names one.

The one place where a preset's stages and its reading meet, for the CLI, the evaluation, the
batch, ``--preset auto`` and the tuner. With ``ocr.second_engine`` the preset is run a second
time as that engine would read it (stages limited to other engines skipped, those limited to it
run) and read by it; the second reading is kept when it holds clearly more dictionary words
(:func:`~pipeline.ocr.dictionary.second_is_better`), and then so are its preset and run, so
the stages shown are the ones that made the text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from .errors import ClarityError
from .ocr import OcrResult, recognize
from .ocr.correct import is_number
from .ocr.dictionary import second_is_better
from .ocr.options import engine_family
from .preset import Preset
from .runner import Result, run

log = logging.getLogger(__name__)

R = TypeVar("R")


def with_ocr(preset: Preset, **update: Any) -> Preset:
    """``preset`` with these ``ocr`` fields replaced (``with_ocr(p, whitelist="0123456789")``)."""
    return preset.model_copy(update={"ocr": preset.ocr.model_copy(update=update)})


def second_preset(preset: Preset) -> Preset | None:
    """``preset`` as its ``ocr.second_engine`` reads it, or ``None`` when it names none or an
    engine of the same family (both Tesseract)."""
    second = preset.ocr.second_engine
    if second is None or engine_family(second) == engine_family(preset.ocr.engine):
        return None
    return with_ocr(preset, engine=second, second_engine=None)


def only_engine(preset: Preset, engine: str | None) -> Preset:
    """``preset`` read by ``engine`` alone (an ``ocr.engine`` value): its second engine is dropped,
    so that ``--engine tesserocr`` means Tesseract reads, and nothing else. ``None`` (no engine
    asked for) leaves ``preset`` as it is."""
    return with_ocr(preset, engine=engine, second_engine=None) if engine else preset


def read_preset(image: np.ndarray, preset: Preset, **run_options: Any) -> tuple[Preset, Result, OcrResult]:
    """Run ``preset`` on ``image`` and read the result; returns the preset, run and reading kept.

    ``run_options`` go to :func:`~pipeline.runner.run` (``cache``) for both runs. Without a
    second engine (:func:`second_preset`) this is one run and one reading (:func:`read_once`);
    with one, :func:`second_opinion` follows.
    """
    return second_opinion(image, preset, *read_once(image, preset, **run_options), **run_options)


def read_once(image: np.ndarray, preset: Preset, **run_options: Any) -> tuple[Result, OcrResult]:
    """Run ``preset`` on ``image`` and read the result with its first engine alone."""
    result = run(image, preset, **run_options)
    return result, recognize(result.final, preset.ocr, result.input)


def second_opinion(
    image: np.ndarray, preset: Preset, result: Result, reading: OcrResult, **run_options: Any
) -> tuple[Preset, Result, OcrResult]:
    """The first engine's ``result`` and ``reading`` of ``image``, or its second engine's, whichever
    :func:`prefer_second` keeps (the first when there is none)."""
    won = prefer_second(preset, reading.text, lambda other: read_once(image, other, **run_options), _text)
    if won is None:
        return preset, result, reading
    other, (other_result, other_reading) = won
    return other, other_result, other_reading


def _text(read: tuple[Result, OcrResult]) -> str:
    return read[1].text


def prefer_second(
    preset: Preset, first: str | None, read: Callable[[Preset], R], text: Callable[[R], str | None]
) -> tuple[Preset, R] | None:
    """The one keep-or-switch rule, for every caller (batch, tuner, studio): the second engine's
    preset and its reading, when they replace the first reading, else ``None``.

    ``first``: the text the first engine read (``None`` when it failed); ``read(preset)`` runs and
    reads a preset the caller's way (cached, in a worker) and ``text`` takes the text from what it
    returns (``None`` when that reading failed). The second reading replaces the first when the
    first failed or when :func:`~pipeline.ocr.dictionary.second_is_better`; when the second
    engine's stages or reading raise a :class:`~pipeline.errors.ClarityError` (a missing
    language, a time limit), the first stands and a warning is logged. A first reading that is a
    number (:func:`~pipeline.ocr.correct.is_number`: a meter, a display, an amount) stands
    without asking the second engine: the judge weighs words, and a second reading could beat
    a number only with chance words read in its glare or noise.
    """
    other = second_preset(preset)
    if other is None or (first is not None and is_number(first)):
        return None
    try:
        second = read(other)
    except ClarityError as exc:  # a second opinion that cannot be had leaves the first standing
        log.warning("second engine %s failed (%s): the first reading is kept", other.ocr.engine, exc)
        return None
    second_text = text(second)
    if second_text is None:
        return None
    if first is not None and not second_is_better(
        first, second_text, preset.ocr.lang, preset.ocr.second_word_share
    ):
        return None
    return other, second
