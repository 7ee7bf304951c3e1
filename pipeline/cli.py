"""The command line: ``python -m pipeline run|eval|check|stages``.

Exit codes (see :class:`~pipeline.errors.ExitCode`): 0 all good; 1 some images failed (one
line each on stderr, ``<path>: <reason>``, the others still processed); 2 usage error or
invalid preset. Expected failures never print a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .auto import AUTO, read
from .errors import ClarityError, ExitCode, PresetError
from .evaluate import evaluate_folder
from .imageio import read_image, write_image
from .ocr.engine import ENGINE_NAMES
from .ocr.variables import LOCAL_VARIABLE_ENV
from .params import bounds_of, choices_of, describe_range, step_of
from .preset import Preset, load_preset
from .registry import all_stages

ENGINES = ("auto", *ENGINE_NAMES)
PRESET_HELP = "preset YAML file, or 'auto' to choose the cleaning and engine per image"


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
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline", description="Clean noisy images of text for Tesseract OCR."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="clean images with a preset and OCR them")
    p.add_argument("--preset", required=True, type=Path, help=PRESET_HELP)
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder (default ./out)")
    p.add_argument("--engine", choices=ENGINES, help="OCR engine (default: the preset's)")
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    _add_word_lists(p)
    p.set_defaults(func=_cmd_run)

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

    _add_tune(sub)
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


def _add_tune(sub: argparse._SubParsersAction) -> None:
    """Register ``tune`` when the tuning module is present."""
    try:
        from .tune import add_parser
    except ImportError:
        return
    add_parser(sub)


def _load(path: Path, engine: str | None, args: argparse.Namespace | None = None) -> Preset | str:
    """The preset of ``--preset`` with ``--engine`` applied, or ``"auto"`` (engine applied per image);
    ``--user-words`` / ``--user-patterns`` (in ``args``) handed to the engines."""
    if args is not None:
        _use_word_lists(args)
    if str(path) == AUTO and not path.is_file():
        return AUTO
    preset = load_preset(path)
    if engine:
        preset = preset.model_copy(update={"ocr": preset.ocr.model_copy(update={"engine": engine})})
    return preset


def _cmd_run(args: argparse.Namespace) -> int:
    preset = _load(args.preset, args.engine, args)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PresetError(f"{args.out}: cannot create the output folder: {exc.strerror}") from None
    failed = 0
    engine = args.engine if preset == AUTO else None
    for path in args.images:
        try:
            reading = read(read_image(path), preset, engine=engine)
            text = reading.ocr.text
            write_image(args.out / f"{path.stem}.png", reading.result.final)
            (args.out / f"{path.stem}.txt").write_text(text + "\n", encoding="utf-8")
            chosen = f" (auto: {reading.label})" if preset == AUTO else ""
            print(f"{path}: {len(text)} characters -> {args.out / path.stem}.png/.txt{chosen}")
        except ClarityError as exc:
            failed += 1
            print(_one_line(path, exc), file=sys.stderr)
    return ExitCode.SOME_FAILED if failed else ExitCode.OK


def _one_line(path: Path, exc: Exception) -> str:
    """``<path>: <reason>`` without repeating the path when the message already starts with it."""
    message = str(exc)
    return message if message.startswith(str(path)) else f"{path}: {message}"


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
    preset = load_preset(args.preset)
    print(f"{args.preset}: valid ({len(preset.stages)} stages, schema_version {preset.schema_version})")
    return ExitCode.OK


def _cmd_stages(args: argparse.Namespace) -> int:
    for stage in all_stages().values():
        source = "; reads a second image named by `source`" if stage.takes_source else ""
        print(f"{stage.name}  [{stage.category}] -> {stage.returns}{source}")
        print(f"    {stage.summary}")
        for field, info in stage.params.model_fields.items():
            rng = describe_range(info)
            step = step_of(info)
            if step is not None and choices_of(info) is None and None not in bounds_of(info):
                rng += f", step {step:g}"
            print(f"    {field} = {info.default!r}  ({rng})  {info.description or ''}")
        print()
    return ExitCode.OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
