"""``manifest.jsonl``: one JSON record per input, appended as results arrive.

A record::

    {"input": "scans/a/scan.png", "page": null, "outputs": {"image": "a/scan.png", "text": "a/scan.txt"},
     "text": "...", "confidence": 91.3, "engine": "tesserocr", "chosen": null, "preset": "3f1c...",
     "ms": 48.2, "error": null}

``page`` is the 1-based page of a PDF input (``null`` for an image file); ``outputs`` are paths
relative to the output folder; ``confidence`` is the mean word confidence 0..100; ``ms`` the
time the input took in its worker, in milliseconds; ``chosen`` what ``--preset auto`` chose
(``"document, read by RapidOCR"``; ``null`` for a preset file); ``error`` the one-line reason when the
input failed (then ``outputs`` is empty). A batch interrupted in the middle of a line leaves
at most one truncated last line, which reading skips.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..preset import Preset

MANIFEST = "manifest.jsonl"
"""File name of the manifest inside the output folder."""

FIELDS = ("input", "page", "outputs", "text", "confidence", "engine", "chosen", "preset", "ms", "error")
"""The keys of every record, in the order they are written."""


def preset_digest(preset: Preset | str, engine: str | None = None) -> str:
    """A short hash of everything in ``preset`` that changes a result (stages, OCR options).

    For ``"auto"`` (a choice among the shipped presets per input) it covers the name, the
    ``engine`` that replaces every choice's own, and the shipped presets themselves.
    """
    if isinstance(preset, str):
        from ..shipped import presets_folder

        shipped = {p.name: p.read_text(encoding="utf-8") for p in sorted(presets_folder().glob("*.yaml"))}
        data: Any = {"auto": preset, "engine": engine, "shipped": shipped}
    else:
        data = {"stages": preset.to_dict()["stages"], "ocr": preset.ocr.model_dump(mode="json")}
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(canonical.encode("utf-8"), digest_size=8).hexdigest()


def make_record(
    input_path: str | Path,
    page: int | None,
    digest: str,
    *,
    outputs: dict[str, str] | None = None,
    text: str = "",
    confidence: float = 0.0,
    engine: str = "",
    chosen: str | None = None,
    ms: float = 0.0,
    error: str | None = None,
) -> dict[str, Any]:
    """A record with every field of :data:`FIELDS`, in order (see the module docstring)."""
    return {
        "input": str(input_path),
        "page": page,
        "outputs": dict(outputs or {}),
        "text": text,
        "confidence": round(float(confidence), 2),
        "engine": engine,
        "chosen": chosen,
        "preset": digest,
        "ms": round(float(ms), 1),
        "error": error,
    }


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a manifest, skipping lines that are not complete JSON objects (a crash's last line)."""
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        return
    with handle:
        for line in handle:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and "input" in record:
                yield record


def completed(path: Path, digest: str, out_dir: Path, needed: tuple[str, ...]) -> set[tuple[str, int | None]]:
    """Inputs a resumed batch can skip: ``(absolute input path, page)`` of the records in ``path``.

    A record counts when it has no error, was made with the preset of ``digest``, and its
    outputs include every kind in ``needed`` (``"text"``, ``"pdf"``, ...) and still exist
    under ``out_dir``. Relative input paths are read relative to the current working folder, so
    resume from the folder the batch was started in.
    """
    done: set[tuple[str, int | None]] = set()
    for record in read_records(path):
        outputs = record.get("outputs") or {}
        if record.get("error") is not None or record.get("preset") != digest:
            continue
        if not all(kind in outputs and (out_dir / outputs[kind]).is_file() for kind in needed):
            continue
        done.add((os.path.abspath(record["input"]), record.get("page")))
    return done


class ManifestWriter:
    """Appends records to a manifest, one line each, flushed as they are written.

    Parameters
    ----------
    path:
        The manifest file.
    append:
        Keep the records already there (``--resume``); otherwise start a new manifest.
    """

    def __init__(self, path: Path, *, append: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if append:
            _end_with_newline(path)
        self._handle: IO[str] = path.open("a" if append else "w", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        """Append one record and flush it to the operating system."""
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()

    def close(self) -> None:
        """Flush and close the file."""
        self._handle.close()

    def __enter__(self) -> ManifestWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _end_with_newline(path: Path) -> None:
    """Terminate a truncated last line, so the next record starts on a line of its own."""
    try:
        with path.open("rb+") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                handle.write(b"\n")
    except FileNotFoundError:
        pass
