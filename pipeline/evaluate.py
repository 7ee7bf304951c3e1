"""Scoring readings: a folder of images with ground truth (tesstrain layout), and one reading's score.

:func:`score` turns a :class:`Reading` into a number (the CER against the expected text, or
the mean word confidence); the tuner scores its trials with it. Reading an image with a preset
is :func:`pipeline.auto.read`.

``DATA_DIR/<stem>.<ext>`` are inputs when ``DATA_DIR/<stem>.gt.txt`` exists; files named
``<stem>.gt.<ext>`` are ground truth (text or pixels), never inputs; other files are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .auto import read
from .errors import ClarityError, ImageError
from .imageio import SUFFIXES, read_image
from .metrics import cer
from .preset import Preset


@dataclass(frozen=True)
class Reading:
    """What one preset made of one image: the text and mean word confidence (0..100), or the error."""

    text: str = ""
    conf: float = 0.0
    error: str | None = None


def score(
    reading: Reading,
    expected: str | None,
    *,
    metric: Literal["cer", "confidence"] = "cer",
    ignore_spaces: bool = False,
    ignore_case: bool = False,
) -> float:
    """A reading's score: its CER against ``expected`` (0..1, lower is better; a failed reading
    scores 1.0), or with ``metric="confidence"`` its mean word confidence (0..100, higher is
    better; a failed reading scores 0.0). ``ignore_spaces``/``ignore_case`` are the CER options."""
    if metric == "confidence":
        return 0.0 if reading.error is not None else reading.conf
    if reading.error is not None:
        return 1.0
    return cer(expected or "", reading.text, ignore_spaces=ignore_spaces, ignore_case=ignore_case)


@dataclass(frozen=True)
class Item:
    """One scored image: its path, the expected and the read text, and the CER (0..1)."""

    image: Path
    expected: str
    text: str
    cer: float
    preset: str = ""
    engine: str = ""


@dataclass
class Report:
    """All scored images, the ones that failed, and the mean CER."""

    items: list[Item] = field(default_factory=list)
    failures: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def mean_cer(self) -> float:
        """Mean CER over the scored images (1.0 when none could be scored)."""
        return sum(i.cer for i in self.items) / len(self.items) if self.items else 1.0


def dataset(data_dir: Path) -> list[tuple[Path, str]]:
    """Pairs (image path, expected text) of a folder, sorted by file name."""
    if not data_dir.is_dir():
        raise ImageError(f"{data_dir}: not a folder")
    pairs = []
    for path in sorted(data_dir.iterdir()):
        if path.suffix.lower() not in SUFFIXES or path.stem.endswith(".gt"):
            continue
        gt = path.with_name(f"{path.stem}.gt.txt")
        if gt.is_file():
            pairs.append((path, gt.read_text(encoding="utf-8", errors="replace")))
    return pairs


def evaluate_folder(
    data_dir: Path,
    preset: Preset | str,
    *,
    ignore_spaces: bool = False,
    ignore_case: bool = False,
    engine: str | None = None,
) -> Report:
    """Run ``preset`` (or ``"auto"``) and OCR on every image of ``data_dir`` that has a ``.gt.txt``.

    ``engine`` replaces the preset's engine (for ``auto``: every candidate's). Each item records
    the preset and engine that read it (for ``auto``, the one chosen for that image).
    """
    report = Report()
    for path, expected in dataset(data_dir):
        try:
            reading = read(read_image(path), preset, engine=engine, cache=False)
        except ClarityError as exc:
            report.failures.append((path, str(exc)))
            continue
        text = reading.ocr.text
        rate = cer(expected, text, ignore_spaces=ignore_spaces, ignore_case=ignore_case)
        report.items.append(Item(path, expected, text, rate, reading.preset.name, reading.ocr.engine))
    return report
