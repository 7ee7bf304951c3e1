"""Searchable PDFs: the text layer reads back, in place, in any script; pages render and join."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest

from pipeline.batch.pdf import Page, searchable_pdf
from pipeline.batch.pdfpages import count_pages, join, render_page
from pipeline.errors import ImageError
from pipeline.ocr.result import Word


def text_of(path: Path) -> list[str]:
    document = pdfium.PdfDocument(str(path))
    return [page.get_textpage().get_text_range() for page in document]


def gray_page(width: int = 400, height: int = 200) -> np.ndarray:
    image = np.full((height, width), 255, np.uint8)
    image[50:60, 40:360] = 0
    return image


def test_words_come_back_from_the_text_layer_where_they_were(tmp_path: Path) -> None:
    words = [
        Word("Größe", 95.0, left=40, top=40, width=120, height=30, word=1),
        Word("ſchön", 90.0, left=180, top=40, width=110, height=30, word=2),
        Word("€5", 80.0, left=40, top=120, width=60, height=30, line=2),
    ]
    path = tmp_path / "p.pdf"
    path.write_bytes(searchable_pdf([Page(gray_page(), 200.0, words)]))
    document = pdfium.PdfDocument(str(path))
    page = document[0]
    assert page.get_size() == pytest.approx((400 * 72 / 200, 200 * 72 / 200))
    text = page.get_textpage()
    content = text.get_text_range()
    for word in ("Größe", "ſchön", "€5"):
        assert word in content
    left, bottom, _right, top = text.get_charbox(content.index("G"))
    assert left == pytest.approx(40 * 72 / 200, abs=1.0)
    assert (200 - 70) * 72 / 200 - 1 <= bottom < top <= (200 - 40) * 72 / 200 + 1  # inside the box (y up)
    end = text.get_charbox(content.index("e"))[2]  # last letter of Größe: the word's right edge
    assert end == pytest.approx((40 + 120) * 72 / 200, abs=1.5)


def test_more_than_255_different_characters_use_several_fonts(tmp_path: Path) -> None:
    alphabet = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 300))  # 300 CJK ideographs
    words = [Word(alphabet[i : i + 30], 90.0, 10, 10 + 20 * i // 30, 380, 18) for i in range(0, 300, 30)]
    path = tmp_path / "cjk.pdf"
    data = searchable_pdf([Page(gray_page(), 300.0, words)])
    assert data.count(b"/BaseFont /Courier") == 2
    path.write_bytes(data)
    content = "".join(text_of(path)[0].split())
    assert content == alphabet


def test_words_read_from_a_scaled_image_are_scaled_back(tmp_path: Path) -> None:
    word = Word("scaled", 90.0, left=80, top=80, width=200, height=60)  # in a 2x larger image
    path = tmp_path / "s.pdf"
    path.write_bytes(searchable_pdf([Page(gray_page(), 72.0, [word], ocr_size=(800, 400))]))
    text = pdfium.PdfDocument(str(path))[0].get_textpage()
    left, bottom, _right, top = text.get_charbox(0)
    assert left == pytest.approx(40, abs=1.0)
    assert 200 - 70 - 1 <= bottom < top <= 200 - 40 + 1


def test_colour_pages_render_back_and_join(tmp_path: Path) -> None:
    colour = np.zeros((120, 160, 3), np.uint8)
    colour[:, :, 2] = 200  # red in BGR
    colour[40:80, 40:120] = (255, 255, 255)
    one, two = tmp_path / "1.pdf", tmp_path / "2.pdf"
    one.write_bytes(searchable_pdf([Page(colour, 100.0, [Word("first", 90, 40, 40, 80, 40)])]))
    two.write_bytes(searchable_pdf([Page(gray_page(), 100.0, [Word("second", 90, 40, 40, 100, 20)])]))
    rendered = render_page(one, 1, dpi=100.0)
    assert abs(rendered.shape[0] - 120) <= 1 and abs(rendered.shape[1] - 160) <= 1 and rendered.shape[2] == 3
    assert np.abs(rendered[:119, :159].astype(int) - colour[:119, :159].astype(int)).mean() < 3
    assert tuple(rendered[10, 10]) == (0, 0, 200) and tuple(rendered[60, 80]) == (255, 255, 255)  # BGR
    both = tmp_path / "both.pdf"
    both.write_bytes(join([one, two]))
    assert count_pages(both) == 2
    assert [t.strip() for t in text_of(both)] == ["first", "second"]


def test_unreadable_pdfs_and_missing_pages_are_image_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\nnot really")
    with pytest.raises(ImageError, match="cannot be read as a PDF"):
        count_pages(bad)
    with pytest.raises(ImageError, match="no such file"):
        count_pages(tmp_path / "missing.pdf")
    good = tmp_path / "good.pdf"
    good.write_bytes(searchable_pdf([Page(gray_page(), 100.0)]))
    with pytest.raises(ImageError, match="page 3 does not exist"):
        render_page(good, 3)
    with pytest.raises(ValueError, match="at least one page"):
        searchable_pdf([])
