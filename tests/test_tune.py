"""Tuning: the search space derived from the stage models, the tune() API and `python -m pipeline tune`."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import pytest

from pipeline.cli import main
from pipeline.errors import TuneError, TuneUsageError
from pipeline.metrics import cer
from pipeline.ocr import OcrOptions, recognize
from pipeline.params import Odd, StageParams, field_spec, number, odd_int
from pipeline.preset import Preset, load_preset, parse_preset
from pipeline.runner import run
from pipeline.tuning import tune
from pipeline.tuning.local import Mutator, full_params
from pipeline.tuning.search import _changes, _support
from pipeline.tuning.space import InvalidCombination, field_dimension, search_space

from .conftest import text_image

ROOT = Path(__file__).resolve().parents[1]

BASE_YAML = """\
schema_version: 1
name: small
stages:
  - grayscale
  - {stage: median_blur, params: {ksize_w: 3, ksize_h: 3}}
  - {stage: threshold, params: {method: otsu}}
ocr: {psm: 7}
"""
TEXTS = ("HELLO 42", "Clarity 7", "NOISE 123", "tune me")


def noisy(text: str, seed: int) -> np.ndarray:
    """A synthetic text line with salt-and-pepper specks and a little blur."""
    rng = np.random.default_rng(seed)
    image = text_image(text, scale=1.0, pad=15)
    speck = rng.random(image.shape)
    image[speck < 0.03] = 0
    image[speck > 0.97] = 255
    return cv2.GaussianBlur(image, (3, 3), 0)


@pytest.fixture(scope="module")
def images() -> list[tuple[np.ndarray, str]]:
    return [(noisy(t, i), t) for i, t in enumerate(TEXTS)]


@pytest.fixture(scope="module")
def base() -> Preset:
    return parse_preset(BASE_YAML)


@pytest.fixture
def data(tmp_path: Path, images: list[tuple[np.ndarray, str]]) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    for i, (image, text) in enumerate(images):
        cv2.imwrite(str(folder / f"line{i}.png"), image)
        (folder / f"line{i}.gt.txt").write_text(text + "\n")
    return folder


@pytest.fixture
def base_file(tmp_path: Path) -> Path:
    path = tmp_path / "base.yaml"
    path.write_text(BASE_YAML)
    return path


# ------------------------------------------------------------------------------ search space


class Model(StageParams):
    ksize: Odd = odd_int(5, 1, 51, "Window, px.")
    strength: float = number(0.2, -1.0, 1.0, "Signed factor.", step=0.01)
    area: int = number(0, 0, 100_000_000, "Smallest area, px (0 = off).")
    limit: int = number(100_000, 0, 100_000, "Largest side, px (top = no limit).")
    ratio: float = number(2.5, 0.1, 40.0, "A positive ratio.", step=0.1)
    count: int = number(1, 1, 10, "Repeats, count.")
    mode: Literal["a", "b", "c"] = "b"
    flag: bool = True


def dimension(name: str, image_area: int = 40_000):
    return field_dimension(
        f"1.model.{name}", field_spec(Model, name), getattr(Model(), name), image_area=image_area
    )


def samples(d, n: int = 200) -> list:
    if d.kind == "int":
        return list(range(int(d.low), int(d.high) + 1, d.step))
    raw = np.geomspace(d.low, d.high, n) if d.log else np.linspace(d.low, d.high, n)
    return [d.decode(float(x)) for x in raw]


def test_odd_fields_stay_odd_and_in_bounds() -> None:
    d = dimension("ksize")
    values = samples(d)
    assert all(isinstance(v, int) and v % 2 == 1 and 1 <= v <= 51 for v in values)
    assert min(values) <= 3 and max(values) >= 19  # a window around the base 5: /4 .. *4
    assert d.decode(d.encode(5)) == 5


def test_numeric_fields_respect_bounds_grid_and_base() -> None:
    for name in ("strength", "area", "limit", "ratio", "count"):
        d = dimension(name)
        info = Model.model_fields[name]
        low = next(m.ge for m in info.metadata if hasattr(m, "ge"))
        high = next(m.le for m in info.metadata if hasattr(m, "le"))
        values = samples(d)
        assert all(low <= v <= high for v in values), name
        base = getattr(Model(), name)
        assert d.decode(d.encode(base)) == base, name
        Model.model_validate({name: values[len(values) // 2]})
    strength = dimension("strength")
    assert (strength.low, strength.high, strength.log) == (-1.0, 1.0, False)  # signed: whole range, linear
    assert all(abs(v * 100 - round(v * 100)) < 1e-9 for v in samples(strength))  # on the 0.01 grid
    assert all(isinstance(v, int) for v in samples(dimension("count")))


def test_huge_ranges_are_log_scaled_and_capped_by_the_image() -> None:
    area = dimension("area", image_area=40_000)
    assert area.log and area.inner[1] <= 40_000 and area.zone == "below"
    assert area.decode(area.low) == 0  # the zone below the interval is the base's "off"
    limit = dimension("limit", image_area=40_000)  # a length: capped at the side, sqrt(40000)
    assert limit.zone == "above" and limit.decode(limit.high) == 100_000
    assert limit.log and limit.inner[1] <= 200


def test_choices_come_from_literals_and_bools() -> None:
    assert dimension("mode").choices == ("a", "b", "c")
    assert dimension("flag").choices == (False, True)


def test_search_space_of_a_preset_freezes_polarity_and_adds_toggles_and_psm() -> None:
    preset = parse_preset(
        "schema_version: 1\nstages: [{stage: component_filter, params: {ink: light, min_area: 20}},"
        " {stage: threshold, params: {method: sauvola}}]\nocr: {psm: 10}\n"
    )
    space = search_space(preset, image_area=10_000)
    names = space.by_name
    assert "1.component_filter.ink" in space.frozen and "2.threshold.invert" in space.frozen
    assert names["1.component_filter.enabled"].choices == (True, False)
    assert 10 in names["ocr.psm"].choices and 7 in names["ocr.psm"].choices
    params = space.base_params()
    again, _ = space.preset(lambda d: params[d.name])
    assert again == preset


@pytest.mark.parametrize("name", ["document", "captcha", "gray-band-captcha"])
def test_a_sampled_preset_keeps_which_engines_each_stage_runs_for(name: str) -> None:
    # These presets clean only for Tesseract (`engines: [tesseract]`); a tuned preset that lost
    # that would have RapidOCR read the binarised image (seed 3535 docs: 0.050 as shipped, 0.080
    # "tuned" with the start written back unchanged).
    preset = load_preset(ROOT / "presets" / f"{name}.yaml")
    space = search_space(preset, image_area=300_000)
    params = space.base_params()
    assert space.preset(lambda d: params[d.name])[0] == preset
    engines = [s.engines for s in preset.stages]
    assert any(engines)
    for d in space.dimensions:  # each dimension at another value: still the same engines
        if d.stage_index is not None and len(d.choices or ()) > 1:
            moved = {**params, d.name: d.encode(d.choices[-1] if d.base != d.choices[-1] else d.choices[0])}
            with contextlib.suppress(InvalidCombination):
                assert [s.engines for s in space.preset(lambda x, m=moved: m[x.name])[0].stages] == engines


def test_fields_the_base_does_not_use_are_searched_only_with_the_fields_they_depend_on() -> None:
    preset = parse_preset("schema_version: 1\nstages: [{stage: threshold, params: {method: otsu}}]")
    names = search_space(preset, image_area=10_000).by_name
    assert "1.threshold.method" in names  # the method is searched: its fields with it
    assert {"1.threshold.value", "1.threshold.window", "1.threshold.k"} <= set(names)
    frozen = search_space(preset, image_area=10_000, freeze=("method",))
    assert "1.threshold.method" not in frozen.by_name
    assert {"1.threshold.value", "1.threshold.window", "1.threshold.k", "1.threshold.c"} <= set(frozen.frozen)
    sauvola = parse_preset("schema_version: 1\nstages: [{stage: threshold, params: {method: sauvola}}]")
    names = search_space(sauvola, image_area=10_000, freeze=("method",)).by_name
    assert {"1.threshold.window", "1.threshold.k"} <= set(names) and "1.threshold.value" not in names


def test_a_searched_psm_leaves_the_alternatives() -> None:
    preset = parse_preset("schema_version: 1\nstages: [grayscale]\nocr: {psm: 3, alternative_psm: [6]}\n")
    space = search_space(preset, image_area=10_000)
    params = space.base_params()
    for psm in space.by_name["ocr.psm"].choices:
        raw = {**params, "ocr.psm": space.by_name["ocr.psm"].encode(psm)}
        ocr = space.preset(lambda d, r=raw: r[d.name])[0].ocr
        OcrOptions.model_validate(ocr.model_dump())  # still valid
        assert ocr.psm == psm and psm not in ocr.alternative_psm
        assert ocr.alternative_psm == ((6,) if psm != 6 else ())


def test_inverted_min_max_pairs_are_swapped_and_other_rules_fail() -> None:
    preset = parse_preset(
        "schema_version: 1\nstages: [{stage: component_filter, params: {min_area: 20, max_area: 5000}}]"
    )
    space = search_space(preset, image_area=10_000)
    params = space.base_params()
    params["1.component_filter.min_area"] = 3000.0
    params["1.component_filter.max_area"] = 100.0
    tuned, _ = space.preset(lambda d: params[d.name])
    assert (tuned.stages[0].params.min_area, tuned.stages[0].params.max_area) == (100, 3000)

    nl = parse_preset(
        "schema_version: 1\nstages: [{stage: nl_means, params: {template_window: 7, search_window: 9}}]"
    )
    space = search_space(nl, image_area=10_000)
    params = space.base_params()
    params["1.nl_means.template_window"] = 21.0  # a declared ordered pair, whatever its names
    params["1.nl_means.search_window"] = 5.0
    tuned, _ = space.preset(lambda d: params[d.name])
    assert (tuned.stages[0].params.template_window, tuned.stages[0].params.search_window) == (5, 21)

    crop = parse_preset("schema_version: 1\nstages: [{stage: crop, params: {unit: percent, top: 10}}]")
    space = search_space(crop, image_area=10_000)
    params = space.base_params()
    params["1.crop.top"] = 150.0  # a rule that is not an ordered pair: percent margins <= 100
    with pytest.raises(InvalidCombination):
        space.preset(lambda d: params[d.name])


# --------------------------------------------------------------------------------- tune() API


def test_tune_is_no_worse_than_the_base_valid_and_deterministic(images, base) -> None:
    seen: list[int] = []
    first = tune(
        images, base, trials=8, seed=3, jobs=1, patience=None, on_trial=lambda i: seen.append(i.done)
    )
    assert seen == list(range(1, 9)) and len(first.trials) == 8
    assert first.trials[0].preset.stages == base.stages and first.base.number == 0
    assert first.best.score <= first.base.score
    assert (
        first.ranked[0] is first.best
        and all(  # the best first, then the others by score
            a.score <= b.score for a, b in zip(first.ranked[1:], first.ranked[2:], strict=False)
        )
    )
    assert all(first.best.score <= t.score + first.min_gain for t in first.trials if t.valid)
    assert parse_preset(first.preset.to_yaml()) == first.preset
    assert "tuned" in first.preset.name and "seed 3" in first.preset.description

    second = tune(images, base, trials=8, seed=3, jobs=1, patience=None)
    assert [t.values for t in second.trials] == [t.values for t in first.trials]
    assert second.best.values == first.best.values and second.preset == first.preset


def test_worker_processes_give_the_same_result(images, base) -> None:
    inline = tune(images, base, trials=6, seed=5, jobs=1, patience=None)
    pooled = tune(images, base, trials=6, seed=5, jobs=2, patience=None)
    assert [t.score for t in pooled.trials] == [t.score for t in inline.trials]
    assert [t.values for t in pooled.trials] == [t.values for t in inline.trials]
    assert pooled.best.values == inline.best.values and pooled.preset == inline.preset


def test_local_mutations_change_only_a_few_values(base) -> None:
    space = search_space(base, image_area=40_000)
    start = full_params(space)
    assert space.preset(lambda d: start[d.name])[0] == base
    mutator = Mutator(space, seed=0)
    sizes = []
    for _ in range(200):
        raw, moved = mutator.mutate(start)
        assert 1 <= len(moved) <= 3 and {k for k in raw if raw[k] != start[k]} <= set(moved)
        try:
            _, values = space.preset(lambda d, r=raw: r[d.name])
        except InvalidCombination:
            continue
        sizes.append(len(_changes(space, values)))  # a stage switched off is one change
    assert max(sizes) <= 3 and sum(sizes) / len(sizes) < 2.5
    toggled = sum(
        any(name.endswith(".enabled") for name in Mutator(space, seed=s).mutate(start)[1]) for s in range(300)
    )
    assert toggled < 60  # stage toggles are rare moves
    one, two = Mutator(space, seed=4), Mutator(space, seed=4)
    assert [one.mutate(start) for _ in range(5)] == [two.mutate(start) for _ in range(5)]  # seeded


def test_the_first_trials_stay_next_to_the_base_and_toggles_can_be_off(images, base) -> None:
    result = tune(images, base, trials=6, seed=2, jobs=1, patience=None, toggles=False)
    assert 1 <= len(result.trials[1].changes) <= 3  # trial 1: a local move of the base
    assert not any(c.endswith((" on", " off")) for t in result.trials for c in t.changes)
    assert not any(d.field == "enabled" for d in result.space.dimensions)


POOR_YAML = """\
schema_version: 1
name: poor
stages:
  - grayscale
  - {stage: median_blur, params: {ksize_w: 3, ksize_h: 3}}
  - {stage: threshold, params: {method: fixed, value: 220}}
