"""Reading order of detected boxes (:mod:`pipeline.ocr.layout`): columns, rows, crossed gutters."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.auto import read, shipped_preset
from pipeline.imageio import read_image
from pipeline.metrics import cer
from pipeline.ocr.layout import Box, reading_order, upright_boxes

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
