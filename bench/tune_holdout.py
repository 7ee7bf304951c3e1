"""Tune a preset on half of a folder and measure it on the other half.

    .venv/bin/python bench/tune_holdout.py FOLDER --base presets/captcha.yaml [--trials 60]
        [--seed 0] [--jobs 2] [--limit N] [--out tuned.yaml] [--ignore-spaces] [--ignore-case]

The images of FOLDER that have a ``.gt.txt`` are sorted by name; the even-indexed ones (0, 2,
4, ...) are the tuning half, the odd-indexed ones the held-out half. The base preset is tuned
on the first (``pipeline.tuning.wide.tune_wide``, seeded, as ``clarity tune --base``: the base
and the shipped presets as starts) and both the base and the tuned preset are then
scored on the second, which the tuning never saw: the difference is what tuning is worth on
new images of the same kind, not on the ones it was fitted to. For a corpus folder the CER
rules of the corpus README (spaces removed for captcha and meter labels, case ignored for
captcha-nopardaz-bgtext) apply unless ``--ignore-spaces``/``--ignore-case`` are given.

:func:`holdout` is what ``bench/accuracy.py`` uses.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline import evaluate
from pipeline.auto import read
from pipeline.errors import ClarityError
from pipeline.evaluate import Reading, dataset
from pipeline.imageio import read_image
from pipeline.preset import Preset, load_preset, save_preset
from pipeline.tuning import TuneResult
from pipeline.tuning.wide import WideResult, tune_wide

ROOT = Path(__file__).resolve().parents[1]

IGNORE_SPACES = (
    "captcha-wilhelmy-v2",
    "captcha-sheypoor-digits",
    "captcha-lines-digits",
    "captcha-nopardaz-bgtext",
    "meter-digits",
    "captcha-amazon",
    "captcha-receita",
    "captcha-generic-colour",
    "lcd-gaspump",
)
"""Corpus folders whose labels are compared without spaces (corpus README)."""

IGNORE_CASE = ("captcha-nopardaz-bgtext", "captcha-receita", "captcha-generic-colour")
"""Corpus folders compared case-insensitively (corpus README)."""


@dataclass
class Item:
    """One image of a folder: its name, pixels and expected text."""

    name: str
    image: np.ndarray
    expected: str
    path: Path


@dataclass
class Scores:
    """A preset's readings of some images: CER per image, seconds per image, final images."""

    cers: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    finals: list[np.ndarray | None] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def mean_cer(self) -> float:
        return sum(self.cers) / len(self.cers) if self.cers else float("nan")

    @property
    def seconds_per_image(self) -> float:
        return sum(self.seconds) / len(self.seconds) if self.seconds else float("nan")


def load_items(folder: Path, limit: int | None = None) -> list[Item]:
    """The images of ``folder`` that have a ``.gt.txt``, sorted by name (the first ``limit``)."""
    pairs = dataset(folder)
    if limit is not None:
        pairs = pairs[:limit]
    return [Item(path.name, read_image(path), text, path) for path, text in pairs]


def score(
    items: list[Item], preset: Preset, *, ignore_spaces: bool, ignore_case: bool, keep_finals: bool = False
) -> Scores:
    """Run ``preset`` and OCR on each item, one after the other (so the times are clean)."""
    out = Scores()
    for item in items:
        start = time.perf_counter()
        final = None
        try:
            reading = read(item.image, preset, cache=False)
            final = reading.result.final
            scored = Reading(reading.ocr.text, reading.ocr.mean_conf)
        except ClarityError as exc:
            out.failures.append(f"{item.name}: {exc}")
            scored = Reading(error=str(exc))
        out.seconds.append(time.perf_counter() - start)
        opts = {"ignore_spaces": ignore_spaces, "ignore_case": ignore_case}
        out.cers.append(evaluate.score(scored, item.expected, **opts))
        out.finals.append(final if keep_finals else None)
    return out


def split(items: list[Item]) -> tuple[list[Item], list[Item]]:
    """(tuning half: even indices, held-out half: odd indices)."""
    return items[0::2], items[1::2]