ocr: {psm: 7}
"""


@pytest.mark.parametrize("seed", [0, 1])
def test_tuning_fixes_a_deliberately_poor_base(images, seed) -> None:
    poor = parse_preset(POOR_YAML)  # a fixed threshold far too light: the gray background becomes ink
    result = tune(images, poor, trials=12, seed=seed, jobs=1, patience=None)
    assert result.base.score > 0.3
    assert result.best.number > 0 and result.best.score < result.base.score / 2
    assert result.preset.stages != poor.stages


def test_an_improvement_must_be_worth_a_character(images, base) -> None:
    result = tune(images, base, trials=8, seed=3, jobs=1, patience=None)
    longest = max(len(t) for t in TEXTS)
    assert result.min_gain == pytest.approx(1 / (len(TEXTS) * longest))
    strict = tune(images, base, trials=8, seed=3, jobs=1, patience=None, min_gain=10.0)
    assert strict.best.number == 0 and [t.is_best for t in strict.trials] == [True] + [False] * 7


def mean_cer(images: list[tuple[np.ndarray, str]], preset: Preset) -> float:
    """The tuning score computed independently of tune(): run, read, CER, mean."""
    scores = [
        cer(text, recognize(run(image, preset, cache=None).final, preset.ocr).text) for image, text in images
    ]
    return sum(scores) / len(scores)


def test_simplification_keeps_only_the_changes_that_count(images) -> None:
    poor = parse_preset(POOR_YAML)
    plain = tune(images, poor, trials=12, seed=0, jobs=1, patience=None, simplify=False)
    simple = tune(images, poor, trials=12, seed=0, jobs=1, patience=None)
    assert len(plain.trials) == 12 and plain.best.number > 0
    assert [t.values for t in simple.trials[:12]] == [t.values for t in plain.trials]  # same search
    assert len(simple.trials) > 12  # then one trial per changed value
    assert set(simple.best.changes) <= set(plain.best.changes)
    assert len(simple.best.changes) < len(plain.best.changes)  # the search swept along extra values
    assert simple.best.score <= plain.best.score
    assert mean_cer(images, simple.preset) == pytest.approx(simple.best.score)
    # Every change left is needed: putting any one of them back to the base's value scores worse.
    space = simple.space
    base_raw = full_params(space)
    best_raw = {d.name: d.encode(simple.best.values.get(d.name, d.base)) for d in space.dimensions}
    changed = [name for name in best_raw if best_raw[name] != base_raw[name]]
    assert changed
    for name in changed:
        reverted = {**best_raw, name: base_raw[name]}
        try:
            preset, _ = space.preset(lambda d, r=reverted: r[d.name])
        except InvalidCombination:
            continue
        assert mean_cer(images, preset) > simple.best.score, name


def test_a_new_best_must_help_more_images_than_it_hurts(images) -> None:
    assert _support([0.0, 0.5, 0.2], [0.1, 0.5, 0.1], lower=True) == 0  # one better, one worse
    assert _support([0.0, 0.4, 0.1], [0.1, 0.5, 0.1], lower=True) == 2
    assert _support([90.0, 80.0], [80.0, 80.0], lower=False) == 1
    poor = parse_preset(POOR_YAML)
    default = tune(images, poor, trials=12, seed=0, jobs=1, patience=None, simplify=False)
    for t in default.trials[1:]:
        if t.is_best:  # each new best beat the previous one on 2 more images than it lost on
            previous = next(p for p in reversed(default.trials[: t.number]) if p.is_best)
            assert _support(t.image_scores, previous.image_scores, lower=True) >= 2
    strict = tune(images, poor, trials=12, seed=0, jobs=1, patience=None, min_support=len(images) + 1)
    assert strict.best.number == 0 and strict.best.changes == ()
    with pytest.raises(TuneUsageError):
        tune(images, poor, trials=2, min_support=-1)


def test_early_stopping_with_patience_and_should_stop(images, base) -> None:
    result = tune(images, base, trials=40, seed=0, jobs=1, patience=2)
    assert result.stop_reason == "patience" and len(result.trials) < 40
    stopped = tune(images, base, trials=40, seed=0, jobs=1, should_stop=lambda: True)
    assert stopped.stop_reason == "stopped" and len(stopped.trials) == 2  # the first batch always runs


def test_confidence_metric_without_expected_text(images, base) -> None:
    result = tune([(image, None) for image, _ in images], base, trials=4, seed=1, jobs=1)
    assert result.metric == "confidence" and not result.lower_is_better
    assert 0.0 <= result.base.score <= 100.0 and result.best.score >= result.base.score


def test_usage_errors(images, base) -> None:
    with pytest.raises(TuneUsageError):
        tune([(image, None) for image, _ in images], base, metric="cer")
    with pytest.raises(TuneUsageError):
        tune(images, base, trials=0)
    with pytest.raises(TuneError):
        tune([], base)


# ------------------------------------------------------------------------------------ the CLI


def test_cli_writes_the_tuned_preset(data: Path, base_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "tuned.yaml"
    args = [
        "tune",
        "--data",
        str(data),
        "--base",
        str(base_file),
        "--out",
        str(out),
        "--trials",
        "4",
        "--jobs",
        "1",
    ]
    assert main(args) == 0
    tuned = parse_preset(out.read_text())
    assert "tuned" in tuned.name and str(data) in tuned.description
    printed = capsys.readouterr()
    assert "base preset (trial 0): mean CER" in printed.out and "top trials" in printed.out


def test_cli_min_support_and_no_simplify(data: Path, tmp_path: Path) -> None:
    poor = tmp_path / "poor.yaml"
    poor.write_text(POOR_YAML)
    common = ["tune", "--data", str(data), "--base", str(poor), "--only-base", "--trials", "8", "--jobs", "1"]
    strict, loose = tmp_path / "strict.yaml", tmp_path / "loose.yaml"
    assert main([*common, "--out", str(strict), "--min-support", "99"]) == 0
    assert parse_preset(strict.read_text()).stages == parse_preset(POOR_YAML).stages  # nothing qualified
    assert main([*common, "--out", str(loose), "--min-support", "0", "--no-simplify"]) == 0
    assert parse_preset(loose.read_text()).stages != parse_preset(POOR_YAML).stages


def test_cli_usage_errors_exit_2(data: Path, base_file: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nstages: [{stage: threshold, params: {window: 4}}]\n")
    out = str(tmp_path / "o.yaml")
    assert main(["tune", "--data", str(data), "--base", str(bad), "--out", out]) == 2
    assert "window" in capsys.readouterr().err
    assert main(["tune", "--data", str(data), "--base", str(tmp_path / "missing.yaml"), "--out", out]) == 2
    no_gt = tmp_path / "nogt"
    no_gt.mkdir()
    cv2.imwrite(str(no_gt / "a.png"), text_image("x"))
    assert (
        main(["tune", "--data", str(no_gt), "--base", str(base_file), "--out", out, "--metric", "cer"]) == 2
    )
    err = capsys.readouterr().err
    assert "Traceback" not in err and "gt.txt" in err


def test_cli_exits_1_when_no_image_can_be_scored(base_file: Path, tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (
        main(["tune", "--data", str(empty), "--base", str(base_file), "--out", str(tmp_path / "o.yaml")]) == 1
    )
    assert "no images" in capsys.readouterr().err


def test_the_result_counts_the_search_trials_apart_from_the_simplification(images) -> None:
    poor = parse_preset(POOR_YAML)
    result = tune(images, poor, trials=8, seed=0, jobs=1, min_support=0)
    assert result.searched == 8  # every asked trial ran
    assert len(result.trials) >= result.searched  # the simplification's come after
    assert all(t.number >= 8 for t in result.trials[result.searched :])
