"""Run a preset on an image, keeping every stage's output and time.

Results are cached by prefix: the output of stage *k* is stored under a key made of the input
image and the settings of stages 1..k, so changing stage *k* recomputes stages *k* and after
only. A disabled stage, or one not meant for the preset's OCR engine (``engines``), passes its
input through.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass

import cv2
import numpy as np

from . import limits
from .cache import BoundedCache, image_digest
from .errors import StageError
from .image_conventions import gray_or_bgr
from .preset import INPUT, Preset, StageSpec
from .registry import get_stage
from .stages import _image


@dataclass(frozen=True)
class StepResult:
    """What one stage produced.

    Attributes
    ----------
    index:
        Position of the stage in the preset (0-based).
    stage:
        Registered stage name.
    label:
        The stage's id, else its name.
    enabled:
        False when the stage was skipped (``image`` is then its input): turned off, or not
        for the preset's OCR engine (``StageSpec.engines``).
    image:
        The stage's output, uint8 gray (H, W) or BGR (H, W, 3). Treat as read-only.
    ms:
        Time the stage took when it was computed, in milliseconds.
    cached:
        True when this run served the output from the cache.
    """

    index: int
    stage: str
    label: str
    enabled: bool
    image: np.ndarray
    ms: float
    cached: bool


@dataclass(frozen=True)
class Result:
    """The outcome of :func:`run`: the input, every step, and the final image."""

    input: np.ndarray
    steps: tuple[StepResult, ...]
    ms: float

    @property
    def final(self) -> np.ndarray:
        """The last stage's output (the input itself for an empty preset)."""
        return self.steps[-1].image if self.steps else self.input

    @property
    def computed_ms(self) -> float:
        """Milliseconds spent computing stages in this run (cached stages count 0)."""
        return sum(s.ms for s in self.steps if not s.cached and s.enabled)


CACHE_ENTRIES = int(os.environ.get("CLARITY_CACHE_ENTRIES", 256))
"""Most stage outputs kept by the process-wide cache (env ``CLARITY_CACHE_ENTRIES``)."""

CACHE_MB = limits.CACHE_MB.get_int()
"""Most megabytes of stage outputs kept by the process-wide cache (env ``CLARITY_CACHE_MB``)."""

_image.OUTPUT_CHECK = limits.check_stage_pixels  # enlarging stages check before they allocate

_DEFAULT_CACHE: BoundedCache[tuple[np.ndarray, float]] = BoundedCache(CACHE_ENTRIES, CACHE_MB * 2**20)


def as_input(image: np.ndarray) -> np.ndarray:
    """Check and normalise an input image to uint8 gray (H, W) or BGR (H, W, 3).

    As :func:`pipeline.image_conventions.gray_or_bgr`: alpha is flattened onto white, exactly as
    :func:`pipeline.imageio.read_image` does for a file with transparency.
    """
    return gray_or_bgr(image, StageError)


def run(
    image: np.ndarray,
    preset: Preset,
    *,
    cache: BoundedCache[tuple[np.ndarray, float]] | None = _DEFAULT_CACHE,
    digest: str | None = None,
) -> Result:
    """Run every stage of ``preset`` on ``image``.

    Parameters
    ----------
    image:
        uint8 gray (H, W) or BGR (H, W, 3); see :func:`pipeline.imageio.read_image`.
    preset:
        The stages to run, in order.
    cache:
        Where stage outputs are kept between runs (a process-wide bounded cache by default);
        ``None`` computes everything.
    digest:
        :func:`~pipeline.cache.image_digest` of ``image`` when the caller already has it (the
        studio keeps it with the loaded image), so its pixels are not hashed again on every run.

    Raises
    ------
    StageError
        A stage failed on this image; the message names the stage.
    """
    start = time.perf_counter()
    image = as_input(image)
    outputs: dict[str, np.ndarray] = {INPUT: image}
    digest = digest or image_digest(image)
    current = image
    held = image.nbytes  # bytes of the images this run keeps (the input and every stage's output)
    steps: list[StepResult] = []
    keys = stage_keys(preset, digest)
    for index, (spec, (key, active)) in enumerate(zip(preset.stages, keys, strict=True)):
        ms, cached = 0.0, False
        if active:
            hit = cache.get(key) if cache is not None else None
            if hit is not None:
                current, ms = hit
                cached = True
            else:
                current, ms = _compute(index, spec, current, outputs)
                if cache is not None:
                    cache.put(key, (current, ms))
        if spec.enabled:
            held += current.nbytes
            if held > limits.RUN_MB.get() * 2**20:
                raise StageError(
                    limits.over_limit(
                        limits.RUN_MB,
                        f"stage {index + 1} ({spec.stage}): the outputs of stages 1 to {index + 1}",
                        held / 2**20,
                        "use fewer stages, or downscale or crop the image first",
                    )
                )
        if spec.id is not None:
            outputs[spec.id] = current
        steps.append(StepResult(index, spec.stage, spec.label, active, current, ms, cached))
    return Result(image, tuple(steps), (time.perf_counter() - start) * 1000)


