"""The command line: ``clarity run|eval|check|stages|tune`` (also ``python -m pipeline ...``).

Exit codes (see :class:`~pipeline.errors.ExitCode`): 0 all good; 1 some images failed (one
line each on stderr, ``<path>: <reason>``, the others still processed); 2 usage error or
invalid preset. Expected failures never print a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .argtypes import positive_int
from .auto import AUTO
from .batch.command import INTERRUPTED, add_run_parser, cmd_run
from .errors import ClarityError, ExitCode, ImageError, PresetError, TuneError, TuneUsageError
from .evaluate import dataset, evaluate_folder
from .imageio import SUFFIXES, read_image
from .ocr.options import ENGINE_NAMES
from .ocr.variables import LOCAL_VARIABLE_ENV
from .params import field_specs
from .preset import Preset, load_preset, save_preset
from .reading import only_engine
from .registry import all_stages
from .shipped import presets_folder, resolve_preset
from .tuning import Metric, TrialInfo, TuneResult, format_score, tune
from .tuning.wide import WideResult, tune_wide

ENGINES = ("auto", *ENGINE_NAMES)
"""The ``--engine`` choices: every engine, and ``auto``."""
PRESET_HELP = (
    "preset YAML file, a shipped preset's name, or 'auto' to choose the cleaning and engine per image"
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ClarityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clarity", description="Clean noisy images of text for Tesseract OCR."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = add_run_parser(sub, ENGINES, PRESET_HELP)
    _add_word_lists(p)
    p.set_defaults(func=lambda args: cmd_run(args, lambda path, engine: _load(path, engine, args)))

    p = sub.add_parser("eval", help="mean CER of a preset over a folder with <stem>.gt.txt files")
    p.add_argument("--preset", required=True, type=Path, help=PRESET_HELP)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--engine", choices=ENGINES, help="OCR engine (default: the preset's)")
    p.add_argument("--ignore-spaces", action="store_true", help="remove spaces before comparing (labels)")
    p.add_argument("--ignore-case", action="store_true", help="compare case-insensitively")
    p.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    _add_word_lists(p)
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("check", help="validate a preset file")
    p.add_argument("preset", type=Path, metavar="PRESET")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("stages", help="list every stage with its parameters")
    p.set_defaults(func=_cmd_stages)

    _add_tune_parser(sub)
    return parser


def _add_word_lists(p: argparse.ArgumentParser) -> None:
    """``--user-words`` / ``--user-patterns``: local files Tesseract loads, never part of a preset."""
    for name, env in LOCAL_VARIABLE_ENV.items():
        flag = "--" + name.removesuffix("_file").replace("_", "-")
        p.add_argument(
            flag,
            type=Path,
            metavar="FILE",
            dest=name,
            help=f"Tesseract {name}: a local file, one entry a line (same as the env variable {env})",
        )


def _use_word_lists(args: argparse.Namespace) -> None:
    """Hand the ``--user-words`` / ``--user-patterns`` files to the engines (through their variables)."""
    for name, env in LOCAL_VARIABLE_ENV.items():
        path = getattr(args, name, None)
        if path is None:
            continue
        if not path.is_file():
            raise PresetError(
                f"{path}: no such file (given as --{name.removesuffix('_file').replace('_', '-')})"
            )
        os.environ[env] = str(path.resolve())


def _load(path: Path, engine: str | None, args: argparse.Namespace | None = None) -> Preset | str:
    """The preset of ``--preset`` with ``--engine`` applied, or ``"auto"`` (engine applied per image);
    ``--user-words`` / ``--user-patterns`` (in ``args``) handed to the engines."""
    if args is not None:
        _use_word_lists(args)
    if str(path) == AUTO and not path.is_file():
        return AUTO
    return only_engine(load_preset(resolve_preset(path)), engine)


def _cmd_eval(args: argparse.Namespace) -> int:
    preset = _load(args.preset, args.engine, args)
    report = evaluate_folder(
        args.data_dir,
        preset,
        ignore_spaces=args.ignore_spaces,
        ignore_case=args.ignore_case,
        engine=args.engine if preset == AUTO else None,
    )
    for path, reason in report.failures:
        print(f"{path}: {reason}", file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                {
                    "preset": str(args.preset),
                    "mean_cer": report.mean_cer,
                    "items": [
                        {
                            "image": str(i.image),
                            "text": i.text,
                            "cer": i.cer,
                            "preset": i.preset,
                            "engine": i.engine,
                        }
                        for i in report.items
                    ],
                },
                ensure_ascii=False,
            )
        )
    else:
        width = max((len(str(i.image)) for i in report.items), default=5)
        for item in report.items:
            print(f"{item.image!s:<{width}}  {item.cer:6.3f}  {item.text!r}")
        print(f"{'mean':<{width}}  {report.mean_cer:6.3f}  ({len(report.items)} images)")
    return ExitCode.SOME_FAILED if report.failures else ExitCode.OK


def _cmd_check(args: argparse.Namespace) -> int:
    preset = load_preset(resolve_preset(args.preset))
    print(f"{args.preset}: valid ({len(preset.stages)} stages, schema_version {preset.schema_version})")
    return ExitCode.OK


def _cmd_stages(args: argparse.Namespace) -> int:
    for stage in all_stages().values():
        source = "; reads a second image named by `source`" if stage.takes_source else ""
        print(f"{stage.name}  [{stage.category}] -> {stage.returns}{source}")
        print(f"    {stage.heading}: {stage.summary}")
        for spec in field_specs(stage.params):
            rng = spec.allowed
            if spec.step is not None and not spec.odd and None not in (spec.low, spec.high):
                rng += f", step {spec.step:g}"
            print(f"    {spec.name} = {spec.default!r}  ({rng})  {spec.description}")
        print()
    return ExitCode.OK


# ----------------------------------------------------------------------------------- tune

CONFIDENCE_NOTE = (
    "note: no expected text (.gt.txt), so the score is Tesseract's mean word confidence, a proxy "
    "for accuracy, not accuracy: check the tuned preset's output by eye"
)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _add_tune_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``tune``: search a preset's parameters (:func:`pipeline.tuning.tune`)."""
    p = subparsers.add_parser(
        "tune",
        help="find the preset, engine and parameters with the lowest CER on a folder",
        description=(
            "With expected texts (<stem>.gt.txt beside the images of DATA_DIR): score every start "
            "(the --base preset, and each shipped scenario preset as shipped, cleaned for Tesseract "
            "and cleaned for RapidOCR), keep the best, then search its stage parameters, which stages "
            "are enabled and the page segmentation mode (local moves around the best so far, widened "
            "as needed, plus Optuna TPE; seeded: same seed and data give the same result) for the "
            "lowest mean CER. From 6 images on every third one is held back from the search, and the "
            "search's changes are kept only when they are no worse there. The result is never worse "
            "on these images than the best start. Without expected texts: the highest mean word "
            "confidence, around --base only. --only-base searches around --base alone."
        ),
    )
    p.add_argument("--data", required=True, type=Path, metavar="DATA_DIR", help="images (and .gt.txt)")
    p.add_argument("--out", required=True, type=Path, metavar="P.yaml", help="where to write the best preset")
    p.add_argument(
        "--base",
        type=Path,
        metavar="P.yaml",
        help="your preset, the first start (a file, a shipped preset's name, or 'auto': the shipped "
        "presets only, the default); with no expected text the one searched (default: document)",
    )
    p.add_argument(
        "--only-base",
        action="store_true",
        help="search around --base alone: no other starts, no held-back images",
    )
    p.add_argument(
        "--trials", type=positive_int, default=100, help="most trials, starts included (default 100)"
    )
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
    p.add_argument(
        "--engine",
        choices=("auto", *ENGINE_NAMES),
        help="read every start with this engine (default: both engine families)",
    )
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


