"""Shared helpers of the batch tests: a small nested tree of text images and a line preset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2

from .conftest import text_image

PRESET = (
    "schema_version: 1\nname: t\nstages: [grayscale, {stage: threshold, params: {method: otsu}}]\n"
    "ocr: {psm: 7}\n"
)

WORDS = ("HELLO 42", "Clarity 7", "BATCH 2026", "Resume 9")


def make_tree(root: Path, copies: int = 1) -> dict[str, str]:
    """Text images in nested folders, the same file names in several folders: ``{relative path: text}``."""
    expected = {}
    for copy in range(copies):
        for folder in ("a", "b/deep"):
            for index, words in enumerate(WORDS):
                rel = f"set{copy}/{folder}/{index}.png"
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(root / rel), text_image(words))
                expected[rel] = words
    return expected


def write_preset(folder: Path, text: str = PRESET) -> Path:
    path = folder / "p.yaml"
    path.write_text(text)
    return path


def records(out: Path) -> list[dict[str, Any]]:
    """The manifest's records."""
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
