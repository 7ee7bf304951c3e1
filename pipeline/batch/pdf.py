"""Searchable PDFs: each page is the original image with an invisible text layer on top.

The text layer places every OCR word over its box (text render mode 3, invisible), so viewers
find, select and copy the words where they are seen, and ``pdftotext`` extracts them. Words
use the built-in Courier font (not embedded) stretched to the width of their box; a
``ToUnicode`` map per font gives their real characters, so any Unicode text survives
extraction (up to 255 different characters share one font resource; more get more fonts).
Images are stored losslessly (Flate).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ..ocr.result import Word

COURIER_ADVANCE = 0.6
"""Width of every Courier glyph as a fraction of the font size."""

_CODES_PER_FONT = 255


@dataclass(frozen=True)
class Page:
    """One page of a searchable PDF.

    Attributes
    ----------
    image:
        The page picture, uint8 gray (H, W) or BGR (H, W, 3).
    dpi:
        Its resolution in pixels per inch; the page is ``W * 72 / dpi`` points wide.
    words:
        The words of the text layer, with boxes in the pixels of an image of ``ocr_size``.
    ocr_size:
        ``(width, height)`` of the image the words were read from, in pixels (the cleaned
        image, which may be scaled); ``None`` when it is ``image`` itself.
    """

    image: np.ndarray
    dpi: float
    words: Sequence[Word] = ()
    ocr_size: tuple[int, int] | None = None


def searchable_pdf(pages: Sequence[Page]) -> bytes:
    """A PDF document of ``pages`` (see :class:`Page`), as bytes."""
    if not pages:
        raise ValueError("a PDF needs at least one page")
    fonts = _FontTable(ch for page in pages for word in page.words for ch in word.text)
    writer = _Writer()
    catalog, tree = writer.reserve(), writer.reserve()
    font_ids = [writer.add(_font_object(writer, codes)) for codes in fonts.groups]
    font_dict = " ".join(f"/F{i} {obj} 0 R" for i, obj in enumerate(font_ids))
    kids = []
    for page in pages:
        height, width = page.image.shape[:2]
        w_pt, h_pt = width * 72.0 / page.dpi, height * 72.0 / page.dpi
        image_id = writer.add_stream(*_image_xobject(page.image))
        content = f"q {w_pt:.3f} 0 0 {h_pt:.3f} 0 0 cm /Im0 Do Q\n".encode() + _text_layer(page, fonts, h_pt)
        content_id = writer.add_stream(b"", content)
        kids.append(
            writer.add(
                f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 {w_pt:.3f} {h_pt:.3f}] "
                f"/Resources << /XObject << /Im0 {image_id} 0 R >> /Font << {font_dict} >> >> "
                f"/Contents {content_id} 0 R >>"
            )
        )
    writer.set(tree, f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>")
    writer.set(catalog, f"<< /Type /Catalog /Pages {tree} 0 R >>")
    return writer.finish(catalog)


class _FontTable:
    """Assigns every character a font number and a one-byte code (1..255) in that font."""

    def __init__(self, chars) -> None:
        self.code: dict[str, tuple[int, int]] = {}
        self.groups: list[list[str]] = [[]]
        for ch in sorted(set(chars)):
            if len(self.groups[-1]) == _CODES_PER_FONT:
                self.groups.append([])
            self.groups[-1].append(ch)
            self.code[ch] = (len(self.groups) - 1, len(self.groups[-1]))

    def runs(self, text: str) -> list[tuple[int, bytes]]:
        """``text`` split into ``(font, codes)`` runs."""
        runs: list[tuple[int, bytearray]] = []
        for ch in text:
            font, code = self.code[ch]
            if not runs or runs[-1][0] != font:
                runs.append((font, bytearray()))
            runs[-1][1].append(code)
        return [(font, bytes(codes)) for font, codes in runs]


def _text_layer(page: Page, fonts: _FontTable, h_pt: float) -> bytes:
    if not page.words:
        return b""
    height, width = page.image.shape[:2]
    ocr_w, ocr_h = page.ocr_size or (width, height)
    sx, sy = width / ocr_w * 72.0 / page.dpi, height / ocr_h * 72.0 / page.dpi
    parts = ["BT 3 Tr"]
    for word in page.words:
        size = max(word.height * sy, 1.0)
        box_w = max(word.width * sx, 0.5)
        stretch = 100.0 * box_w / (len(word.text) * COURIER_ADVANCE * size)
        x = word.left * sx
        baseline = h_pt - (word.top + word.height) * sy + 0.2 * size  # about the descender depth
        parts.append(f"{stretch:.2f} Tz 1 0 0 1 {x:.2f} {baseline:.2f} Tm")
        parts.extend(f"/F{font} {size:.2f} Tf <{codes.hex()}> Tj" for font, codes in fonts.runs(word.text))
    parts.append("ET")
    return ("\n".join(parts) + "\n").encode("ascii")


def _image_xobject(image: np.ndarray) -> tuple[bytes, bytes]:
    height, width = image.shape[:2]
    if image.ndim == 2:
        space, samples = "/DeviceGray", image
    else:
        space, samples = "/DeviceRGB", cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    header = (
        f"/Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace {space} "
        "/BitsPerComponent 8 /Filter /FlateDecode"
    ).encode()
    return header, zlib.compress(np.ascontiguousarray(samples).tobytes(), 6)


def _font_object(writer: _Writer, chars: list[str]) -> str:
    cmap = _to_unicode(chars)
    cmap_id = writer.add_stream(b"/Filter /FlateDecode", zlib.compress(cmap))
    return (
        f"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /FirstChar 1 /LastChar {max(len(chars), 1)} "
        f"/Widths [{' '.join(['600'] * max(len(chars), 1))}] /ToUnicode {cmap_id} 0 R >>"
    )


def _to_unicode(chars: list[str]) -> bytes:
    """A CMap mapping codes 1..n to the characters ``chars`` (UTF-16BE, as PDF requires)."""
    lines = [
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Clarity-UCS def /CMapType 2 def",
        "1 begincodespacerange <01> <ff> endcodespacerange",
    ]
    for start in range(0, len(chars), 100):  # at most 100 entries per block
        block = chars[start : start + 100]
        lines.append(f"{len(block)} beginbfchar")
        lines.extend(f"<{start + i + 1:02x}> <{ch.encode('utf-16-be').hex()}>" for i, ch in enumerate(block))
        lines.append("endbfchar")
    lines += ["endcmap CMapName currentdict /CMap defineresource pop end end"]
    return "\n".join(lines).encode("ascii")


class _Writer:
    """Numbers objects, writes them and the cross-reference table."""

    def __init__(self) -> None:
        self._objects: list[bytes | None] = []

    def reserve(self) -> int:
        self._objects.append(None)
        return len(self._objects)

    def set(self, number: int, body: str | bytes) -> None:
        self._objects[number - 1] = body.encode() if isinstance(body, str) else body

    def add(self, body: str | bytes) -> int:
        number = self.reserve()
        self.set(number, body)
        return number

    def add_stream(self, header: bytes, data: bytes) -> int:
        return self.add(b"<< " + header + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")

    def finish(self, root: int) -> bytes:
        out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(self._objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + (body or b"null") + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        trailer = b"trailer\n<< /Size %d /Root %d 0 R >>\n" % (len(offsets) + 1, root)
        out += trailer + b"startxref\n%d\n%%%%EOF\n" % xref
        return bytes(out)