def _load_base(path: Path | None, engine: str | None, *, wide: bool) -> Preset | None:
    """The ``--base`` preset; ``None`` for a wide run without one (``--base auto`` or none given);
    ``document`` for a run around one preset without one. ``--engine`` is applied here only to
    a run around one preset (a wide run applies it to every start)."""
    if path is None or (str(path) == AUTO and not path.is_file()):
        if wide:
            return None
        path = presets_folder() / "document.yaml"
        print(f"no --base given: starting from {path}", file=sys.stderr)
    preset = load_preset(resolve_preset(path))
    return preset if wide else only_engine(preset, engine)


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
    out: Path = args.out
    if out.is_dir() or not out.parent.is_dir():
        raise TuneUsageError(f"{out}: cannot write the preset there (a folder, or its folder does not exist)")
    listed = images_of(args.data, args.metric)
    if not listed:
        raise TuneError(f"{args.data}: no images in this folder")
    metric: Metric = "cer" if listed[0][1] is not None else "confidence"
    wide = metric == "cer" and not args.only_base
    base = _load_base(args.base, args.engine, wide=wide)
    pairs, unreadable = _read_listed(listed)
    if not pairs:
        raise TuneError(f"{args.data}: none of the {len(listed)} images could be read")
    if metric == "confidence":
        print(CONFIDENCE_NOTE, file=sys.stderr)
    what = f"'{base.name}'" if base is not None else "the shipped presets"
    print(
        f"tuning {what} on {len(pairs)} images of {args.data} ({_METRIC_TEXT[metric]}; "
        f"{args.trials} trials at most, patience {args.patience}, seed {args.seed}, {args.jobs} jobs)",
        file=sys.stderr,
    )
    options: dict[str, Any] = {
        "trials": args.trials,
        "seed": args.seed,
        "metric": metric,
        "ignore_spaces": args.ignore_spaces,
        "ignore_case": args.ignore_case,
        "timeout": args.timeout,
        "patience": args.patience,
        "jobs": args.jobs,
        "label": str(args.data),
        "toggles": args.toggles,
        "min_support": args.min_support,
        "simplify": args.simplify,
    }
    with _ProgressBar(args.trials, metric) as progress:
        if wide:
            if base is None or args.base is None:
                print("starts: every shipped scenario preset (see --base)", file=sys.stderr)
            outcome = tune_wide(pairs, base, engine=args.engine, on_trial=progress.update, **options)
            result = outcome.result
        else:
            assert base is not None
            result = tune(pairs, base, on_trial=progress.update, **options)
            outcome = None
    try:
        save_preset(result.preset, out)
    except OSError as exc:
        raise TuneError(f"{out}: cannot write the preset: {exc.strerror}") from None
    if outcome is not None:
        _report_wide(outcome)
    _report(result, out)
    return ExitCode.SOME_FAILED if unreadable else ExitCode.OK


