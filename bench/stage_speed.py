"""Time of every stage, with its default settings, on a 2 MP page photo and a 12 MP one.

    .venv/bin/python bench/stage_speed.py [--repeat 3] [--write-readme]

The photo is a DIBCO page from ``../shared/corpus`` resized to 1700 x 1200 and 4032 x 3024 (a
generated page when the corpus is absent), in colour; a stage that needs gray or black and
white input gets the page turned gray (``grayscale``) or binarised (``threshold``, Otsu) first,
outside the timing. Each cell is the fastest of ``--repeat`` runs in one process, with no stage
cache and the stage memo cleared before each run. Two more rows time what a studio slider move
costs where a stage keeps work that the slider does not change: ``contrast_binarise`` with ``k``
moved (its edge statistics come from the stage memo, :mod:`pipeline.stages._memo`; only pages up
to about 2 MP are kept), and the same with the memo cleared first.

``--write-readme`` writes the table into README.md between ``<!-- begin:stage-speed -->`` and
``<!-- end:stage-speed -->``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.app_latency import CORPUS_PAGE, photo_bytes  # noqa: E402
from pipeline.registry import all_stages  # noqa: E402
from pipeline.stages import _memo  # noqa: E402
from pipeline.stages.binarise import ContrastBinariseParams, contrast_binarise  # noqa: E402

SIZES = ((1700, 1200), (4032, 3024))
"""Photo sizes timed (width, height): 2 MP and a 12 MP phone photo."""


def page(size: tuple[int, int]) -> np.ndarray:
    """The page photo at ``size``, BGR."""
    data, _ = photo_bytes(size)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit("could not decode the page photo")
    return cv2.resize(image, size) if image.shape[1::-1] != size else image


def fastest(run: Callable[[], object], repeat: int, before: Callable[[], None] | None = None) -> float:
    """The fastest of ``repeat`` calls of ``run``, in ms (``before`` runs untimed before each)."""
    best = float("inf")
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        run()
        best = min(best, (time.perf_counter() - start) * 1000)
    return best


def inputs(colour: np.ndarray) -> dict[str, np.ndarray]:
    """The page as colour, gray and black-and-white."""
    gray = cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY)
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return {"colour": colour, "gray": gray, "binary": binary}


def input_kind(category: str, name: str) -> str:
    """Which form of the page a stage is timed on."""
    if category in ("components",) or name in ("morphology",):
        return "binary"
    if category == "colour":
        return "colour"
    return "gray"


def move_k(gray: np.ndarray, ks: Iterator[float]) -> np.ndarray:
    """``contrast_binarise`` on ``gray`` with the next ``k`` (a new value each call, as a slider)."""
    return contrast_binarise(gray, ContrastBinariseParams(k=float(next(ks))))


def measure(repeat: int) -> tuple[list[str], dict[str, list[float]]]:
    """Row labels and, per size, the ms of each row."""
    stages = all_stages()
    labels = [f"`{name}` ({input_kind(s.category, name)})" for name, s in stages.items()]
    labels += ["`contrast_binarise`, `k` moved (memo kept)", "`contrast_binarise`, `k` moved (memo cleared)"]
    times: dict[str, list[float]] = {}
    for size in SIZES:
        forms = inputs(page(size))
        row: list[float] = []
        for name, stage in stages.items():
            image = forms[input_kind(stage.category, name)]
            row.append(fastest(partial(stage, image, stage.params()), repeat, _memo.clear))
            print(f"{size[0]}x{size[1]} {name}: {row[-1]:.1f} ms", file=sys.stderr, flush=True)
        gray = forms["gray"]
        contrast_binarise(gray, ContrastBinariseParams())
        move = partial(move_k, gray, iter(np.linspace(0.05, 1.5, 2 * repeat + 2)))
        row.append(fastest(move, repeat))
        row.append(fastest(move, repeat, _memo.clear))
        times[f"{size[0]} x {size[1]}"] = row
    return labels, times


def table(labels: list[str], times: dict[str, list[float]], repeat: int) -> str:
    """The markdown table and how it was measured."""
    sizes = list(times)
    lines = ["| stage (input) | " + " | ".join(f"{s} ms" for s in sizes) + " |"]
    lines.append("|---|" + "---|" * len(sizes))
    for i, label in enumerate(labels):
        lines.append(f"| {label} | " + " | ".join(f"{times[s][i]:.1f}" for s in sizes) + " |")
    where = f"DIBCO page {CORPUS_PAGE.stem}" if CORPUS_PAGE.is_file() else "a generated page"
    lines += [
        "",
        f"Fastest of {repeat} runs of each stage with its default settings on a colour photo of "
        f"{where}, resized (`python bench/stage_speed.py`); one process, no stage cache or memo, "
        f"{os.cpu_count()} cores shared with other work (load average {os.getloadavg()[0]:.1f} at the end).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per cell; the fastest is kept (default 3)")
    ap.add_argument("--write-readme", action="store_true", help="write the table into README.md")
    args = ap.parse_args(argv)
    labels, times = measure(max(1, args.repeat))
    text = table(labels, times, max(1, args.repeat))
    print(text)
    if args.write_readme:
        from scripts.readme_sections import replace_section

        replace_section("stage-speed", text)
        print("README.md: stage-speed section written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
