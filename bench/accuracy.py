"""Accuracy on the real-image corpus: raw Tesseract, Tesseract's Sauvola, the scenario presets, tuned presets.

    .venv/bin/python bench/accuracy.py [--folders a,b] [--trials 60] [--seed 0] [--jobs 2]
        [--tune-timeout S] [--quick] [--corpus ../shared/corpus] [--presets presets] [--no-readme]

For every corpus folder (except ``kant-fraktur-lines``: Fraktur needs Tesseract's ``frk``
model, and every method would only measure the wrong language model) and every method, the
mean CER with the corpus README's rules (whitespace collapsed; spaces removed for captcha
and meter labels; case ignored for captcha-nopardaz-bgtext) and the seconds per image
(cleaning + OCR, images one after the other in one process). Methods:

``raw``
    the image as is (an empty preset), with the corpus README's page segmentation mode for
    the folder: 3 for full pages, 6 for dirty-documents and skimage-page, 7 for lines and
    captchas, 10 for meter digits.
``tess-sauvola``
    the same with Tesseract's own Sauvola binarisation (``thresholding_method=2``).
``RapidOCR raw``
    the image as is, read by RapidOCR: detection + recognition (psm 3) for pages, recognition
    of the whole image as one line (psm 7) for everything else.
``scenario``
    the folder's scenario preset as shipped (:data:`FOLDERS`), with its own engine.
``scenario, Tesseract``
    the same preset read by Tesseract (``--engine auto``): what a user who forces Tesseract
    gets; its Tesseract-only stages run.
``auto``
    ``--preset auto``: the cleaning and engine chosen per image (:mod:`pipeline.auto`).
``tuned``
    the scenario preset tuned with ``pipeline.tuning`` on the even-indexed half of the folder
    and scored on the odd-indexed half (see ``bench/tune_holdout.py``), shown next to the
    scenario preset's CER on that same held-out half.

Where the folder has pixel ground truth (``<stem>.gt.png``/``.gt.tif``: dirty-documents,
dibco-printed), also the binarisation F-measure and PSNR of each method's final image
against it (``pipeline.metrics``), after Otsu's threshold: that is how Tesseract binarises
what it is given by default, so it is the black-and-white page Tesseract actually reads
(a binary final image is unchanged by it; a gray one, such as the document preset's letters
kept in gray on white, is scored as Tesseract will split it). For ``raw`` that is Otsu's
threshold on the image itself.

The tables go to standard output and, unless ``--quick`` or ``--no-readme``, into README.md
between ``<!-- begin:accuracy -->`` and ``<!-- end:accuracy -->`` when those markers exist.
``--quick`` takes 4 images per folder and 6 trials: a cheap check that everything runs, not a
measurement. ``--trials 0`` leaves out the tuned rows (the slow part).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tune_holdout import (
    IGNORE_CASE,
    IGNORE_SPACES,
    Holdout,
    Item,
    Scores,
    holdout,
    load_items,
    score,
    start_note,
)

from pipeline.auto import read_auto
from pipeline.errors import ClarityError
from pipeline.imageio import read_image
from pipeline.metrics import cer, fmeasure, psnr
from pipeline.ocr import OcrOptions
from pipeline.preset import Preset, load_preset

ROOT = Path(__file__).resolve().parents[1]

FOLDERS: dict[str, tuple[str, int, str]] = {
    # folder: (column title, psm of the raw methods, scenario preset)
    "tesseract-test": ("tess-test", 3, "document.yaml"),
    "dirty-documents": ("dirty-docs", 6, "document.yaml"),
    "dibco-printed": ("dibco", 3, "document.yaml"),
    "skimage-page": ("skimage", 6, "document.yaml"),
    "gt4histcomment-lines": ("gt4hist", 7, "text-line.yaml"),
    "captcha-wilhelmy-v2": ("wilhelmy", 7, "captcha.yaml"),
    "captcha-sheypoor-digits": ("sheypoor", 7, "captcha.yaml"),
    "captcha-lines-digits": ("lines-digits", 7, "captcha.yaml"),
    "captcha-nopardaz-bgtext": ("nopardaz", 7, "gray-band-captcha.yaml"),
    "meter-digits": ("meter", 10, "meter-digit.yaml"),
    "captcha-amazon": ("amazon", 7, "captcha.yaml"),
    "captcha-receita": ("receita", 7, "captcha.yaml"),
    "captcha-generic-colour": ("generic-colour", 7, "captcha.yaml"),
    "lcd-gaspump": ("lcd", 7, "text-line.yaml"),
    "forms-funsd-lines": ("funsd", 7, "text-line.yaml"),
    "print-archiscribe-lines": ("archiscribe", 7, "text-line.yaml"),
}
RAPIDOCR_PSM = {"tesseract-test": 3, "dirty-documents": 3, "dibco-printed": 3, "skimage-page": 3}
"""Page segmentation of "RapidOCR raw": pages are detected first (3), everything else is one line (7)."""
SKIPPED = {
    "kant-fraktur-lines": "skipped: Fraktur print needs Tesseract's `frk` model; with `eng` every method "
    "would measure the wrong language model, not the cleaning",
}
METHODS = (
    "raw",
    "tess-sauvola",
    "RapidOCR raw",
    "scenario, Tesseract",
    "scenario",
    "auto",
    "scenario, held-out half",
    "tuned, held-out half",
)
STOPS = {
    "trials": "all run",
    "patience": "stopped by patience",
    "timeout": "time limit",
    "stopped": "stopped",
}
QUICK_IMAGES = 4
QUICK_TRIALS = 6


@dataclass
class FolderResult:
    """Every method's scores on one folder, and the pixel metrics where there is pixel GT."""

    name: str
    n_images: int
    scores: dict[str, Scores] = field(default_factory=dict)
    pixels: dict[str, tuple[float, float]] = field(default_factory=dict)  # method: (F-measure, PSNR)
    holdout: Holdout | None = None
    notes: list[str] = field(default_factory=list)


