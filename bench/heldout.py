"""Held-out figures on a generated development set (``scripts/make_devsets.py``).

    .venv/bin/python bench/heldout.py ../devsets/seed303 [--trials 60] [--jobs 2] [--no-tune]
        [--no-readme] [--scenario captcha ...]

For each scenario folder (``docs``, ``lines``, ``speckle``, ``captcha``, ``bgtext``, and
``docs-default`` and ``captcha-default`` when the set has them), on its
``test/`` images (16): raw Tesseract (tesserocr, no stage; psm 3 for docs, 7 for the rest), raw
RapidOCR (same modes), the scenario's shipped preset as shipped and with ``--engine tesserocr``,
``--preset auto``; and ``clarity tune`` as a user would run it (:func:`pipeline.tuning.wide.tune_wide`,
``--trials`` trials, no ``--base``) on the 8 ``train/`` images, scored on the 16 ``test/`` ones,
also with the engine forced to tesserocr. The last row is the mean over the 80 test images
(``auto`` on all of them mixed is the same images read one by one). Captcha, speckle and bgtext
labels are compared without spaces, as the corpus compares captcha labels.

Rewrites README.md between ``<!-- begin:heldout -->`` and ``<!-- end:heldout -->`` unless
``--no-readme``. Standard error gets, per scenario, the row as it is measured and one line per
tuning (:func:`tuning_summary`: chosen start, learned alphabet, search gain, held-back check and
the CER on the unseen images), the data a study of the tuner's rules needs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from pipeline.auto import AUTO, read, shipped_preset
from pipeline.errors import ClarityError
from pipeline.evaluate import dataset
from pipeline.imageio import read_image
from pipeline.metrics import cer
from pipeline.ocr import OcrOptions
from pipeline.preset import Preset
from pipeline.tuning.wide import WideResult, tune_wide

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = {
    "docs": "document",
    "lines": "text-line",
    "speckle": "speckled-line",
    "captcha": "captcha",
    "bgtext": "gray-band-captcha",
    "docs-default": "document",
    "captcha-default": "captcha",
}
"""Scenario folder -> the shipped preset meant for it (folders a set does not have are skipped:
the ``-default`` ones are written only when asked for)."""
NO_SPACES = ("speckle", "captcha", "bgtext", "captcha-default")

Pairs = list[tuple[np.ndarray, str]]


def load(folder: Path) -> Pairs:
    return [(read_image(path), text) for path, text in dataset(folder)]


def raw(engine: str, psm: int) -> Preset:
    """No stage at all: the image as it is, read by ``engine``."""
    return Preset(name=f"raw {engine}", ocr=OcrOptions(engine=engine, psm=psm))  # type: ignore[arg-type]


def mean_cer(pairs: Pairs, preset: Preset | str, *, spaces: bool, engine: str | None = None) -> list[float]:
    """Per-image CER of ``preset`` (or ``"auto"``) on ``pairs``; a failed image scores 1."""
    out = []
    for image, text in pairs:
        try:
            got = read(image, preset, engine=engine).ocr.text
        except ClarityError:
            got = ""
        out.append(cer(text, got, ignore_spaces=not spaces))
    return out


def tuned(
    train: Pairs, test: Pairs, *, spaces: bool, trials: int, jobs: int, engine: str | None
) -> list[float]:
    """Per-image CER on ``test`` of what ``clarity tune`` finds on ``train``."""
    outcome = tune_wide(
        train, None, engine=engine, trials=trials, jobs=jobs, seed=0, ignore_spaces=not spaces
    )
    scores = mean_cer(test, outcome.preset, spaces=spaces)
    print(f"  {tuning_summary(outcome, engine)}; unseen {np.mean(scores):.3f}", file=sys.stderr, flush=True)
    return scores


def tuning_summary(outcome: WideResult, engine: str | None) -> str:
    """One line on what a tuning chose: its start, alphabet, search gain and held-back check,
    so a study of the tuner's rules can be made from the log of a run."""
    start = outcome.chosen
    r = outcome.result
    parts = [f"tuned ({engine or 'any engine'}): start {start.label} {start.score:.3f}"]
    if outcome.charset is not None:
        kept = "kept" if outcome.charset.kept else "dropped"
        parts.append(f"alphabet {outcome.charset.whitelist!r} {kept}")
    parts.append(f"search {r.base.score:.3f} -> {r.best.score:.3f} ({r.best.summary})")
    if outcome.held_back is not None:
        h = outcome.held_back
        parts.append(f"held back {h.start:.3f} -> {h.searched:.3f} ({'kept' if h.kept else 'start written'})")
    return "; ".join(parts)


