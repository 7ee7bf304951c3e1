"""The runner: outputs and times of every stage, sources, prefix caching."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline import registry
from pipeline.cache import BoundedCache
from pipeline.errors import StageError
from pipeline.imageio import read_image
from pipeline.preset import Preset, StageSpec, parse_preset
from pipeline.runner import cached_until_small, image_digest, remember_until_small, run

from .conftest import text_image


def _preset(*stages: StageSpec) -> Preset:
    return Preset(stages=stages)


def test_empty_preset_returns_input() -> None:
    image = text_image()
    result = run(image, Preset(), cache=None)
    assert result.steps == ()
    assert result.final is image


def test_every_step_has_output_and_time() -> None:
    preset = parse_preset(
        "schema_version: 1\nstages: [grayscale, {stage: threshold, params: {method: otsu}}, invert]\n"
    )
    colour = np.dstack([text_image()] * 3)
    result = run(colour, preset, cache=None)
    assert [s.stage for s in result.steps] == ["grayscale", "threshold", "invert"]
    assert all(s.ms >= 0 and not s.cached for s in result.steps)
    assert result.steps[0].image.ndim == 2
    assert set(np.unique(result.final)) <= {0, 255}
    assert result.final.mean() < 128  # inverted: mostly black


def test_a_digest_given_by_the_caller_keys_the_cache_without_hashing_the_pixels(monkeypatch) -> None:
    from pipeline import runner
    from pipeline.cache import image_digest

    preset = parse_preset("schema_version: 1\nstages: [{stage: threshold, params: {method: otsu}}]\n")
    image, cache = text_image(), BoundedCache[tuple[np.ndarray, float]](8, 2**24)
    first = run(image, preset, cache=cache)
    digest = image_digest(image)

    def refuse(_image: np.ndarray) -> str:
        raise AssertionError("the pixels were hashed again")

    monkeypatch.setattr(runner, "image_digest", refuse)
    again = run(image, preset, cache=cache, digest=digest)
    assert again.steps[0].cached and np.array_equal(again.final, first.final)


def test_disabled_stage_passes_input_through() -> None:
    image = text_image()
    preset = _preset(StageSpec(stage="invert", enabled=False))
    result = run(image, preset, cache=None)
    assert np.array_equal(result.final, image)
    assert not result.steps[0].enabled


@pytest.mark.parametrize(
    ("engines", "engine", "runs"),
    [
        ((), "rapidocr", True),
        (("tesseract",), "auto", True),
        (("tesseract",), "tesserocr", True),
        (("tesseract",), "rapidocr", False),
        (("rapidocr",), "pytesseract", False),
        (("pytesseract",), "pytesseract", True),
        (("pytesseract",), "tesserocr", False),
    ],
)
def test_a_stage_runs_only_for_its_engines(engines: tuple[str, ...], engine: str, runs: bool) -> None:
    image = text_image()
    stages = f"[{{stage: invert, engines: {list(engines)}}}]"
    preset = parse_preset(f"schema_version: 1\nstages: {stages}\nocr: {{engine: {engine}}}\n")
    assert preset.stages[0].engines == engines
    assert parse_preset(preset.to_yaml()) == preset
    for cache in (None, BoundedCache(8, 2**24)):
        result = run(image, preset, cache=cache)
        assert result.steps[0].enabled is runs
        assert np.array_equal(result.final, 255 - image if runs else image)


def test_engine_skipped_stage_does_not_share_a_cache_entry_with_the_run_stage() -> None:
    image = text_image()
    cache: BoundedCache = BoundedCache(8, 2**24)
    text = "schema_version: 1\nstages: [{stage: invert, engines: [rapidocr]}, blur]\nocr: {engine: %s}\n"
    for engine in ("rapidocr", "tesserocr", "rapidocr"):
        ran = run(image, parse_preset(text.replace("blur", "grayscale") % engine), cache=cache)
        assert np.array_equal(ran.final, 255 - image if engine == "rapidocr" else image)


def test_source_feeds_an_earlier_image() -> None:
    image = text_image()
    preset = parse_preset(
        "schema_version: 1\nstages:\n"
        "  - {stage: grayscale, id: gray}\n"
        "  - {stage: threshold, params: {method: otsu}}\n"
        "  - {stage: hull_mask, source: gray}\n"
    )
    result = run(image, preset, cache=None)
    final = result.final
    assert final.shape == image.shape
    ink = result.steps[1].image == 0
    # inside the ink the source's own pixels are copied through
    assert np.array_equal(final[ink], image[ink])


def test_outputs_are_read_only_and_input_untouched() -> None:
    image = text_image()
    before = image.copy()
    result = run(image, _preset(StageSpec(stage="invert")), cache=BoundedCache())
    with pytest.raises(ValueError):
        result.final[0, 0] = 1
    assert np.array_equal(image, before)
    image[0, 0] = 7  # the caller's array stays writable


class _Counter:
    """Wraps every registered stage function and counts calls per stage name."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: dict[str, int] = {}
        for name, stage in registry.all_stages().items():
            monkeypatch.setitem(registry._REGISTRY, name, self._wrap(stage))

    def _wrap(self, stage: registry.Stage) -> registry.Stage:
        func = stage.func

        def counted(*args, **kwargs):
            self.calls[stage.name] = self.calls.get(stage.name, 0) + 1
            return func(*args, **kwargs)

        counted.__doc__ = func.__doc__
        return registry.Stage(
            stage.name, counted, stage.params, stage.category, stage.returns, stage.takes_source
        )