def pixel_truth(item: Item) -> np.ndarray | None:
    """The item's pixel ground truth as gray, if the folder has one."""
    for suffix in (".gt.png", ".gt.tif"):
        path = item.path.with_name(item.path.stem + suffix)
        if path.is_file():
            image = read_image(path)
            return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return None


def otsu(image: np.ndarray) -> np.ndarray:
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]


def pixel_scores(finals: list[np.ndarray | None], truths: list[np.ndarray]) -> tuple[float, float, bool]:
    """Mean F-measure and PSNR (dB) of the final images against the truths; True if any was resized.

    Each final image is binarised with Otsu's threshold first (see the module docstring). A final
    image whose size differs from the truth's (a preset that rescales) is resized back
    with area interpolation when its aspect ratio is within 2 % of the truth's, else it counts
    as all wrong (F 0, PSNR 0).
    """
    fms, psnrs, resized = [], [], False
    for final, truth in zip(finals, truths, strict=True):
        if final is None:
            fms.append(0.0)
            psnrs.append(0.0)
            continue
        if final.shape[:2] != truth.shape[:2]:
            h, w = final.shape[:2]
            th, tw = truth.shape[:2]
            if abs((w / h) / (tw / th) - 1.0) > 0.02:
                fms.append(0.0)
                psnrs.append(0.0)
                continue
            final = cv2.resize(final, (tw, th), interpolation=cv2.INTER_AREA)
            resized = True
        final = otsu(final)
        fms.append(fmeasure(final, truth))
        value = psnr(final, truth)
        psnrs.append(value if math.isfinite(value) else 99.0)
    return sum(fms) / len(fms), sum(psnrs) / len(psnrs), resized


