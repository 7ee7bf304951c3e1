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

Magazine and newspaper columns are often closer than that: the gutter is about one character
wide, the detector's boxes reach into it, and it may even read a line of one column and the
line beside it as one piece. Two more rules find such columns, both from where the text's
words are:

* :func:`word_gutters` finds the places where many lines have a wide gap between two words
  (wider than the page's usual word gap) and the words after them all start at one position,
  the left edge of a column; the caller splits the pieces that run across such a gutter.
* when no empty or crossed gutter splits a block, one at which most rows on its right start
  (a column's left edge, :data:`COLUMN_ALIGN`) still splits it, if the rows on both sides fill
  most of their column's width and the pieces at the gutter end and begin with whole words
  (``ends``, :func:`broken_ends`: a fold or a dark band across a page also cuts its lines at
  one place, but in the middle of words).

Boxes are ``(left, top, right, bottom)`` in pixels. A photographed or scanned page is seldom
square to the camera: :func:`upright_boxes` turns the detector's quadrilaterals into such boxes
in the page's own frame, so that the lines of a skewed page do not overlap as upright boxes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from statistics import median

import numpy as np

Box = tuple[float, float, float, float]
Span = tuple[float, float]
Ends = tuple[bool | None, bool | None]
"""Whether a piece's last and first word were cut (:func:`broken_ends`); None: cannot tell."""

MIN_GUTTER = 0.8
"""Narrowest vertical gap that separates two columns, in median text heights (ratio)."""

MAX_CROSSING = 0.1
"""Largest share of a block's boxes that may cross a gutter and still let it split (ratio)."""

MIN_SIDE = 0.15
"""Smallest share of a block's boxes on each side of a crossed gutter (ratio); fewer is a
ragged line end, not a column."""

MIN_LOOSE_BOXES = 8
"""Fewest boxes a block needs before a crossed gutter is looked for (count)."""


EDGE_TOLERANCE = 0.3
"""Farthest a line may start from a column's left edge and still be aligned with it, in median
text heights (ratio)."""

WIDE_GAP = 1.5
"""Narrowest gap between two words of a piece that may be a column gutter, in the page's median
gap between words (ratio; at least :data:`EDGE_TOLERANCE` text heights)."""

GUTTER_ALIGN = 0.75
"""Smallest share of the lines just right of a gutter found between words that must start at
its edge (ratio): the lines of a column start at one position, the pieces a stain or a fold
leaves do not."""

COLUMN_TOLERANCE = 0.5
"""Farthest a box may reach past a column edge with no empty strip before it, or start from
it, and still be beside it or aligned with it, in median text heights (ratio; the detector's
boxes are a little wider than their text)."""

COLUMN_ALIGN = 0.5
"""Smallest share of the rows right of a column edge with no empty strip before it that must
start at it (ratio; the others are indented paragraphs, headings, captions)."""

MIN_GUTTER_LINES = 4
"""Fewest lines that must start at a gutter found between words (count)."""

MAX_CUT_WORDS = 0.1
"""Largest share of the pieces beside a gutter without an empty strip that may end or begin
in the middle of a word (ratio; see :func:`broken_ends`)."""

MIN_COLUMN_FILL = 0.6
"""Smallest median width of a column's rows, in the column's width (ratio): a column of text
is filled, a row of labels beside their values is not."""

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


def word_gutters(boxes: Sequence[Box], spans: Sequence[Sequence[Span] | None], height: float) -> list[float]:
    """Positions (px, in the boxes' frame) of column gutters found between words.

    ``spans``: per box, its words' ``(left, right)`` in the same frame, left to right (None
    when unknown: the box counts as one word). A gap between two words of a piece is wide when
    it is :data:`WIDE_GAP` times the page's median gap between words (and at least
    :data:`EDGE_TOLERANCE` text heights). Where the words after wide gaps start at one
    position, the lines starting there (after a wide gap, or as a box of their own) are at
    least :data:`MIN_GUTTER_LINES`, :data:`GUTTER_ALIGN` of the lines with text in the next 4
    text heights start there, a quarter of the boxes across the position have a gap there,
    and a word runs across it in at most 15 % of those boxes and the boxes starting there,
    the position just before those words is a gutter: the caller splits the pieces there
    (:func:`split_at`).
    """
    tol = EDGE_TOLERANCE * height
    words = [list(s) if s else [(b[0], b[2])] for b, s in zip(boxes, spans, strict=True)]
    gaps = [w[k][0] - w[k - 1][1] for w in words for k in range(1, len(w))]
    if not gaps:
        return []
    wide = max(tol, WIDE_GAP * median(gaps))
    starts = sorted(w[k][0] for w in words for k in range(1, len(w)) if w[k][0] - w[k - 1][1] >= wide)
    found: list[float] = []
    for x in starts:
        if any(abs(x - f) < 2 * tol for f in found):
            continue
        near = [s for s in starts if abs(s - x) <= tol]
        edge = median(near)
        starting = sum(abs(b[0] - edge) <= tol for b in boxes)
        if len(near) < 2 or len(near) + starting < MIN_GUTTER_LINES:
            continue
        at = edge - tol / 2
        firsts = [next((a for a, _ in w if a >= at - tol), None) for w in words]
        nearby = [a for a in firsts if a is not None and a <= at + 4 * height]
        if sum(abs(a - edge) <= tol for a in nearby) < GUTTER_ALIGN * len(nearby):
            continue
        across = [w for b, w in zip(boxes, words, strict=True) if b[0] < at - tol and b[2] > at + tol]
        blocked = [w for w in across if any(a < at - tol and b > at + tol for a, b in w)]
        if len(across) - len(blocked) < 0.25 * len(across) or len(blocked) > 0.15 * (len(across) + starting):
            continue
        found.append(at)
    return found


def split_at(spans: Sequence[Span], gutters: Sequence[float], height: float) -> list[int]:
    """Indices of the words of one piece that begin a new piece: those after a gap at a gutter."""
    tol = EDGE_TOLERANCE * height
    return [
        k
        for k in range(1, len(spans))
        if any(spans[k - 1][1] <= at + tol and spans[k][0] >= at - tol for at in gutters)
    ]


_LETTERS = re.compile(r"[^\W\d_]+")


def broken_ends(text: str, known: frozenset[str]) -> Ends:
    """Whether the last and the first word of a piece's ``text`` were cut, by the word list ``known``
    (lower case): a run of 3 letters or more that is no word was cut; a last word ending in a
    hyphen was not (it goes on in the next line); shorter runs, or no list, cannot tell (None)."""
    runs = _LETTERS.findall(text)
    if not runs or not known:
        return None, None

    def cut(run: str) -> bool | None:
        return None if len(run) < 3 else run.lower() not in known

    last = False if text.rstrip().endswith("-") and len(runs[-1]) >= 3 else cut(runs[-1])
    return last, cut(runs[0])


def reading_order(
    boxes: Sequence[Box], *, columns: bool = True, ends: Sequence[Ends] | None = None
) -> list[list[list[int]]]:
    """Blocks of lines of box indices, in reading order.

    Parameters
    ----------
    boxes:
        One ``(left, top, right, bottom)`` per detected piece of text.
    columns:
        False treats the page as one block (Tesseract's psm 6): rows only, no column cuts.
    ends:
        Per box, whether its text's last and first word were cut (:func:`broken_ends`); without
        them only empty or crossed gutters split columns (see the module docs).

    Returns
    -------
    list of blocks; a block is a list of lines; a line lists the indices of its boxes, left to right.
    """
    if not boxes:
        return []
    height = median(b[3] - b[1] for b in boxes) or 1.0
    indices = list(range(len(boxes)))
    blocks = _cut(boxes, indices, height, ends) if columns else [indices]
    return [_rows(boxes, block) for block in blocks]


def _cut(
    boxes: Sequence[Box], indices: list[int], height: float, ends: Sequence[Ends] | None
) -> list[list[int]]:
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
        return _cut_crossed(boxes, indices, height, ends)
    first = [i for i in indices if boxes[i][axis] < at]
    second = [i for i in indices if boxes[i][axis] >= at]
    return _cut(boxes, first, height, ends) + _cut(boxes, second, height, ends)


def _cut_crossed(
    boxes: Sequence[Box], indices: list[int], height: float, ends: Sequence[Ends] | None
) -> list[list[int]]:
    """Split at a gutter that few boxes cross, or at a column's aligned edge (see the module
    docs), or keep ``indices`` whole."""
    split = _crossed_gutter(boxes, indices, height) or _aligned_gutter(boxes, indices, height, ends)
    if split is None:
        return [indices]
    left, crossing, right = split
    columns = _cut(boxes, left, height, ends) + _cut(boxes, right, height, ends)
    if not crossing:
        return columns
    spanning = _cut(boxes, crossing, height, ends)
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


def _aligned_gutter(
    boxes: Sequence[Box], indices: list[int], height: float, ends: Sequence[Ends] | None
) -> tuple[list[int], list[int], list[int]] | None:
    """``(left, crossing, right)`` at a column's left edge with no empty strip before it, or None.

    Tried at each box's left edge ``x``: the boxes ending by ``x`` (within
    :data:`COLUMN_TOLERANCE` text heights) are left of it, those starting there or after it are
    right of it. It splits when at most :data:`MAX_CROSSING` of the rows have a box across it,
    both sides have 3 rows and :data:`MIN_SIDE` of the boxes, :data:`COLUMN_ALIGN` of the rows
    on the right start at ``x``, the rows of both sides fill :data:`MIN_COLUMN_FILL` of their
    side's width, and at most :data:`MAX_CUT_WORDS` of the pieces' ends facing it were cut
    words (``ends``; without them it never splits). Of several, the one crossed by the fewest
    boxes, then with the most rows starting at it.
    """
    count = len(indices)
    if ends is None or count < MIN_LOOSE_BOXES or all(ends[i] == (None, None) for i in indices):
        return None
    tol = COLUMN_TOLERANCE * height
    rows = _rows(boxes, indices)
    best: tuple[tuple[int, int], tuple[list[int], list[int], list[int]]] | None = None
    for x in sorted({boxes[i][0] for i in indices}):
        on_right = {i for i in indices if boxes[i][0] >= x - tol and boxes[i][0] + boxes[i][2] > 2 * x}
        on_left = {i for i in indices if boxes[i][2] <= x + tol and i not in on_right}
        if min(len(on_left), len(on_right)) < MIN_SIDE * count:
            continue
        crossing = [i for i in indices if i not in on_right and i not in on_left]
        across = set(crossing)
        if sum(any(i in across for i in row) for row in rows) > MAX_CROSSING * len(rows):
            continue
        left = [i for i in indices if i in on_left]
        right = [i for i in indices if i in on_right]
        left_rows, right_rows = _rows(boxes, left), _rows(boxes, right)
        if min(len(left_rows), len(right_rows)) < 3:
            continue
        aligned = sum(abs(boxes[row[0]][0] - x) <= tol for row in right_rows)
        if aligned < COLUMN_ALIGN * len(right_rows):
            continue
        if not (_filled(boxes, left_rows) and _filled(boxes, right_rows)):
            continue
        cut = [ends[i][0] for i in left] + [ends[i][1] for i in right]
        told = [c for c in cut if c is not None]
        if not told or sum(told) > MAX_CUT_WORDS * len(told):
            continue
        rank = (len(crossing), -aligned)
        if best is None or rank < best[0]:
            best = (rank, (left, crossing, right))
    return None if best is None else best[1]


def _filled(boxes: Sequence[Box], rows: list[list[int]]) -> bool:
    """True when the median row spans :data:`MIN_COLUMN_FILL` of the rows' whole width."""
    lo = min(boxes[row[0]][0] for row in rows)
    hi = max(boxes[i][2] for row in rows for i in row)
    widths = [max(boxes[i][2] for i in row) - boxes[row[0]][0] for row in rows]
    return median(widths) >= MIN_COLUMN_FILL * (hi - lo)


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
