"""The ``run`` command: its options, and turning them into a batch.

::

    clarity run --preset P.yaml [--out DIR] [--engine E] [--jobs N] [--chunk-size N] [--resume]
                [--scheduler ADDRESS] [--pdf] [--hocr] [--tsv] [--dpi DPI] INPUT...
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ..argtypes import positive_int
from ..preset import Preset
from .dask_backend import ADDRESS_ENV
from .manifest import MANIFEST, preset_digest
from .pdfpages import DEFAULT_DPI
from .run import Batch, Summary, run_batch
from .work import Job

INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT, as shells report it)."""


def add_run_parser(
    sub: argparse._SubParsersAction, engines: tuple[str, ...], preset_help: str
) -> argparse.ArgumentParser:
    """Register ``run`` on the CLI's subparsers; ``engines`` are the ``--engine`` choices."""
    p = sub.add_parser(
        "run",
        help="clean images with a preset and OCR them (files, folders, PDFs)",
        description=(
            "Clean every input with a preset and read it. Folders are walked recursively (sorted; "
            "<stem>.gt.<ext> files are skipped), each PDF page is an input. Outputs mirror the inputs' "
            f"relative paths under --out, and {MANIFEST} there gets one JSON line per input."
        ),
    )
    p.add_argument("--preset", required=True, type=Path, help=preset_help)
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder (default ./out)")
    p.add_argument("--engine", choices=engines, help="OCR engine (default: the preset's)")
    p.add_argument(
        "--jobs", type=positive_int, default=os.cpu_count() or 1, metavar="N",
        help="worker processes on this machine (default: one per core)",
    )  # fmt: skip
    p.add_argument(
        "--chunk-size", type=positive_int, metavar="N",
        help="inputs handed to a worker at a time (default: about 32 chunks per worker, at most 256)",
    )  # fmt: skip
    p.add_argument(
        "--resume", action="store_true",
        help=f"skip inputs already in {MANIFEST} with the same preset and outputs; append to it",
    )  # fmt: skip
    p.add_argument(
        "--scheduler", metavar="ADDRESS", default=os.environ.get(ADDRESS_ENV) or None,
        help=f"run on the Dask cluster of this scheduler, e.g. tcp://host:8786 (default: ${ADDRESS_ENV})",
    )  # fmt: skip
    p.add_argument("--pdf", action="store_true", help="also write a searchable PDF per input")
    p.add_argument("--hocr", action="store_true", help="also write the words and boxes as hOCR")
    p.add_argument("--tsv", action="store_true", help="also write the words and boxes as Tesseract TSV")
    p.add_argument(
        "--dpi", type=float, default=DEFAULT_DPI,
        help=f"resolution PDF pages are rendered at, pixels per inch (default {DEFAULT_DPI})",
    )  # fmt: skip
    p.add_argument("images", nargs="+", type=Path, metavar="INPUT", help="image, PDF or folder")
    return p


def cmd_run(args: argparse.Namespace, load: Callable[[Path, str | None], Preset | str]) -> int:
    """Run the batch the parsed ``args`` describe.

    ``load(path, engine)`` reads the preset with the engine applied, or returns ``"auto"``
    (:mod:`pipeline.auto` chooses per input; ``--engine`` then goes to every choice).
    """
    preset = load(args.preset, args.engine)
    kinds = ("image", "text", *(k for k in ("pdf", "hocr", "tsv") if getattr(args, k)))
    engine = args.engine if isinstance(preset, str) else None
    job = Job(preset, preset_digest(preset, engine), args.out.resolve(), kinds, args.dpi, engine)
    batch = Batch(job, args.images, resume=args.resume, chunk_size=args.chunk_size)
    batch = replace(batch, jobs=args.jobs, scheduler=args.scheduler)
    summary = run_batch(batch)
    return _finish(summary, args.out)


def _finish(summary: Summary, out: Path) -> int:
    where = f"-> {out} (manifest {out / MANIFEST})"
    if summary.interrupted:
        print(
            f"interrupted: {summary.done + summary.failed} of {summary.total - summary.skipped} inputs done, "
            f"{summary.failed} failed; every output written is complete. Run the same command with --resume "
            "to continue.",
            file=sys.stderr,
        )
        return INTERRUPTED
    rate = (summary.done + summary.failed) / summary.seconds if summary.seconds > 0 else 0.0
    skipped = f", {summary.skipped} skipped (already done)" if summary.skipped else ""
    print(
        f"{summary.total} inputs: {summary.done} read, {summary.failed} failed{skipped} "
        f"in {summary.seconds:.1f} s ({rate:.1f}/s) {where}"
    )
    return int(summary.exit_code)