def _report_wide(outcome: WideResult) -> None:
    """The starts' scores (the chosen one marked) and the held-back check."""
    print("starts (mean CER on all tuning images; * chosen):")
    for start in outcome.starts:
        print(f"  {'*' if start.chosen else ' '} {start.score:.3f}  {start.label}")
    charset = outcome.charset
    if charset is not None:
        print(
            f"character set learned from the labels: {charset.whitelist!r}, mean CER {charset.start:.3f} "
            f"without, {charset.restricted:.3f} with ({_kept(charset.kept, 'worse on the tuning images')})"
        )
    check = outcome.held_back
    if check is not None:
        print(
            f"held back {check.images} images from the search: start {check.start:.3f}, searched "
            f"{check.searched:.3f} ({_kept(check.kept, 'the chosen start is written instead')})"
        )
    print()


def _kept(kept: bool, why_not: str) -> str:
    return "kept" if kept else f"dropped: {why_not}"


def _read_listed(listed: list[tuple[Path, str | None]]) -> tuple[list[tuple[np.ndarray, str | None]], int]:
    """The readable images with their texts, and how many could not be read (each reported)."""
    pairs: list[tuple[np.ndarray, str | None]] = []
    unreadable = 0
    for path, text in listed:
        try:
            pairs.append((read_image(path), text))
        except ImageError as exc:
            unreadable += 1
            message = str(exc)
            print(message if message.startswith(str(path)) else f"{path}: {message}", file=sys.stderr)
    return pairs, unreadable


class _ProgressBar:
    """A tqdm bar on stderr counting trials, with the best score so far."""

    def __init__(self, trials: int, metric: str) -> None:
        from tqdm import tqdm

        self.metric = metric
        self.bar = tqdm(total=trials, desc="tuning", unit="trial", file=sys.stderr, dynamic_ncols=True)

    def update(self, info: TrialInfo) -> None:
        if info.total != self.bar.total:  # the simplification adds a trial per changed value
            self.bar.total = info.total
            self.bar.refresh()
        self.bar.update(1)
        if info.best_score is not None:
            best = f"{info.best_score:.3f}" if self.metric == "cer" else f"{info.best_score:.1f}"
            self.bar.set_postfix_str(f"best {best}")

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
