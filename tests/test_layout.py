"""Reading order of detected boxes (:mod:`pipeline.ocr.layout`): columns, rows, crossed gutters,
gutters found between words."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.auto import read, shipped_preset
from pipeline.imageio import read_image
from pipeline.metrics import cer
from pipeline.ocr import rapidocr_engine
from pipeline.ocr.layout import Box, Span, broken_ends, reading_order, split_at, upright_boxes, word_gutters

HEIGHT = 20.0
DATA = Path(__file__).resolve().parent / "data"
PITCH = 28.0
"""Line pitch: the 8 px between lines is under half a text height, so no band gap cuts a page."""


def line(row: int, left: float, right: float) -> Box:
    top = row * PITCH
    return (left, top, right, top + HEIGHT)


def flatten(blocks: list[list[list[int]]]) -> list[list[int]]:
    """The lines of every block, in order."""
    return [row for block in blocks for row in block]


def test_two_clean_columns_are_read_one_after_the_other() -> None:
    boxes = [line(r, 0, 400) for r in range(6)] + [line(r, 450, 850) for r in range(6)]
    assert flatten(reading_order(boxes)) == [[i] for i in range(12)]


def test_a_caption_across_the_gutter_does_not_interleave_the_columns() -> None:
    boxes: list[Box] = []
    left, right, caption = [], [], []
    for r in range(20):
        narrow = 12 <= r < 16  # a picture between the columns, its caption crossing the gutter
        left.append(len(boxes))
        boxes.append(line(r, 0, 200 if narrow else 400))
        if narrow:
            caption.append(len(boxes))
            boxes.append(line(r, 260, 590))
        right.append(len(boxes))
        boxes.append(line(r, 650 if narrow else 450, 850))
    blocks = reading_order(boxes)
    assert flatten(blocks) == [[i] for i in left] + [[i] for i in right] + [[i] for i in caption]
    assert len(blocks) == 3


def test_a_headline_above_the_columns_is_read_first() -> None:
    headline = line(0, 300, 560)
    boxes = [headline] + [line(r, 0, 400) for r in range(1, 9)] + [line(r, 450, 850) for r in range(1, 9)]
    assert flatten(reading_order(boxes)) == [[i] for i in range(17)]


def test_ragged_lines_of_one_column_are_not_split() -> None:
    """Short last lines of paragraphs leave an empty strip on the right: not a column."""
    ends = [800, 790, 805, 300, 800, 795, 810, 250, 800, 790, 400, 805]
    boxes = [line(r, 0, end) for r, end in enumerate(ends)]
    assert reading_order(boxes) == [[[i] for i in range(len(ends))]]


def test_a_gutter_crossed_by_many_boxes_is_no_gutter() -> None:
    """Rows of a table whose cells mostly span the middle are read row by row."""
    boxes: list[Box] = []
    for r in range(10):
        if r % 2:
            boxes.append(line(r, 0, 850))
        else:
            boxes += [line(r, 0, 400), line(r, 450, 850)]
    rows = flatten(reading_order(boxes))
    assert [len(row) for row in rows] == [2 if r % 2 == 0 else 1 for r in range(10)]


def test_rows_of_one_block_join_left_to_right() -> None:
    boxes = [line(0, 300, 500), line(0, 0, 250), line(1, 0, 500)]
    assert reading_order(boxes, columns=False) == [[[1, 0], [2]]]


def close_columns() -> list[Box]:
    """Two columns of 6 rows whose gutter the detector's boxes fill: the left column's boxes reach
    5 px past the right column's left edge, so no strip between them is empty."""
    return [line(r, 0, 305) for r in range(6)] + [line(r, 300, 600) for r in range(6)]


def test_close_columns_whose_lines_end_in_words_are_read_one_after_the_other() -> None:
    boxes = close_columns()
    whole: list[tuple[bool | None, bool | None]] = [(False, False)] * len(boxes)
    assert flatten(reading_order(boxes, ends=whole)) == [[i] for i in range(12)]


def test_close_columns_are_kept_as_rows_when_their_lines_are_cut_or_unknown() -> None:
    """A fold or a dark band cuts every line at one place, in the middle of words: one block."""
    boxes = close_columns()
    rows = [[r, r + 6] for r in range(6)]
    cut: list[tuple[bool | None, bool | None]] = [(r < 6, r >= 6) for r in range(12)]
    assert flatten(reading_order(boxes, ends=cut)) == rows
    assert flatten(reading_order(boxes)) == rows  # no word list: no column without an empty strip
    unknown: list[tuple[bool | None, bool | None]] = [(None, None)] * len(boxes)
    assert flatten(reading_order(boxes, ends=unknown)) == rows


def words_at(starts: list[float], width: float = 50.0) -> list[Span]:
    return [(a, a + width) for a in starts]


def test_a_gutter_between_words_is_found_where_merged_lines_have_a_wide_aligned_gap() -> None:
    """Three lines read as one piece across the gutter (word gaps 10 px, the gutter 25 px) and
    three read as two pieces: the gutter is just before the right column's words (x = 335)."""
    merged = words_at([0, 60, 120, 180, 240]) + words_at([315, 375, 435, 495, 555])
    boxes = [line(r, 0, 605) for r in range(3)]
    spans: list[list[Span] | None] = [merged, merged, merged]
    for r in range(3, 6):
        boxes += [line(r, 0, 290), line(r, 315, 605)]
        spans += [words_at([0, 60, 120, 180, 240]), words_at([315, 375, 435, 495, 555])]
    gutters = word_gutters(boxes, spans, HEIGHT)
    assert len(gutters) == 1 and 300 < gutters[0] <= 315
    assert split_at(merged, gutters, HEIGHT) == [5]