def run_folder(folder: Path, args: argparse.Namespace, presets_dir: Path) -> FolderResult:
    _, psm, scenario_file = FOLDERS[folder.name]
    spaces, case = folder.name in IGNORE_SPACES, folder.name in IGNORE_CASE
    items = load_items(folder, QUICK_IMAGES if args.quick else None)
    out = FolderResult(folder.name, len(items))
    opts = {"ignore_spaces": spaces, "ignore_case": case}
    truths = [pixel_truth(i) for i in items]
    has_pixels = all(t is not None for t in truths) and bool(truths)

    raw = Preset(name="raw", ocr=OcrOptions(psm=psm))
    sauvola = Preset(name="tess-sauvola", ocr=OcrOptions(psm=psm, variables={"thresholding_method": "2"}))
    out.scores["raw"] = score(items, raw, **opts)
    out.scores["tess-sauvola"] = score(items, sauvola, **opts)
    rapid = Preset(name="rapidocr", ocr=OcrOptions(engine="rapidocr", psm=RAPIDOCR_PSM.get(folder.name, 7)))
    out.scores["RapidOCR raw"] = score(items, rapid, **opts)
    out.scores["auto"] = score_auto(items, **opts)
    if has_pixels:
        fm, db, _ = pixel_scores([i.image for i in items], truths)  # type: ignore[arg-type]
        out.pixels["raw"] = (fm, db)

    path = presets_dir / scenario_file
    if not path.is_file():
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        out.notes.append(f"scenario preset {shown} does not exist yet: scenario and tuned skipped")
        return out
    scenario = load_preset(path)
    out.scores["scenario"] = score(items, scenario, keep_finals=has_pixels, **opts)
    if scenario.ocr.engine == "rapidocr":
        tesseract = scenario.model_copy(update={"ocr": scenario.ocr.model_copy(update={"engine": "auto"})})
        out.scores["scenario, Tesseract"] = score(items, tesseract, **opts)
    else:
        out.scores["scenario, Tesseract"] = out.scores["scenario"]
    if has_pixels:
        fm, db, resized = pixel_scores(out.scores["scenario"].finals, truths)  # type: ignore[arg-type]
        out.pixels["scenario"] = (fm, db)
        if resized:
            out.notes.append("scenario output resized to the ground truth's size for F-measure/PSNR")
    if args.trials <= 0:
        return out
    if len(items) < 2:
        out.notes.append("tuned skipped: one image cannot be split into a tuning and a held-out half")
        return out
    trials = QUICK_TRIALS if args.quick else args.trials
    h = holdout(
        items, scenario, trials=trials, seed=args.seed, jobs=args.jobs, patience=args.patience,
        timeout=args.tune_timeout,
        label=folder.name, keep_finals=has_pixels, **opts,
    )  # fmt: skip
    out.holdout = h
    out.scores["scenario, held-out half"] = h.base_test
    out.scores["tuned, held-out half"] = h.tuned_test
    if has_pixels:
        test_truths = truths[1::2]
        for method, s in (("scenario, held-out half", h.base_test), ("tuned, held-out half", h.tuned_test)):
            fm, db, _ = pixel_scores(s.finals, test_truths)  # type: ignore[arg-type]
            out.pixels[method] = (fm, db)
    r = h.result
    out.notes.append(
        f"tuned on {h.n_train} images, tested on {h.n_test}: {len(r.trials)} trials "
        f"({STOPS[r.stop_reason]}) in {h.tune_seconds:.0f} s; "
        f"CER on the tuning half {r.base.score:.3f} → {r.best.score:.3f}; {start_note(h.outcome)}; "
        f"changes from the start: {r.best.summary}"
    )
    return out


def score_auto(items: list[Item], *, ignore_spaces: bool, ignore_case: bool) -> Scores:
    """``--preset auto`` on each item (one after the other, no stage cache)."""
    out = Scores()
    for item in items:
        start = time.perf_counter()
        try:
            text = read_auto(item.image).ocr.text
        except ClarityError as exc:
            out.failures.append(f"{item.name}: {exc}")
            text = ""
        out.seconds.append(time.perf_counter() - start)
        out.cers.append(cer(item.expected, text, ignore_spaces=ignore_spaces, ignore_case=ignore_case))
    return out