def measure(
    root: Path, trials: int, jobs: int, tune: bool, only: list[str] | None = None
) -> dict[str, dict[str, list[float]]]:
    rows: dict[str, dict[str, list[float]]] = {}
    for scenario, preset_name in SCENARIOS.items():
        if (only and scenario not in only) or not (root / scenario).is_dir():
            continue
        start = time.perf_counter()
        test, train = load(root / scenario / "test"), load(root / scenario / "train")
        spaces = scenario not in NO_SPACES
        psm = 3 if scenario.startswith("docs") else 7
        preset = shipped_preset(preset_name)
        row = {
            "raw Tesseract": mean_cer(test, raw("tesserocr", psm), spaces=spaces),
            "raw RapidOCR": mean_cer(test, raw("rapidocr", psm), spaces=spaces),
            "shipped preset": mean_cer(test, preset, spaces=spaces),
            "shipped, Tesseract": mean_cer(test, preset, spaces=spaces, engine="tesserocr"),
            "auto": mean_cer(test, AUTO, spaces=spaces),
        }
        if tune:
            row["tuned"] = tuned(train, test, spaces=spaces, trials=trials, jobs=jobs, engine=None)
            row["tuned, Tesseract"] = tuned(
                train, test, spaces=spaces, trials=trials, jobs=jobs, engine="tesserocr"
            )
        rows[scenario] = row
        line = "  ".join(f"{k} {sum(v) / len(v):.3f}" for k, v in row.items())
        print(f"{scenario} ({time.perf_counter() - start:.0f} s): {line}", file=sys.stderr, flush=True)
    return rows


def table(root: Path, rows: dict[str, dict[str, list[float]]], trials: int) -> str:
    methods = list(next(iter(rows.values())))
    head = "| scenario | " + " | ".join(methods) + " |"
    lines = [head, "|---" * (len(methods) + 1) + "|"]
    for scenario, row in rows.items():
        cells = [f"{sum(v) / len(v):.3f}" for v in row.values()]
        lines.append(f"| {scenario} ({SCENARIOS[scenario]}) | " + " | ".join(cells) + " |")
    overall = [sum(sum(r[m]) for r in rows.values()) / sum(len(r[m]) for r in rows.values()) for m in methods]
    lines.append(
        f"| **all {sum(len(r[methods[0]]) for r in rows.values())}** | "
        + " | ".join(f"**{v:.3f}**" for v in overall)
        + " |"
    )
    intro = (
        f"`python bench/heldout.py {root.name}`: mean CER on the 16 `test/` images of each scenario"
        f" of `{root.name}` (never used while developing); *tuned*: `clarity tune --trials {trials}`"
        " with no `--base` on the 8 `train/` images, scored on the 16 `test/` ones (*tuned,"
        " Tesseract*: with `--engine tesserocr`)."
    )
    return intro + "\n\n" + "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("devset", type=Path, help="a folder written by scripts/make_devsets.py")
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-tune", action="store_true", help="leave out the tuned columns")
    parser.add_argument("--no-readme", action="store_true", help="print only")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=list(SCENARIOS),
        help="only this scenario (repeatable; implies --no-readme)",
    )
    args = parser.parse_args()
    rows = measure(args.devset, args.trials, args.jobs, not args.no_tune, args.scenario)
    text = table(args.devset, rows, args.trials)
    print(text)
    if not args.no_readme and not args.scenario:
        sys.path.insert(0, str(ROOT))
        from scripts.readme_sections import replace_section

        replace_section("heldout", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