def stage_keys(preset: Preset, digest: str) -> list[tuple[str, bool]]:
    """For each stage of ``preset`` on the image whose digest is ``digest``: the cache key of its
    output (it depends on the image and on this stage and every stage before it) and whether it
    runs with the preset's engine."""
    keys = []
    key = digest
    for spec in preset.stages:
        active = spec.runs_with(preset.ocr.engine)
        key = hashlib.blake2b(f"{key}\n{spec.key()}|{active}".encode(), digest_size=16).hexdigest()
        keys.append((key, active))
    return keys


def cached_until_small(
    preset: Preset,
    digest: str,
    max_pixels: int,
    *,
    cache: BoundedCache[tuple[np.ndarray, float]] = _DEFAULT_CACHE,
) -> bool:
    """True when every active stage of ``preset`` up to the first one whose output has at most
    ``max_pixels`` is in ``cache`` for the image ``digest``: :func:`run` then computes nothing on
    a bigger image (unless a later stage enlarges it again). A big photo's first stages (gray,
    shrink to the text size) are kept by :func:`remember_until_small` after a run elsewhere."""
    for key, active in stage_keys(preset, digest):
        hit = cache.get(key) if active else None
        if active and hit is None:
            return False
        if hit is not None and hit[0].shape[0] * hit[0].shape[1] <= max_pixels:
            return True
    return False


def remember_until_small(
    result: Result,
    preset: Preset,
    digest: str,
    max_pixels: int,
    *,
    cache: BoundedCache[tuple[np.ndarray, float]] = _DEFAULT_CACHE,
) -> None:
    """Keep in ``cache`` the outputs of ``result`` (a run of ``preset`` made without the cache,
    e.g. in a worker process) up to the first active stage whose output has at most
    ``max_pixels``, so that the next run of a preset that differs only after it starts there
    (:func:`cached_until_small`). Nothing is kept when no stage's output is that small."""
    kept: list[tuple[str, StepResult]] = []
    for (key, active), step in zip(stage_keys(preset, digest), result.steps, strict=True):
        if not active:
            continue
        kept.append((key, step))
        if step.image.shape[0] * step.image.shape[1] <= max_pixels:
            for kept_key, kept_step in kept:
                kept_step.image.flags.writeable = False  # shared through the cache from now on
                cache.put(kept_key, (kept_step.image, kept_step.ms))
            return


def _compute(
    index: int, spec: StageSpec, current: np.ndarray, outputs: dict[str, np.ndarray]
) -> tuple[np.ndarray, float]:
    stage = get_stage(spec.stage)
    source = outputs.get(spec.source or INPUT) if stage.takes_source else None
    if stage.takes_source and source is None:
        raise StageError(f"stage {index + 1} ({spec.stage}): source {spec.source!r} names no earlier stage")
    t0 = time.perf_counter()
    try:
        out = stage(current, spec.params, source)
    except StageError as exc:
        raise StageError(f"stage {index + 1} ({spec.stage}): {exc}") from None
    except (cv2.error, ValueError, MemoryError) as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise StageError(f"stage {index + 1} ({spec.stage}) failed on this image: {detail}") from exc
    ms = (time.perf_counter() - t0) * 1000
    if not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.ndim not in (2, 3):
        raise StageError(
            f"stage {index + 1} ({spec.stage}) returned no 8-bit image (a bug: please report it)"
        )
    limits.check_stage_pixels(out.shape[1], out.shape[0], f"stage {index + 1} ({spec.stage})'s output")
    if out is current or out.base is not None:
        out = out.view()  # mark our own view read-only, never the caller's array
    out.flags.writeable = False  # outputs are shared through the cache
    return out, ms


def run_uncached(image: np.ndarray, preset: Preset) -> Result:
    """:func:`run` without the cache: for a worker process (:mod:`pipeline.workers`), whose memory
    then holds one run's images and nothing more."""
    return run(image, preset, cache=None)
