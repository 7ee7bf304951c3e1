"""Reading order of detected text boxes: columns before rows, by recursive XY-cut.

A text detector (RapidOCR's) returns one box per line piece, in no layout order; reading a
two-column page top to bottom would interleave the columns. :func:`reading_order` splits the
boxes recursively at the widest empty gap, across (a horizontal band) or down (a column
gutter), whichever is wider relative to the text height, and joins the boxes that share a
row of a block into one line, left to right.

A magazine page often has no empty gutter from top to bottom: a headline, or a picture's
caption, crosses it. When a block has no empty gap either way, a gutter that only a few boxes
cross (:data:`MAX_CROSSING` of them) still splits it; the crossing boxes become a block of their
own, read before the columns when they sit above the middle of the others, after them otherwise.

Boxes are ``(left, top, right, bottom)`` in pixels. A photographed or scanned page is seldom
square to the camera: :func:`upright_boxes` turns the detector's quadrilaterals into such boxes
in the page's own frame, so that the lines of a skewed page do not overlap as upright boxes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import median

import numpy as np

Box = tuple[float, float, float, float]

MIN_GUTTER = 0.8
"""Narrowest vertical gap that separates two columns, in median text heights (ratio)."""

MAX_CROSSING = 0.1
"""Largest share of a block's boxes that may cross a gutter and still let it split (ratio)."""

MIN_SIDE = 0.15
"""Smallest share of a block's boxes on each side of a crossed gutter (ratio); fewer is a
ragged line end, not a column."""

MIN_LOOSE_BOXES = 8
"""Fewest boxes a block needs before a crossed gutter is looked for (count)."""


MIN_ELONGATION = 2.0
"""Fewest times a quadrilateral must be longer than thick for its angle to count in the page's
text angle (ratio); shorter pieces (a digit, a word of two letters) have no reliable direction."""


def upright_boxes(quads: Sequence[np.ndarray]) -> list[Box]:
    """Boxes for :func:`reading_order` from detected quadrilaterals, in the page's own frame.

    ``quads``: per piece of text, 4 corners ``(x, y)`` in px, clockwise from the top left (as
    RapidOCR's detector gives them). The page's text angle is the median direction of the
    pieces' top and bottom edges (those :data:`MIN_ELONGATION` times longer than thick); each
    piece's centre is turned by minus that angle, and its box drawn around it as long and as
    thick as the piece itself (turned upright when the piece runs across the page's lines, as a
    label written downwards). On a square page this is the quadrilaterals' bounding boxes; on
    a skewed or slightly curved one, the pieces of one line keep overlapping and those of the
    next lines stop overlapping them.
    """
    shapes = []
    for quad in quads:
        q = np.asarray(quad, dtype=float).reshape(4, 2)
        along = (q[1] - q[0] + q[2] - q[3]) / 2
        across = (q[3] - q[0] + q[2] - q[1]) / 2
        length, thickness = float(np.hypot(*along)), float(np.hypot(*across))
        shapes.append((q.mean(axis=0), length, thickness, math.atan2(along[1], along[0])))
    angles = [a for _, long, thick, a in shapes if long >= MIN_ELONGATION * thick and abs(a) < math.pi / 4]
    angle = median(angles) if angles else 0.0
    cos, sin = math.cos(angle), math.sin(angle)
    boxes = []
    for (x, y), length, thickness, own in shapes:
        cx, cy = x * cos + y * sin, y * cos - x * sin
        across = abs(math.remainder(own - angle, math.pi)) > math.pi / 4
        wide, tall = (thickness, length) if across else (length, thickness)  # a piece written downwards
        boxes.append((cx - wide / 2, cy - tall / 2, cx + wide / 2, cy + tall / 2))
    return boxes


def reading_order(boxes: Sequence[Box], *, columns: bool = True) -> list[list[list[int]]]:
    """Blocks of lines of box indices, in reading order.

    Parameters
    ----------
    boxes:
        One ``(left, top, right, bottom)`` per detected piece of text.
    columns:
        False treats the page as one block (Tesseract's psm 6): rows only, no column cuts.

    Returns
    -------
    list of blocks; a block is a list of lines; a line lists the indices of its boxes, left to right.
    """
    if not boxes:
        return []
    height = median(b[3] - b[1] for b in boxes) or 1.0
    indices = list(range(len(boxes)))
    blocks = _cut(boxes, indices, height) if columns else [indices]
    return [_rows(boxes, block) for block in blocks]


