"""The OCR reading as hOCR (HTML with word boxes) and as Tesseract-style TSV.

Both describe the words of one image in its pixel coordinates (the image the words were read
from), with Tesseract's layout numbers (block, paragraph, line, word) and confidences 0..100.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from ..ocr.result import Word

TSV_HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"


def to_tsv(words: Sequence[Word], size: tuple[int, int]) -> str:
    """Tesseract's TSV: a page row (level 1) then one row per word (level 5).

    Parameters
    ----------
    words:
        The reading's words.
    size:
        ``(width, height)`` of the image they were read from, in pixels.
    """
    rows = [TSV_HEADER, f"1\t1\t0\t0\t0\t0\t0\t0\t{size[0]}\t{size[1]}\t-1\t"]
    for w in words:
        text = w.text.replace("\t", " ").replace("\n", " ")
        rows.append(
            f"5\t1\t{w.block}\t{w.par}\t{w.line}\t{w.word}\t{w.left}\t{w.top}\t{w.width}\t{w.height}\t"
            f"{w.conf:.2f}\t{text}"
        )
    return "\n".join(rows) + "\n"


def to_hocr(words: Sequence[Word], size: tuple[int, int], title: str = "") -> str:
    """An hOCR document: one ``ocr_page`` holding ``ocr_line`` spans of ``ocrx_word`` spans.

    ``words`` and ``size`` as for :func:`to_tsv`; ``title`` is the input's name, shown as the
    page's ``image`` property.
    """
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for w in words:
        lines.setdefault(w.line_key, []).append(w)
    body = []
    for number, members in enumerate(lines.values(), start=1):
        box = _bbox(members)
        spans = " ".join(
            f"<span class='ocrx_word' id='word_{number}_{i}' title='bbox {_box(w)}; x_wconf {round(w.conf)}'>"
            f"{html.escape(w.text)}</span>"
            for i, w in enumerate(members, start=1)
        )
        body.append(f"   <span class='ocr_line' id='line_{number}' title='bbox {box}'>{spans}</span>")
    image = html.escape(title.replace('"', ""), quote=True)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n <head>\n'
        "  <title></title>\n"
        '  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n'
        "  <meta name='ocr-system' content='clarity'/>\n"
        "  <meta name='ocr-capabilities' content='ocr_page ocr_line ocrx_word'/>\n"
        " </head>\n <body>\n"
        f"  <div class='ocr_page' id='page_1' title='image \"{image}\"; bbox 0 0 {size[0]} {size[1]}'>\n"
        + "\n".join(body)
        + ("\n" if body else "")
        + "  </div>\n </body>\n</html>\n"
    )


def _box(w: Word) -> str:
    return f"{w.left} {w.top} {w.left + w.width} {w.top + w.height}"


def _bbox(words: Sequence[Word]) -> str:
    return (
        f"{min(w.left for w in words)} {min(w.top for w in words)} "
        f"{max(w.left + w.width for w in words)} {max(w.top + w.height for w in words)}"
    )