def _cell(value: float | None, digits: int = 3) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def tables(results: list[FolderResult], args: argparse.Namespace) -> str:
    titles = [FOLDERS[r.name][0] for r in results]
    head = "| method | " + " | ".join(titles) + " |\n|---|" + "---|" * len(titles)
    trials = QUICK_TRIALS if args.quick else args.trials
    limit = f" or {args.tune_timeout:.0f} s" if args.tune_timeout else ""
    lines = [
        f"Mean CER per folder (corpus rules; lower is better; {'--quick: ' if args.quick else ''}"
        f"images per folder: {', '.join(f'{FOLDERS[r.name][0]} {r.n_images}' for r in results)}). "
        "*tuned*: the scenario preset tuned on the even-indexed half of the folder "
        f"({trials} trials at most{limit}, seed {args.seed}) and scored on the odd-indexed half, next to the "
        "untuned scenario preset on that same half.",
        "",
        head,
    ]
    for method in METHODS:
        cells = [_cell(r.scores[method].mean_cer) if method in r.scores else "—" for r in results]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    lines += ["", "Seconds per image (cleaning + OCR, one image at a time):", "", head]
    for method in METHODS:
        cells = [_cell(r.scores[method].seconds_per_image) if method in r.scores else "—" for r in results]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    with_pixels = [r for r in results if r.pixels]
    if with_pixels:
        ptitles = [FOLDERS[r.name][0] for r in with_pixels]
        lines += [
            "",
            "Binarisation against the pixel ground truth: F-measure / PSNR in dB of each method's "
            "final image after Otsu's threshold, i.e. the black and white page Tesseract reads "
            "(higher is better; raw = Otsu's threshold on the image):",
            "",
            "| method | " + " | ".join(ptitles) + " |",
            "|---|" + "---|" * len(ptitles),
        ]
        for method in ("raw", "scenario", "scenario, held-out half", "tuned, held-out half"):
            cells = [
                f"{r.pixels[method][0]:.3f} / {r.pixels[method][1]:.1f}" if method in r.pixels else "—"
                for r in with_pixels
            ]
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
    notes = [f"- {FOLDERS[r.name][0]}: {n}" for r in results for n in r.notes]
    notes += [f"- {name}: {why}" for name, why in SKIPPED.items()]
    lines += ["", "Notes:", "", *notes]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument(
        "--presets", type=Path, default=ROOT / "presets", help="folder of the scenario presets"
    )
    parser.add_argument(
        "--folders", help="comma-separated corpus folders (default: all but kant-fraktur-lines)"
    )
    parser.add_argument(
        "--trials", type=int, default=60, help="tuning trials per folder (default 60; 0 = no tuned rows)"
    )
    parser.add_argument(
        "--patience", type=int, default=25, help="tuning stops after N trials without progress"
    )
    parser.add_argument(
        "--tune-timeout",
        type=float,
        help="time limit of each folder's tuning, seconds (default: none; the notes say which stopped)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="tuning worker processes")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_IMAGES} images per folder, {QUICK_TRIALS} trials"
    )
    parser.add_argument("--no-readme", action="store_true", help="print only; leave README.md alone")
    args = parser.parse_args()

    if not (args.corpus / "README.md").is_file():
        print(f"corpus not found at {args.corpus}", file=sys.stderr)
        return 1
    names = args.folders.split(",") if args.folders else list(FOLDERS)
    unknown = [n for n in names if n not in FOLDERS and n not in SKIPPED]
    if unknown:
        print(f"unknown folder(s): {', '.join(unknown)}; known: {', '.join(FOLDERS)}", file=sys.stderr)
        return 2
    results = []
    start = time.perf_counter()
    for name in names:
        if name in SKIPPED:
            print(f"{name}: {SKIPPED[name]}", file=sys.stderr)
            continue
        print(f"{name} ...", file=sys.stderr, flush=True)
        try:
            results.append(run_folder(args.corpus / name, args, args.presets))
        except ClarityError as exc:
            print(f"{name}: error: {exc}", file=sys.stderr)
            return 1
        for note in results[-1].notes:
            print(f"  {note}", file=sys.stderr)
    text = tables(results, args)
    print(text)
    print(f"(bench took {time.perf_counter() - start:.0f} s)", file=sys.stderr)
    if args.quick or args.no_readme:
        print("README.md not updated (--quick or --no-readme)", file=sys.stderr)
        return 0
    sys.path.insert(0, str(ROOT))  # scripts/ is not installed with the package
    from scripts.readme_sections import README, replace_section

    if "<!-- begin:accuracy -->" not in README.read_text(encoding="utf-8"):
        print("README.md has no <!-- begin:accuracy --> markers: not updated", file=sys.stderr)
        return 0
    replace_section("accuracy", text)
    print("updated the accuracy section of README.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