def test_evenly_spaced_words_have_no_gutter() -> None:
    """Monospace lines: every gap is one character wide and the gaps line up from row to row."""
    row = words_at([float(60 * k) for k in range(10)])
    boxes = [line(r, 0, 590) for r in range(8)]
    assert word_gutters(boxes, [row] * 8, HEIGHT) == []


def test_ragged_starts_after_a_wide_gap_are_no_gutter() -> None:
    """A band of stain across the lines: the words after it start anywhere within 60 px."""
    boxes, spans = [], []
    for r in range(8):
        after = 320.0 + (r * 23) % 60
        boxes.append(line(r, 0, after + 250))
        spans.append(words_at([0, 60, 120, 180, 240]) + words_at([after + 60 * k for k in range(4)]))
    assert word_gutters(boxes, spans, HEIGHT) == []


def test_broken_ends_tell_cut_words_from_whole_ones() -> None:
    known = frozenset({"tenders", "for", "the", "new", "county", "explain"})
    assert broken_ends("Tenders for the coun", known) == (True, False)
    assert broken_ends("nty for the new", known) == (False, True)  # 'nty': 3 letters, no word
    assert broken_ends("for the new bo", known) == (None, False)  # 2 letters: cannot tell
    assert broken_ends("the county exp-", known) == (False, False)  # hyphenated: goes on below
    assert broken_ends("1,866.09 $45", known) == (None, None)
    assert broken_ends("Tenders for", frozenset()) == (None, None)


def test_a_page_in_two_close_columns_is_read_column_by_column(monkeypatch) -> None:
    """A generated page in two justified columns 0.6 type sizes apart (tests/data/column-page.png):
    RapidOCR's detector reads most lines of both columns as one piece."""
    page = DATA / "column-page.png"
    expected = page.with_name("column-page.gt.txt").read_text(encoding="utf-8")
    reading = read(read_image(page), shipped_preset("document"))
    assert reading.ocr.engine == "rapidocr"
    assert cer(expected, reading.ocr.text) < 0.05
    monkeypatch.setattr(rapidocr_engine, "_split_at_gutters", lambda pieces, boxes: pieces)
    monkeypatch.setattr(rapidocr_engine, "words_of", lambda lang: frozenset())
    unsplit = read(read_image(page), shipped_preset("document"))
    assert cer(expected, unsplit.ocr.text) > 0.5  # the columns interleaved, line by line


def test_magazine_page_with_a_captioned_picture_reads_column_by_column(corpus: Path) -> None:
    """A two-column page whose picture caption crosses the gutter (tesseract-test 8087)."""
    page = corpus / "tesseract-test" / "8087_054.3B.tif"
    expected = page.with_name("8087_054.3B.gt.txt").read_text(encoding="utf-8")
    reading = read(read_image(page), shipped_preset("document"))
    assert cer(expected, reading.ocr.text) < 0.1


def turned(box: Box, degrees: float) -> np.ndarray:
    """The corners of ``box`` turned about the origin, clockwise from the top left (as a detector
    gives them)."""
    left, top, right, bottom = box
    corners = np.array([(left, top), (right, top), (right, bottom), (left, bottom)], dtype=float)
    a = np.radians(degrees)
    return corners @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])


def test_upright_boxes_of_square_pieces_are_their_bounding_boxes() -> None:
    boxes = [line(0, 10, 300), line(1, 0, 250), (5.0, 70.0, 17.0, 95.0)]
    assert upright_boxes([turned(b, 0) for b in boxes]) == boxes
    downwards = np.roll(turned((400.0, 0.0, 420.0, 300.0), 0), 1, axis=0)  # its first edge runs down
    assert upright_boxes([*(turned(b, 0) for b in boxes), downwards])[-1] == (400.0, 0.0, 420.0, 300.0)


def test_lines_of_a_skewed_page_are_read_in_order() -> None:
    # Three lines of two pieces each, turned by 3 degrees: over 800 px a line climbs 42 px, more
    # than a line pitch, so upright bounding boxes of neighbouring lines overlap and interleave.
    boxes = [line(r, left, left + 395) for r in range(3) for left in (0, 405)]
    quads = [turned(b, 3) for b in boxes]
    lines = [[0, 1], [2, 3], [4, 5]]
    assert flatten(reading_order(upright_boxes(quads))) == lines
    bounding = [(q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max()) for q in quads]
    assert flatten(reading_order(bounding)) != lines  # what the page's own frame mends


def test_a_skewed_page_is_read_line_after_line() -> None:
    """A generated page turned about 2 degrees and bent (tests/data/skewed-page.png)."""
    page = DATA / "skewed-page.png"
    expected = page.with_name("skewed-page.gt.txt").read_text(encoding="utf-8")
    reading = read(read_image(page), shipped_preset("document"))
    assert reading.ocr.engine == "rapidocr"
    assert cer(expected, reading.ocr.text) < 0.05
