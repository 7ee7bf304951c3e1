"""A preset's second engine: how often its keep-or-switch rule picks the better reading.

    .venv/bin/python bench/second_engine.py FOLDER... [--cache DIR] [--preset document|text-line]

Each folder holds images with ``.gt.txt`` answers. Every image is run and read as the preset's
first engine reads it and as its second engine does (:func:`pipeline.reading.read_once` with the
preset and with :func:`pipeline.reading.second_preset`); both texts are kept in ``--cache`` (keyed
by the image and the preset, so use a fresh folder after changing an engine). Prints per folder the
mean CER of the first engine alone, of each rule below, and of the better reading chosen knowing
the answer, with how many images each rule switched (better / worse by more than 0.005):

- ``shipped``: :func:`pipeline.ocr.dictionary.second_is_better` with the preset's own
  ``ocr.second_word_share`` (letters in dictionary words; with a share, only a reading made of
  real words);
- ``letters only``: the same with no share asked for (the letter count alone);
- ``distinct``: the letter count over distinct words only, so that a line read twice (a doubled
  print, bleed-through read as the page) adds nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from statistics import mean

from pipeline.auto import shipped_preset
from pipeline.evaluate import dataset
from pipeline.imageio import read_image
from pipeline.metrics import cer
from pipeline.ocr.dictionary import MIN_WORD, SECOND_MARGIN, second_is_better, words_of
from pipeline.reading import read_once, second_preset

_WORD = re.compile(r"[^\W\d_]+")


def distinct_letters(text: str, lang: str = "eng") -> int:
    """Letters in the distinct dictionary words of ``text`` (case-insensitive)."""
    known = words_of(lang)
    return sum(len(w) for w in {w.lower() for w in _WORD.findall(text)} if len(w) >= MIN_WORD and w in known)


RULES: dict[str, Callable[[str, str, float], bool]] = {
    "shipped": lambda a, b, share: second_is_better(a, b, share=share),
    "letters only": lambda a, b, share: second_is_better(a, b),
    "distinct": lambda a, b, share: distinct_letters(b) > SECOND_MARGIN * distinct_letters(a),
}


def readings(path: Path, preset_name: str, cache: Path) -> tuple[str, str]:
    """The first and the second engine's text of the image at ``path`` (from ``cache`` when read before)."""
    preset = shipped_preset(preset_name)
    other = second_preset(preset)
    if other is None:
        raise SystemExit(f"the {preset_name} preset names no second engine")
    key = hashlib.sha1(path.read_bytes() + preset.model_dump_json().encode()).hexdigest()
    stored = cache / f"{key}.json"
    if stored.is_file():
        first, second = json.loads(stored.read_text(encoding="utf-8"))
        return first, second
    image = read_image(path)
    first = read_once(image, preset)[1].text
    second = read_once(image, other)[1].text
    stored.write_text(json.dumps([first, second]), encoding="utf-8")
    return first, second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/clarity-second-engine"))
    parser.add_argument("--preset", default="document")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    names = ["first alone", *RULES, "better of two (answer known)"]
    print("| folder | images | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    totals: dict[str, list[float]] = {name: [] for name in names}
    share = shipped_preset(args.preset).ocr.second_word_share
    for folder in args.folders:
        scores: dict[str, list[float]] = {name: [] for name in names}
        switched = {name: [0, 0] for name in RULES}
        for path, expected in dataset(folder):
            first, second = readings(path, args.preset, args.cache)
            a, b = cer(expected, first), cer(expected, second)
            scores[names[0]].append(a)
            scores[names[-1]].append(min(a, b))
            for name, rule in RULES.items():
                switch = rule(first, second, share)
                scores[name].append(b if switch else a)
                if switch and abs(a - b) > 0.005:
                    switched[name][b > a] += 1
        cells = [f"{mean(scores[n]):.4f}" for n in names]
        for i, name in enumerate(RULES, start=1):
            cells[i] += f" ({switched[name][0]} / {switched[name][1]})"
        print(f"| {folder} | {len(scores[names[0]])} | " + " | ".join(cells) + " |")
        for name in names:
            totals[name] += scores[name]
    count = len(totals[names[0]])
    print(f"| all | {count} | " + " | ".join(f"{mean(totals[n]):.4f}" for n in names) + " |")


if __name__ == "__main__":
    main()
