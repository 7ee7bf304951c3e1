"""Compare rules for the tuner's choice of start on the unseen half of each folder.

Reads every start of :func:`pipeline.tuning.wide.start_candidates` on a tuning half and an
unseen half of each folder, once (cached as JSON under ``--cache``), then replays the choice
with the shipped rule (:func:`pipeline.tuning.wide._pick`) and with a looser one that also
accepts a later start lower by one character's worth and worse on no tuning image, and prints
the unseen mean CER of the start each rule chooses (the search after the choice is not run).

    python bench/start_rules.py ../devsets/seed202/bgtext ../shared/corpus/captcha-sheypoor-digits

A folder with ``train/`` and ``test/`` (``scripts/make_devsets.py``) is split that way, with
spaces ignored except for ``docs`` and ``lines``; a corpus folder is halved as in
``bench/accuracy.py`` (even-indexed images tune, odd-indexed are unseen) with its rules.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tune_holdout import IGNORE_CASE, IGNORE_SPACES, load_items

from pipeline.evaluate import Reading, score
from pipeline.runner import as_input
from pipeline.tuning.scoring import Evaluator
from pipeline.tuning.search import _default_gain, default_support
from pipeline.tuning.wide import _clearly_better, _pick, start_candidates

Pair = tuple[object, str]


def halves(folder: Path) -> tuple[list[Pair], list[Pair], bool, bool]:
    """Tuning pairs, unseen pairs, ignore_spaces, ignore_case."""
    if (folder / "train").is_dir():
        train, test = (load_items(folder / part, None) for part in ("train", "test"))
        spaces = folder.name not in ("docs", "lines")
        return [(i.image, i.expected) for i in train], [(i.image, i.expected) for i in test], spaces, False
    items = [(i.image, i.expected) for i in load_items(folder, None)]
    return items[0::2], items[1::2], folder.name in IGNORE_SPACES, folder.name in IGNORE_CASE


def readings(folder: Path, cache: Path) -> dict:
    """Every start's CER on every image of both halves (from the cache when it is there)."""
    path = cache / (folder.resolve().as_posix().strip("/").replace("/", "_") + ".json")
    if path.is_file():
        return json.loads(path.read_text())
    train, test, spaces, case = halves(folder)
    labels = [text for _, text in train]
    starts = start_candidates(None, None, labels)
    pairs = train + test
    with Evaluator([as_input(image) for image, _ in pairs], 2) as evaluator:
        rows = evaluator.read([s.preset for s in starts])

    def cer_of(reading: Reading, text: str) -> float:
        return score(reading, text, ignore_spaces=spaces, ignore_case=case)

    data = {
        "starts": [s.label for s in starts],
        "n_train": len(train),
        "labels": labels,
        "gain": _default_gain("cer", labels, ignore_spaces=spaces, ignore_case=case),
        "scores": [[cer_of(r, text) for r, (_, text) in zip(row, pairs, strict=True)] for row in rows],
    }
    cache.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return data


def pick_no_worse(scores: list[list[float]], gain: float, support: int) -> int:
    """The shipped rule, plus: a later start lower by ``gain`` and worse on no image replaces it."""
    best = 0
    for i in range(1, len(scores)):
        lower = sum(scores[i]) / len(scores[i]) <= sum(scores[best]) / len(scores[best]) - gain
        no_worse = all(a <= b for a, b in zip(scores[i], scores[best], strict=True))
        if _clearly_better(scores[i], scores[best], gain, support) or (lower and no_worse):
            best = i
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--cache", type=Path, default=Path("out/start_rules"), help="readings cache folder")
    args = parser.parse_args()
    shipped_total, looser_total = [], []
    print("| folder | shipped rule | no worse on any image |\n|---|---|---|")
    for folder in args.folders:
        data = readings(folder, args.cache)
        n = data["n_train"]
        tuning = [row[:n] for row in data["scores"]]
        unseen = [row[n:] for row in data["scores"]]
        support = default_support(n)
        cells = []
        for pick in (_pick(tuning, data["gain"], support), pick_no_worse(tuning, data["gain"], support)):
            mean = sum(unseen[pick]) / len(unseen[pick])
            cells.append((mean, data["starts"][pick]))
        shipped_total.append(cells[0][0])
        looser_total.append(cells[1][0])
        print(f"| {folder} | " + " | ".join(f"{m:.3f} ({label})" for m, label in cells) + " |")
    count = len(shipped_total)
    print(f"| mean of {count} | {sum(shipped_total) / count:.3f} | {sum(looser_total) / count:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