@dataclass
class Holdout:
    """The outcome of :func:`holdout`."""

    outcome: WideResult
    """What the tuning chose: its start (``clarity tune``'s list of starts), learned alphabet and
    search."""
    base_test: Scores
    tuned_test: Scores
    n_train: int
    n_test: int
    tune_seconds: float

    @property
    def result(self) -> TuneResult:
        """The search's trials and best preset."""
        return self.outcome.result

    @property
    def tuned(self) -> Preset:
        """The tuned preset."""
        return self.outcome.preset


def start_note(outcome: WideResult) -> str:
    """``start: <label>``, and the alphabet learned from the labels when it was kept."""
    note = f"start: {outcome.chosen.label}"
    return note + (f"; alphabet learned from the labels: {outcome.alphabet}" if outcome.alphabet else "")


def holdout(
    items: list[Item],
    base: Preset,
    *,
    trials: int,
    seed: int = 0,
    jobs: int = 2,
    patience: int | None = 30,
    timeout: float | None = None,
    ignore_spaces: bool = False,
    ignore_case: bool = False,
    label: str = "",
    keep_finals: bool = False,
) -> Holdout:
    """Tune ``base`` on the even-indexed items, score base and tuned on the odd-indexed ones.

    ``timeout``: the tuning's time limit in seconds (``None``: only ``trials`` and ``patience`` stop it).
    """
    train, test = split(items)
    if not train or not test:
        raise ValueError(
            f"need at least 2 images to tune on one half and test on the other, got {len(items)}"
        )
    start = time.perf_counter()
    outcome = tune_wide(
        [(i.image, i.expected) for i in train],
        base,
        trials=trials,
        seed=seed,
        metric="cer",
        ignore_spaces=ignore_spaces,
        ignore_case=ignore_case,
        patience=patience,
        timeout=timeout,
        jobs=jobs,
        label=f"the even-indexed half of {label}" if label else "",
    )
    seconds = time.perf_counter() - start
    opts = {"ignore_spaces": ignore_spaces, "ignore_case": ignore_case, "keep_finals": keep_finals}
    return Holdout(
        outcome=outcome,
        base_test=score(test, base, **opts),
        tuned_test=score(test, outcome.preset, **opts),
        n_train=len(train),
        n_test=len(test),
        tune_seconds=seconds,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="images with <stem>.gt.txt")
    parser.add_argument("--base", type=Path, required=True, help="preset to tune")
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--patience", type=int, default=30)
    parser.add_argument("--limit", type=int, help="use only the first N images")
    parser.add_argument("--out", type=Path, help="write the tuned preset here")
    parser.add_argument("--ignore-spaces", action="store_true", default=None)
    parser.add_argument("--ignore-case", action="store_true", default=None)
    args = parser.parse_args()
    name = args.folder.resolve().name
    spaces = args.ignore_spaces if args.ignore_spaces is not None else name in IGNORE_SPACES
    case = args.ignore_case if args.ignore_case is not None else name in IGNORE_CASE
    try:
        base = load_preset(args.base)
        items = load_items(args.folder, args.limit)
        h = holdout(
            items,
            base,
            trials=args.trials,
            seed=args.seed,
            jobs=args.jobs,
            patience=args.patience,
            ignore_spaces=spaces,
            ignore_case=case,
            label=name,
        )
    except (ClarityError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ValueError) else int(getattr(exc, "exit_code", 1))
    r = h.result
    print(
        f"{name}: tuned on {h.n_train} images "
        f"({len(r.trials)} trials, {h.tune_seconds:.0f} s, {r.stop_reason})"
    )
    print(f"  tuning half:   base {r.base.score:.3f}  tuned {r.best.score:.3f}")
    print(
        f"  held-out half: base {h.base_test.mean_cer:.3f}  "
        f"tuned {h.tuned_test.mean_cer:.3f}  ({h.n_test} images)"
    )
    print(f"  {start_note(h.outcome)}")
    print(f"  changes from the start: {r.best.summary}")
    if args.out:
        save_preset(h.tuned, args.out)
        print(f"  wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
