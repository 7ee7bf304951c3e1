"""Scoring a preset on a folder of images with ground truth (tesstrain layout).

``DATA_DIR/<stem>.<ext>`` are inputs when ``DATA_DIR/<stem>.gt.txt`` exists; files named
``<stem>.gt.<ext>`` are ground truth (text or pixels), never inputs; other files are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import ClarityError, ImageError
from .imageio import SUFFIXES, read_image
from .metrics import cer
from .ocr import recognize
from .preset import Preset
from .runner import run


@dataclass(frozen=True)
class Item:
    """One scored image: its path, the expected and the read text, and the CER (0..1)."""

    image: Path
    expected: str
    text: str
    cer: float


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
    data_dir: Path, preset: Preset, *, ignore_spaces: bool = False, ignore_case: bool = False
) -> Report:
    """Run ``preset`` and OCR on every image of ``data_dir`` that has a ``.gt.txt``."""
    report = Report()
    for path, expected in dataset(data_dir):
        try:
            result = run(read_image(path), preset, cache=None)
            text = recognize(result.final, preset.ocr).text
        except ClarityError as exc:
            report.failures.append((path, str(exc)))
            continue
        score = cer(expected, text, ignore_spaces=ignore_spaces, ignore_case=ignore_case)
        report.items.append(Item(path, expected, text, score))
    return report
