"""PDF pages through pypdfium2: count a PDF's pages, render one as an image, join PDFs into one.

Each page of an input PDF becomes one batch input, rendered at ``dpi`` pixels per inch as
uint8 BGR. A worker keeps the last document it opened, so consecutive pages of one PDF open it
once.
"""

from __future__ import annotations

import atexit
import io
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ImageError
from ..imageio import MAX_PIXELS

DEFAULT_DPI = 300
"""Resolution PDF pages are rendered at, in pixels per inch, unless ``--dpi`` says otherwise."""

_LOCK = threading.Lock()  # pdfium is not thread-safe


def count_pages(path: Path) -> int:
    """Number of pages of the PDF at ``path``.

    Raises
    ------
    ImageError
        Missing, unreadable, encrypted or damaged file, or a PDF without pages.
    """
    with _LOCK:
        pages = len(_open(str(path)))
    if pages == 0:
        raise ImageError(f"{path}: the PDF has no pages")
    return pages


def render_page(path: Path, page: int, dpi: float = DEFAULT_DPI) -> np.ndarray:
    """Page ``page`` (1-based) of the PDF at ``path`` as uint8 BGR (H, W, 3), at ``dpi`` pixels per inch.

    Raises
    ------
    ImageError
        Unreadable file, no such page, or a page larger than :data:`pipeline.imageio.MAX_PIXELS`
        at this resolution.
    """
    with _LOCK:
        return _render(_open(str(path)), page, dpi, str(path), "lower --dpi or set CLARITY_MAX_PIXELS")


def pdf_bytes_pages(data: bytes, label: str) -> int:
    """Number of pages of the PDF ``data`` (an upload; ``label`` names it in errors).

    Raises
    ------
    ImageError
        Encrypted, damaged or empty PDF.
    """
    with _LOCK:
        document = _open_bytes(data, label)
        try:
            pages = len(document)
        finally:
            document.close()
    if pages == 0:
        raise ImageError(f"{label}: the PDF has no pages")
    return pages


def render_pdf_bytes(data: bytes, page: int, label: str, dpi: float = DEFAULT_DPI) -> np.ndarray:
    """Page ``page`` (1-based) of the PDF ``data`` as uint8 BGR, at ``dpi`` pixels per inch."""
    with _LOCK:
        document = _open_bytes(data, label)
        try:
            return _render(document, page, dpi, label, "set CLARITY_MAX_PIXELS on the server")
        finally:
            document.close()


def _render(document: Any, page: int, dpi: float, label: str, advice: str) -> np.ndarray:
    """Render one page of an open document (the caller holds :data:`_LOCK`)."""
    if not 1 <= page <= len(document):
        raise ImageError(f"{label}: has {len(document)} page(s); page {page} does not exist")
    pdf_page = document[page - 1]
    width, height = pdf_page.get_size()  # points, 1/72 inch
    scale = dpi / 72.0
    if width * scale * height * scale > MAX_PIXELS:
        raise ImageError(
            f"{label}: page {page} is {width * scale:.0f} x {height * scale:.0f} pixels at {dpi:g} dpi, "
            f"more than the {MAX_PIXELS:,} accepted; {advice}"
        )
    bitmap = pdf_page.render(scale=scale, may_draw_forms=True)
    array = np.array(bitmap.to_numpy(), dtype=np.uint8, copy=True)
    if array.ndim == 3 and array.shape[2] == 4:
        array = np.ascontiguousarray(array[:, :, :3])
    return array


def _open_bytes(data: bytes, label: str) -> Any:
    """A new document from ``data`` (the caller closes it)."""
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ImageError(
            f"{label}: cannot be read as a PDF ({exc}); is it damaged or password-protected? "
            "Save it again without a password, or upload the page as an image."
        ) from None


def join(paths: Sequence[Path]) -> bytes:
    """One PDF holding every page of the PDFs at ``paths``, in order, as bytes."""
    import pypdfium2 as pdfium

    with _LOCK:
        joined = pdfium.PdfDocument.new()
        for path in paths:
            part = pdfium.PdfDocument(str(path))
            joined.import_pages(part)
            part.close()
        buffer = io.BytesIO()
        joined.save(buffer)
        joined.close()
    return buffer.getvalue()


_CURRENT: dict[tuple[str, int, int], Any] = {}  # (path, mtime ns, size) -> the open document


def _open(path: str) -> Any:
    """The document at ``path``, kept open until another one is opened (or the process ends)."""
    import pypdfium2 as pdfium

    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    key = (path, info.st_mtime_ns, info.st_size)
    if key in _CURRENT:
        return _CURRENT[key]
    _close_current()
    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise ImageError(
            f"{path}: cannot be read as a PDF ({exc}); is it damaged or password-protected?"
        ) from None
    _CURRENT[key] = document
    return document


def _close_current() -> None:
    """Close the document :func:`_open` keeps."""
    while _CURRENT:
        _CURRENT.popitem()[1].close()


atexit.register(_close_current)