def _cut(boxes: Sequence[Box], indices: list[int], height: float) -> list[list[int]]:
    """Split ``indices`` at the widest gutter (down) or band gap (across); recurse into the parts."""
    if len(indices) <= 1:
        return [indices]
    x_gap = _widest_gap(boxes, indices, 0, 2)
    y_gap = _widest_gap(boxes, indices, 1, 3)
    if x_gap is not None and x_gap[1] >= MIN_GUTTER * height and (y_gap is None or x_gap[1] >= y_gap[1]):
        axis, at = 0, x_gap[0]
    elif y_gap is not None and y_gap[1] > 0.5 * height:
        axis, at = 1, y_gap[0]
    else:
        return _cut_crossed(boxes, indices, height)
    first = [i for i in indices if boxes[i][axis] < at]
    second = [i for i in indices if boxes[i][axis] >= at]
    return _cut(boxes, first, height) + _cut(boxes, second, height)


def _cut_crossed(boxes: Sequence[Box], indices: list[int], height: float) -> list[list[int]]:
    """Split at a gutter that few boxes cross (see the module docs), or keep ``indices`` whole."""
    split = _crossed_gutter(boxes, indices, height)
    if split is None:
        return [indices]
    left, crossing, right = split
    columns = _cut(boxes, left, height) + _cut(boxes, right, height)
    spanning = _cut(boxes, crossing, height)
    others = sorted(_centre(boxes[i]) for i in left + right)
    above = sum(_centre(boxes[i]) for i in crossing) / len(crossing) < others[len(others) // 2]
    return spanning + columns if above else columns + spanning


def _centre(box: Box) -> float:
    """The box's vertical centre (px)."""
    return (box[1] + box[3]) / 2


def _crossed_gutter(
    boxes: Sequence[Box], indices: list[int], height: float
) -> tuple[list[int], list[int], list[int]] | None:
    """``(left, crossing, right)`` for the gutter crossed by the fewest boxes, or None.

    A gutter is the gap between the boxes wholly left of a box's right edge and those wholly
    right of it; it must be :data:`MIN_GUTTER` text heights wide with :data:`MIN_SIDE` of the
    boxes on each side, and at most :data:`MAX_CROSSING` of them may cross it.
    """
    count = len(indices)
    if count < MIN_LOOSE_BOXES:
        return None
    best: tuple[tuple[int, float], tuple[list[int], list[int], list[int]]] | None = None
    for at in sorted({boxes[i][2] for i in indices}):
        left = [i for i in indices if boxes[i][2] <= at]
        right = [i for i in indices if boxes[i][0] > at]
        if min(len(left), len(right)) < MIN_SIDE * count:
            continue
        crossing = [i for i in indices if boxes[i][0] <= at < boxes[i][2]]
        if not crossing or len(crossing) > MAX_CROSSING * count:
            continue
        width = min(boxes[i][0] for i in right) - max(boxes[i][2] for i in left)
        if width < MIN_GUTTER * height:
            continue
        rank = (len(crossing), -width)
        if best is None or rank < best[0]:
            best = (rank, (left, crossing, right))
    return None if best is None else best[1]


def _widest_gap(boxes: Sequence[Box], indices: list[int], low: int, high: int) -> tuple[float, float] | None:
    """``(position, width)`` of the widest stretch along one axis covered by no box, or None."""
    spans = sorted((boxes[i][low], boxes[i][high]) for i in indices)
    best: tuple[float, float] | None = None
    reach = spans[0][1]
    for start, end in spans[1:]:
        if start > reach and (best is None or start - reach > best[1]):
            best = ((start + reach) / 2, start - reach)
        reach = max(reach, end)
    return best


def _rows(boxes: Sequence[Box], indices: list[int]) -> list[list[int]]:
    """Group a block's boxes into rows (vertical overlap over half the lower box), left to right."""
    ordered = sorted(indices, key=lambda i: (boxes[i][1] + boxes[i][3]) / 2)
    rows: list[list[int]] = []
    for i in ordered:
        top, bottom = boxes[i][1], boxes[i][3]
        if rows:
            row_top = min(boxes[j][1] for j in rows[-1])
            row_bottom = max(boxes[j][3] for j in rows[-1])
            overlap = min(bottom, row_bottom) - max(top, row_top)
            if overlap > 0.5 * min(bottom - top, row_bottom - row_top):
                rows[-1].append(i)
                continue
        rows.append([i])
    return [sorted(row, key=lambda j: boxes[j][0]) for row in rows]