def test_changing_stage_k_recomputes_only_k_and_after(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = _Counter(monkeypatch)
    cache: BoundedCache = BoundedCache()
    image = text_image()
    base = parse_preset(
        "schema_version: 1\nstages:\n"
        "  - grayscale\n"
        "  - {stage: gaussian_blur, params: {ksize_w: 3, ksize_h: 3}}\n"
        "  - {stage: threshold, params: {method: otsu}}\n"
        "  - {stage: morphology, params: {op: open}}\n"
    )
    first = run(image, base, cache=cache)
    assert counter.calls == {"grayscale": 1, "gaussian_blur": 1, "threshold": 1, "morphology": 1}
    # change stage 3 (threshold): stages 1-2 come from the cache
    changed = base.model_copy(
        update={
            "stages": (
                *base.stages[:2],
                StageSpec(stage="threshold", params={"method": "fixed", "value": 100}),
                base.stages[3],
            )
        }
    )
    second = run(image, changed, cache=cache)
    assert counter.calls == {"grayscale": 1, "gaussian_blur": 1, "threshold": 2, "morphology": 2}
    assert [s.cached for s in second.steps] == [True, True, False, False]
    assert second.steps[1].ms == first.steps[1].ms  # the cached time is the original one
    # the same preset again: nothing recomputed
    run(image, changed, cache=cache)
    assert counter.calls["threshold"] == 2 and counter.calls["morphology"] == 2
    # a different image: everything recomputed
    run(255 - image, changed, cache=cache)
    assert counter.calls == {"grayscale": 2, "gaussian_blur": 2, "threshold": 3, "morphology": 3}


def test_cache_is_bounded() -> None:
    cache: BoundedCache = BoundedCache(max_entries=3, max_bytes=10_000_000)
    for i in range(10):
        cache.put(i, np.zeros(10, np.uint8))
    assert len(cache) == 3
    assert cache.get(0) is None and cache.get(9) is not None
    small: BoundedCache = BoundedCache(max_entries=100, max_bytes=1000)
    for i in range(10):
        small.put(i, np.zeros(400, np.uint8))
    assert small.nbytes <= 1000 and len(small) == 2


def test_bad_input_image_is_a_clear_error() -> None:
    with pytest.raises(StageError, match="8-bit"):
        run(np.zeros((4, 4), np.float32), Preset())
    with pytest.raises(StageError, match="shape"):
        run(np.zeros((4, 4, 2), np.uint8), Preset())


def test_a_bgra_array_runs_as_the_same_png_reads(tmp_path: Path) -> None:
    """Alpha is flattened onto white the same way for an array and for a file (one convention)."""
    rng = np.random.default_rng(5)
    bgra = rng.integers(0, 256, (12, 17, 4), dtype=np.uint8)
    bgra[0, 0, 3], bgra[0, 1, 3] = 0, 255  # fully transparent: paper; opaque: the colour itself
    path = tmp_path / "alpha.png"
    assert cv2.imwrite(str(path), bgra)
    preset = Preset(name="none")
    from_array = run(bgra, preset, cache=None).final
    from_file = run(read_image(path), preset, cache=None).final
    np.testing.assert_array_equal(from_array, from_file)
    assert (from_array[0, 0] == 255).all() and (from_array[0, 1] == bgra[0, 1, :3]).all()


_SHRINKING = (
    "schema_version: 1\nstages:\n  - grayscale\n"
    "  - {stage: rescale, params: {mode: factor, factor: 0.25}}\n"
    "  - {stage: threshold, params: {method: sauvola, k: %s}}\n"
)


def test_a_big_run_made_elsewhere_leaves_its_stages_up_to_the_small_image_in_the_cache() -> None:
    big = cv2.resize(np.dstack([text_image()] * 3), None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST)
    limit = big.shape[0] * big.shape[1] // 4  # the input is big; after the 0.25 rescale it is small
    first, second = parse_preset(_SHRINKING % 0.2), parse_preset(_SHRINKING % 0.4)
    digest = image_digest(big)
    cache: BoundedCache[tuple[np.ndarray, float]] = BoundedCache()
    assert not cached_until_small(first, digest, limit, cache=cache)

    remember_until_small(run(big, first, cache=None), first, digest, limit, cache=cache)
    assert len(cache) == 2  # gray and rescaled, not the threshold after them
    assert cached_until_small(first, digest, limit, cache=cache)
    assert cached_until_small(second, digest, limit, cache=cache)  # differs only after the shrink
    again = run(big, second, cache=cache, digest=digest)
    assert [s.cached for s in again.steps] == [True, True, False]
    assert np.array_equal(again.final, run(big, second, cache=None).final)

    other = parse_preset((_SHRINKING % 0.2).replace("factor: 0.25", "factor: 0.2"))
    assert not cached_until_small(other, digest, limit, cache=cache)  # the shrink itself changed
    assert not cached_until_small(first, image_digest(big[:-1]), limit, cache=cache)  # another image


def test_nothing_is_kept_when_no_stage_makes_the_image_small() -> None:
    big = np.dstack([text_image()] * 3)
    preset = parse_preset(
        "schema_version: 1\nstages: [grayscale, {stage: threshold, params: {method: otsu}}]\n"
    )
    cache: BoundedCache[tuple[np.ndarray, float]] = BoundedCache()
    limit = big.shape[0] * big.shape[1] - 1
    remember_until_small(run(big, preset, cache=None), preset, image_digest(big), limit, cache=cache)
    assert len(cache) == 0 and not cached_until_small(preset, image_digest(big), limit, cache=cache)
