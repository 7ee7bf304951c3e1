"""What a batch reads: files, folders walked recursively, and PDFs split into pages.

Every input gets a *relative name* that its outputs take under ``--out``: a file argument its
own name (``scan.png`` -> ``scan``), a file found in a folder argument its path inside that
folder (``a/b/scan``). Inputs whose names would clash (``x/scan.png`` and ``y/scan.png`` named
on one command line) take their path from the deepest folder holding every argument instead
(``x/scan``, ``y/scan``), and ``a.png`` beside ``a.jpg`` keep their endings. The same command
always names everything the same way, which ``--resume`` relies on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..imageio import SUFFIXES

PDF_SUFFIX = ".pdf"
"""File ending read as a PDF document (one input per page)."""


@dataclass(frozen=True)
class Item:
    """One input of a batch: an image file, or one page of a PDF.

    Attributes
    ----------
    path:
        The file, as found (relative to the working folder when the argument was).
    rel:
        Where its outputs go under ``--out``, without a file ending: ``a/b/scan`` for an image,
        ``a/doc/page-0001`` for page 1 of ``a/doc.pdf``.
    page:
        1-based page number for a PDF page, ``None`` for an image file.
    pages:
        Number of pages of the PDF this page belongs to (1 for an image file).
    """

    path: Path
    rel: str
    page: int | None = None
    pages: int = 1

    @property
    def key(self) -> tuple[str, int | None]:
        """Identity in a manifest: the absolute path and the page."""
        return os.path.abspath(self.path), self.page

    @property
    def document_rel(self) -> str:
        """For a PDF page, where the whole document's outputs go (``a/doc``); else ``rel``."""
        return self.rel.rsplit("/", 1)[0] if self.page is not None else self.rel


def is_input_file(path: Path) -> bool:
    """True for a file a folder walk takes: an image or PDF ending, not ``<stem>.gt.<ext>``, not hidden."""
    name = path.name.lower()
    suffix = path.suffix.lower()
    return (
        (suffix in SUFFIXES or suffix == PDF_SUFFIX)
        and not name.startswith(".")
        and not name.removesuffix(suffix).endswith(".gt")
    )


def walk(folder: Path, skip: Path | None = None) -> list[Path]:
    """Every input file under ``folder``, recursively, sorted by path.

    Hidden files and folders, ground-truth files (``<stem>.gt.<ext>``) and anything inside
    ``skip`` (the output folder, when it lies inside an input folder) are left out.
    """
    skip_abs = os.path.abspath(skip) if skip is not None else None
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and os.path.abspath(os.path.join(root, d)) != skip_abs
        )
        found.extend(Path(root) / f for f in files if is_input_file(Path(root) / f))
    return sorted(found, key=lambda p: p.as_posix())


def base_folder(arguments: Sequence[Path]) -> str:
    """The deepest folder holding every argument (a folder argument counts itself, a file its folder)."""
    folders = [os.path.abspath(a if a.is_dir() else a.parent) for a in arguments]
    return os.path.commonpath(folders) if folders else os.getcwd()


def relative_name(path: Path, base: str, *, keep_suffix: bool = False) -> str:
    """``path`` relative to the folder ``base``, with ``/`` separators, without its file ending."""
    rel = Path(os.path.relpath(os.path.abspath(path), base))
    return (rel if keep_suffix else rel.with_suffix("")).as_posix()


def collect(
    arguments: Sequence[Path], *, skip: Path | None = None, count_pages=None
) -> tuple[list[Item], list[tuple[Path, str]]]:
    """Expand command-line arguments into batch items, in order.

    Parameters
    ----------
    arguments:
        Files and folders as the user gave them; folders are walked (:func:`walk`). A file is
        taken whatever its ending (a missing or unreadable one fails when it is processed).
    skip:
        A folder to leave out of walks (the output folder).
    count_pages:
        ``f(path) -> int`` giving a PDF's page count (default: :func:`pipeline.batch.pdfpages.count_pages`);
        it raises :class:`~pipeline.errors.ImageError` for an unreadable PDF.

    Returns
    -------
    items, problems:
        The inputs, and ``(path, reason)`` for PDFs that could not be opened.
    """
    if count_pages is None:
        from .pdfpages import count_pages
    from ..errors import ClarityError

    files: list[tuple[Path, str]] = []  # (file, the folder its name is taken from)
    seen: set[str] = set()
    for argument in arguments:
        folder = os.path.abspath(argument if argument.is_dir() else argument.parent)
        for path in walk(argument, skip) if argument.is_dir() else [argument]:
            if os.path.abspath(path) not in seen:  # a file named twice is read once
                seen.add(os.path.abspath(path))
                files.append((path, folder))
    names = _unique_names(files, base_folder(arguments))
    items: list[Item] = []
    problems: list[tuple[Path, str]] = []
    for (path, _folder), rel in zip(files, names, strict=True):
        if path.suffix.lower() != PDF_SUFFIX:
            items.append(Item(path, rel))
            continue
        try:
            pages = count_pages(path)
        except ClarityError as exc:
            problems.append((path, str(exc)))
            continue
        items.extend(Item(path, f"{rel}/page-{p:04d}", p, pages) for p in range(1, pages + 1))
    return items, problems


def _unique_names(files: Sequence[tuple[Path, str]], base: str) -> list[str]:
    """Relative names of ``(file, folder)`` pairs, clashes resolved as the module docstring says."""
    names = [relative_name(f, folder) for f, folder in files]
    clashing = _clashes(names)
    names = [relative_name(f, base) if n in clashing else n for (f, _), n in zip(files, names, strict=True)]
    clashing = _clashes(names)
    return [
        relative_name(f, base, keep_suffix=True) if n in clashing else n
        for (f, _), n in zip(files, names, strict=True)
    ]


def _clashes(names: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    twice: set[str] = set()
    for name in names:
        (twice if name in seen else seen).add(name)
    return twice
