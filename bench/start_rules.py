"""Compare rules for the tuner's choice of start on the unseen half of each folder.

Reads every start of :func:`pipeline.tuning.wide.start_candidates` on a tuning half and an
unseen half of each folder, once (cached as JSON under ``--cache``), then replays the choice
(:func:`pipeline.tuning.wide._pick`) with three rules and prints the unseen mean CER of the
start each one chooses (the search after the choice is not run):

- *clear win only*: a later start replaces the chosen one only when it clearly beats it (the
  rule before 2026-11-28);
- *ahead everywhere, any start*: also when it is lower by one character's worth and worse on no
  tuning image;
- *shipped*: the same, but not for the ``speckled-line`` starts when the labels are codes
  (:func:`pipeline.tuning.wide.may_edge_ahead`), and with the starts in the order the tuner
  now gives them from the tuning images too (the preset of the kind ``auto`` recognises in most
  of them first: :func:`pipeline.tuning.wide.image_kind`); the first two rules keep the order
  the labels alone give.

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
from pipeline.tuning.wide import _pick, _reads_key, may_edge_ahead, start_candidates

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--cache", type=Path, default=Path("out/start_rules"), help="readings cache folder")
    args = parser.parse_args()
    rules = ("clear win only", "ahead everywhere, any start", "shipped")
    totals: list[list[float]] = [[] for _ in rules]
    print("| folder | " + " | ".join(rules) + " |\n|---|---|---|---|")
    for folder in args.folders:
        data = readings(folder, args.cache)
        n = data["n_train"]
        tuning = [row[:n] for row in data["scores"]]
        unseen = [row[n:] for row in data["scores"]]
        support = default_support(n)
        starts = start_candidates(None, None, data["labels"])
        assert [s.label for s in starts] == data["starts"], f"{folder}: the starts changed; clear the cache"
        images = [as_input(image) for image, _ in halves(folder)[0]]
        shipped = start_candidates(None, None, data["labels"], images)
        row_of = {_reads_key(s.preset): i for i, s in enumerate(starts)}
        rows = [row_of[_reads_key(s.preset)] for s in shipped]  # the shipped order, as rows of the cache
        orders = (list(range(len(starts))), list(range(len(starts))), rows)
        edges = ((), [True] * len(starts), may_edge_ahead(shipped, data["labels"]))
        cells = []
        for total, order, edge in zip(totals, orders, edges, strict=True):
            pick = order[_pick([tuning[i] for i in order], data["gain"], support, edge)]
            total.append(sum(unseen[pick]) / len(unseen[pick]))
            cells.append(f"{total[-1]:.3f} ({data['starts'][pick]})")
        print(f"| {folder} | " + " | ".join(cells) + " |")
    count = len(args.folders)
    print(f"| mean of {count} | " + " | ".join(f"{sum(t) / count:.3f}" for t in totals) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
