"""RapidOCR's page reading with the pieces put in order two ways: as shipped vs an earlier rule.

    .venv/bin/python bench/reading_order.py FOLDER... [--against axis|words] [--cache DIR] [--psm 3]

Each folder holds images with ``.gt.txt`` answers (as ``clarity eval`` reads them). Every page is
detected and read once by RapidOCR (the pieces are kept in ``--cache``, so a rerun costs
nothing); the same pieces are then put in reading order as shipped and as before one change,
and each text is scored (CER):

``--against axis``
    the pieces' axis-aligned bounding boxes instead of upright boxes in the page's own frame
    (:func:`pipeline.ocr.layout.upright_boxes`);
``--against words`` (default)
    no column rules from the words: no piece split at a gutter found between words, no split at
    a column's aligned edge (:func:`pipeline.ocr.layout.word_gutters`, ``ends``).

Prints per folder the mean CER both ways and how many pages got better or worse by more than
0.005, then the pages that changed most.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
from collections.abc import Sequence
from pathlib import Path
from statistics import mean
from typing import Any

import numpy as np

from pipeline.evaluate import dataset
from pipeline.imageio import read_image
from pipeline.metrics import cer
from pipeline.ocr import rapidocr_engine as engine
from pipeline.ocr.dictionary import words_of
from pipeline.ocr.layout import Box

Pieces = list[tuple[np.ndarray, str, float, Any]]


def axis_boxes(quads: Sequence[np.ndarray]) -> list[Box]:
    """The quadrilaterals' axis-aligned bounding boxes (the order before upright boxes)."""
    return [
        (float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max()))
        for q in quads
    ]


def pieces_of(reader: Any, path: Path, psm: int, cache: Path) -> Pieces:
    """RapidOCR's detected pieces of the page at ``path`` (from ``cache`` when read before)."""
    key = hashlib.sha1(path.read_bytes() + str(psm).encode()).hexdigest()
    stored = cache / f"{key}.pkl"
    if stored.is_file():
        return pickle.loads(stored.read_bytes())
    caught: Pieces = []

    def keep(pieces: Pieces, **_: Any) -> list[Any]:
        caught.extend(pieces)
        return []

    real = engine._page_words
    engine._page_words = keep  # type: ignore[assignment]
    try:
        engine.read_words(reader, engine.to_bgr(read_image(path)), psm)
    finally:
        engine._page_words = real  # type: ignore[assignment]
    stored.write_bytes(pickle.dumps(caught))
    return caught


def text_with(pieces: Pieces, psm: int, against: str | None = None) -> str:
    """The page's text with the pieces in the shipped order, or as before the change ``against``."""
    real_boxes, real_split = engine.upright_boxes, engine._split_at_gutters
    known = words_of("eng")
    if against == "axis":
        engine.upright_boxes = axis_boxes  # type: ignore[assignment]
    elif against == "words":
        engine._split_at_gutters = lambda kept, boxes: kept  # type: ignore[assignment]
        known = frozenset()
    try:
        return engine.layout_text(engine._page_words(pieces, join_rows=psm == 6, known=known))
    finally:
        engine.upright_boxes, engine._split_at_gutters = real_boxes, real_split  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/clarity-reading-order"))
    parser.add_argument("--psm", type=int, default=3)
    parser.add_argument("--against", choices=("axis", "words"), default="words")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    reader = engine.open_reader(engine.model_paths(), engine.threads())
    changed: list[tuple[float, str, float, float]] = []
    before_all: list[float] = []
    after_all: list[float] = []
    before_name = {"axis": "axis-aligned boxes", "words": "no column rules from words"}[args.against]
    print(f"| folder | pages | {before_name} | shipped | better / worse |")
    print("|---|---|---|---|---|")
    for folder in args.folders:
        before, after = [], []
        for path, expected in dataset(folder):
            pieces = pieces_of(reader, path, args.psm, args.cache)
            old = cer(expected, text_with(pieces, args.psm, args.against))
            new = cer(expected, text_with(pieces, args.psm))
            before.append(old)
            after.append(new)
            if abs(new - old) > 0.005:
                changed.append((new - old, str(path), old, new))
        better = sum(a < b - 0.005 for a, b in zip(after, before, strict=True))
        worse = sum(a > b + 0.005 for a, b in zip(after, before, strict=True))
        print(f"| {folder} | {len(before)} | {mean(before):.4f} | {mean(after):.4f} | {better} / {worse} |")
        before_all += before
        after_all += after
    print(f"| all | {len(before_all)} | {mean(before_all):.4f} | {mean(after_all):.4f} | |")
    ranked = sorted(changed)
    for delta, path, old, new in ranked[:8] + ranked[max(8, len(ranked) - 8) :]:
        print(f"{delta:+.3f}  {old:.3f} -> {new:.3f}  {path}")


if __name__ == "__main__":
    main()
