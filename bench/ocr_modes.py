"""Time reading a page with several page segmentation modes: one after the other vs side by side.

    .venv/bin/python bench/ocr_modes.py [--rounds 3] [--corpus ../shared/corpus] [--preset P.yaml]

The document preset reads each page with psm 3 and psm 6 and keeps the more confident reading
(``ocr.alternative_psm``). ``pipeline.ocr.recognize`` reads the modes side by side in its
thread pool; the baseline is the same engine called once per mode in a row. Both read the 4
pages of tesseract-test after the preset's cleaning (cleaning is not timed), in turns, for
``--rounds`` rounds; the figures are the median round, and the ratio is measured in the same
run, so machine load affects both alike. The texts chosen must be identical.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from pipeline.evaluate import dataset
from pipeline.imageio import read_image
from pipeline.ocr import OcrOptions, get_engine, recognize
from pipeline.ocr.result import char_confidence
from pipeline.preset import load_preset
from pipeline.runner import run

ROOT = Path(__file__).resolve().parents[1]


def one_by_one(images: list[np.ndarray], options: OcrOptions) -> list[str]:
    """The modes read in a row with the same engine; the most confident text of each image."""
    engine = get_engine(options.engine)
    texts = []
    for image in images:
        readings = [
            engine.recognize(image, options.model_copy(update={"psm": m, "alternative_psm": ()}))
            for m in options.modes
        ]
        texts.append(max(readings, key=lambda r: char_confidence(r.words)).text)
    return texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--preset", type=Path, default=ROOT / "presets" / "document.yaml")
    args = parser.parse_args()
    folder = args.corpus / "tesseract-test"
    if not folder.is_dir():
        print(f"corpus folder {folder} not found: nothing to measure", file=sys.stderr)
        return 1
    preset = load_preset(args.preset)
    if not preset.ocr.alternative_psm:
        print(f"{args.preset} reads one mode only: nothing to compare", file=sys.stderr)
        return 1
    images = [run(read_image(path), preset, cache=None).final for path, _ in dataset(folder)]
    recognize(images[0], preset.ocr)  # warm-up: language loading, the pool's threads and APIs
    one_by_one(images[:1], preset.ocr)
    times: dict[str, list[float]] = {"one by one": [], "side by side": []}
    texts: dict[str, list[str]] = {}
    for _ in range(args.rounds):
        start = time.perf_counter()
        texts["one by one"] = one_by_one(images, preset.ocr)
        times["one by one"].append(time.perf_counter() - start)
        start = time.perf_counter()
        texts["side by side"] = [recognize(image, preset.ocr).text for image in images]
        times["side by side"].append(time.perf_counter() - start)
    if texts["one by one"] != texts["side by side"]:
        print("the two ways chose different texts", file=sys.stderr)
        return 1
    modes = ", ".join(str(m) for m in preset.ocr.modes)
    cores = os.cpu_count()
    print(f"{len(images)} pages of tesseract-test, psm {modes}, {cores} cores, median of {args.rounds}:")
    print("| reading | s per page |\n|---|---|")
    medians = {k: statistics.median(v) / len(images) for k, v in times.items()}
    for name, value in medians.items():
        print(f"| {name} | {value:.3f} |")
    print(f"side by side takes {medians['side by side'] / medians['one by one']:.2f}x the time of one by one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
