"""Time the three OCR engines on the same 20 real images and one page.

    .venv/bin/python bench/ocr_engines.py [--rounds 3] [--corpus ../shared/corpus]

The images are a fixed mix from the corpus, each read with the page segmentation mode the
corpus README uses for its folder: 12 printed text lines (gt4histcomment-lines, psm 7),
4 captchas (captcha-wilhelmy-v2, psm 7) and 4 single meter digits (meter-digits, psm 10).
Every engine first reads one image (its first call: model or language loading, first process
start; shown as "first call"), then the engines take turns over all 20 images for ``--rounds``
rounds; the table gives the median round, and the time of one page (tesseract-test's
phototest, psm 3: detection and recognition for RapidOCR). Ratios to tesserocr are measured
in the same run, so machine load affects all alike. Mean CER shows what each reads.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from pipeline.metrics import cer
from pipeline.ocr import (
    OcrOptions,
    available_engines,
    get_engine,
    probe,
)
from pipeline.ocr.options import ENGINE_NAMES

ROOT = Path(__file__).resolve().parents[1]

SELECTION = (  # (folder, how many, psm, compare without spaces)
    ("gt4histcomment-lines", 12, 7, False),
    ("captcha-wilhelmy-v2", 4, 7, True),
    ("meter-digits", 4, 10, True),
)


def load_images(corpus: Path) -> list[tuple[str, np.ndarray, str, int, bool]]:
    """``(name, image, expected text, psm, ignore_spaces)`` for the 20 benchmark images."""
    items = []
    for folder, count, psm, no_spaces in SELECTION:
        paths = sorted(
            p
            for p in (corpus / folder).iterdir()
            if p.suffix in (".png", ".jpg", ".tif") and ".gt." not in p.name
        )
        taken = 0
        for path in paths:
            truth = path.with_name(path.name.rsplit(".", 1)[0] + ".gt.txt")
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None or not truth.is_file():
                continue
            items.append((f"{folder}/{path.name}", image, truth.read_text(encoding="utf-8"), psm, no_spaces))
            taken += 1
            if taken == count:
                break
    return items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per engine (median is shown)")
    parser.add_argument(
        "--no-readme", dest="write_readme", action="store_false", help="do not update README.md"
    )
    args = parser.parse_args()

    if not (args.corpus / "README.md").is_file():
        print(f"corpus not found at {args.corpus}", file=sys.stderr)
        return 1
    engines = [name for name in ENGINE_NAMES if name in available_engines()]
    if not engines:
        print("no OCR engine available", file=sys.stderr)
        return 1
    items = load_images(args.corpus)
    program = probe.tesseract_version() if probe.tesseract_available() else "missing"
    print(f"Tesseract program {program}, ", end="")
    try:
        import tesserocr

        print(f"tesserocr {tesserocr.__version__} ({tesserocr.tesseract_version().split()[1]})", end="")
    except ImportError:
        print("tesserocr missing", end="")
    print(f"; {len(items)} images, {args.rounds} rounds, median round shown\n")

    options = {psm: OcrOptions(psm=psm) for psm in {item[3] for item in items}}
    first: dict[str, float] = {}
    for name in engines:  # warm-up, timed as the first call
        start = time.perf_counter()
        get_engine(name).recognize(items[0][1], options[items[0][3]])
        first[name] = time.perf_counter() - start
    page = cv2.imread(str(args.corpus / "tesseract-test" / "phototest.tif"), cv2.IMREAD_COLOR)
    page_truth = (args.corpus / "tesseract-test" / "phototest.gt.txt").read_text(encoding="utf-8")
    page_s: dict[str, list[float]] = {name: [] for name in engines}
    page_cer: dict[str, float] = {}

    totals: dict[str, list[float]] = {name: [] for name in engines}
    texts: dict[str, list[str]] = {}
    for _ in range(args.rounds):
        for name in engines:
            engine = get_engine(name)
            start = time.perf_counter()
            texts[name] = [engine.recognize(img, options[psm]).text for _, img, _, psm, _ in items]
            totals[name].append(time.perf_counter() - start)
            start = time.perf_counter()
            page_text = engine.recognize(page, OcrOptions(psm=3)).text
            page_s[name].append(time.perf_counter() - start)
            page_cer[name] = cer(page_truth, page_text)

    header = (
        f"{'engine':<12} {'first s':>8} {'ms/image':>9} {'x tesserocr':>11} {'mean CER':>9} "
        f"{'page s':>7} {'page CER':>9}"
    )
    print(header)
    print("-" * len(header))
    median = {name: statistics.median(totals[name]) for name in engines}
    base = median.get("tesserocr", median[engines[0]])
    table = [
        "| engine | first call, s | ms / image (20 lines, captchas, digits) | x tesserocr | mean CER "
        "| one page (phototest), s | page CER |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in engines:
        pairs = zip(items, texts[name], strict=True)
        mean_cer = statistics.fmean(cer(item[2], text, ignore_spaces=item[4]) for item, text in pairs)
        ms = 1000 * median[name] / len(items)
        ratio = median[name] / base
        page_median = statistics.median(page_s[name])
        print(
            f"{name:<12} {first[name]:>8.2f} {ms:>9.1f} {ratio:>11.2f} {mean_cer:>9.3f} "
            f"{page_median:>7.2f} {page_cer[name]:>9.3f}"
        )
        table.append(
            f"| {name} | {first[name]:.2f} | {ms:.1f} | {ratio:.2f} | {mean_cer:.3f} | "
            f"{page_median:.2f} | {page_cer[name]:.3f} |"
        )
    if {"tesserocr", "pytesseract"} <= set(engines):
        pairs = zip(texts["tesserocr"], texts["pytesseract"], strict=True)
        agreement = statistics.fmean(cer(a, b) for a, b in pairs)
        ratio = median["pytesseract"] / median["tesserocr"]
        print(f"\nratio pytesseract / tesserocr: {ratio:.2f}x")
        print(f"mean CER between the two engines' outputs: {agreement:.3f}")
        table.append(
            f"\nIn the same run the command line took {ratio:.1f}x as long as the in-process engine; "
            f"the two readings differ by a mean CER of {agreement:.3f} (different libtesseract versions: "
            "the tesserocr wheel bundles its own)."
        )
    if args.write_readme:
        sys.path.insert(0, str(ROOT))  # scripts/ is not installed with the package
        from scripts.readme_sections import replace_section

        replace_section("ocr-engines", "\n".join(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
