"""Pure image helpers for display: previews, the removed-pixels overlay, OCR word boxes.

Every function takes uint8 gray (H, W) or BGR (H, W, 3) arrays, as the pipeline produces,
and returns **RGB** (or gray) arrays ready for the browser. Nothing here calls Streamlit.

Previews keep the browser fast: the studio never sends a full-resolution image on a rerun,
only a copy whose longest side is at most :data:`PREVIEW_SIDE` pixels, encoded once per
distinct array (see :class:`PreviewCache`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

import cv2
import numpy as np

from pipeline.cache import BoundedCache
from pipeline.image_conventions import INK_LEVEL
from pipeline.stages._image import to_gray

V = TypeVar("V")

PREVIEW_SIDE = 900
"""Longest side, in pixels, of the images shown in the stage grid."""

COMPARE_SIDE = 1400
"""Longest side, in pixels, of the images in the larger compare view (Streamlit itself
re-encodes images wider than 1460 px, which costs time on every rerun)."""

REMOVED_RGB = (230, 20, 20)
"""Colour of removed pixels in the overlay (RGB)."""


# ------------------------------------------------------------------------------------ basics


def rgb_of(image: np.ndarray) -> np.ndarray:
    """3-channel RGB version of a gray or BGR image."""
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


WHOLE_FACTOR_FILL = 0.75
"""A preview may be this much smaller than its longest-side limit when that lets it shrink by a
whole factor (block averages: about 20x faster than a fractional area resize, 0.2 ms against
5 ms for a 2 MP page)."""


def _whole_factor(shape: tuple[int, ...], max_side: int) -> int:
    """The whole factor a preview of an image of ``shape`` shrinks by, or 0 for a fractional one."""
    longest = max(shape[0], shape[1])
    factor = -(-longest // max_side)  # the smallest whole factor that fits
    return factor if longest // factor >= WHOLE_FACTOR_FILL * max_side else 0


def preview_scale(shape: tuple[int, ...], max_side: int = PREVIEW_SIDE) -> float:
    """Factor (<= 1) from an image of ``shape`` to its preview, whose longest side is at most
    ``max_side`` (see :func:`downscale`)."""
    longest = max(shape[0], shape[1])
    if longest <= max_side:
        return 1.0
    factor = _whole_factor(shape, max_side)
    return 1.0 / factor if factor else max_side / longest


def downscale(image: np.ndarray, max_side: int = PREVIEW_SIDE) -> np.ndarray:
    """The image shrunk (area interpolation) so its longest side is at most ``max_side`` px.

    When a whole factor brings it to at least :data:`WHOLE_FACTOR_FILL` of ``max_side``, it
    shrinks by that factor (the last rows and columns that do not fill a block, fewer than the
    factor, are left out); else to exactly ``max_side``. Images already small enough are
    returned unchanged (the same array); images are never enlarged. Channels and dtype are kept.
    """
    scale = preview_scale(image.shape, max_side)
    if scale >= 1.0:
        return image
    h, w = image.shape[:2]
    factor = _whole_factor(image.shape, max_side)
    if factor:
        image = image[: h - h % factor, : w - w % factor]
        size = (w // factor, h // factor)
    else:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def is_binary(image: np.ndarray) -> bool:
    """True when every pixel of a gray image is 0 or 255 (colour images are never binary)."""
    if image.ndim != 2:
        return False
    return bool(((image == 0) | (image == 255)).all())


def encode_preview(image: np.ndarray, max_side: int = PREVIEW_SIDE) -> bytes:
    """A browser-ready preview of a pipeline image (gray or BGR), as PNG or JPEG bytes.

    Binary images (judged at full resolution: shrinking adds gray edges) and small gray images
    are PNG, crisp and small; photographs are JPEG (quality 90), several times faster to
    encode and send than PNG at this size.
    """
    small = downscale(image, max_side)
    if small.ndim == 2 and (small.size <= 200_000 or is_binary(image)):
        ok, buf = cv2.imencode(".png", small, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    elif small.ndim == 2:
        ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 90])
    else:  # BGR, as OpenCV encodes it
        ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:  # pragma: no cover - OpenCV encodes every uint8 gray/BGR image
        raise ValueError("could not encode the preview")
    return buf.tobytes()


def image_format(data: bytes) -> str:
    """``"PNG"`` or ``"JPEG"``: the format of encoded image bytes (what ``st.image`` must be told,
    or it decodes and re-encodes them on every rerun)."""
    return "PNG" if data[:8] == b"\x89PNG\r\n\x1a\n" else "JPEG"


def encode_rgb(image: np.ndarray) -> bytes:
    """PNG bytes of an RGB (or gray) array already at display size (overlays)."""
    bgr = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:  # pragma: no cover
        raise ValueError("could not encode the image")
    return buf.tobytes()


# ------------------------------------------------------------------------ removed pixels


def removed_mask(before: np.ndarray, after: np.ndarray, ink_level: int = INK_LEVEL) -> np.ndarray | None:
    """Boolean mask of the pixels that were ink in ``before`` and are not ink in ``after``.

    Ink is a luma below ``ink_level`` (dark text on light paper, as Tesseract wants it).
    ``None`` when the two images differ in size (a geometry stage in between): pixels no
    longer correspond.
    """
    if before.shape[:2] != after.shape[:2]:
        return None
    return (to_gray(before) < ink_level) & (to_gray(after) >= ink_level)


def removed_overlay(
    before: np.ndarray,
    after: np.ndarray,
    max_side: int = PREVIEW_SIDE,
    colour: tuple[int, int, int] = REMOVED_RGB,
) -> tuple[np.ndarray, int] | None:
    """``after`` as an RGB preview with the pixels it removed from ``before`` painted ``colour``.

    The mask is computed at full resolution and then shrunk so that a removed speck smaller
    than a preview pixel still shows: any preview pixel covering at least one removed pixel
    is painted. Returns ``(rgb_preview, removed_pixel_count)``, or ``None`` when the images
    differ in size.
    """
    mask = removed_mask(before, after)
    if mask is None:
        return None
    count = int(np.count_nonzero(mask))
    base = rgb_of(downscale(after, max_side))
    if count:
        small = downscale(mask.astype(np.uint8) * 255, max_side)
        if small.shape[:2] != base.shape[:2]:  # pragma: no cover - same size in, same size out
            small = cv2.resize(small, (base.shape[1], base.shape[0]), interpolation=cv2.INTER_NEAREST)
        base[small > 0] = colour
    return base, count


# ------------------------------------------------------------------------------ word boxes


def confidence_rgb(conf: float) -> tuple[int, int, int]:
    """Colour of a word of confidence ``conf`` (0..100): red (low) through yellow to green (high)."""
    t = min(max(float(conf) / 100.0, 0.0), 1.0) if conf == conf else 0.0  # NaN -> 0
    if t < 0.5:  # red (220, 30, 30) -> yellow (230, 190, 0)
        u = t / 0.5
        return round(220 + 10 * u), round(30 + 160 * u), round(30 - 30 * u)
    u = (t - 0.5) / 0.5  # yellow -> green (20, 160, 40)
    return round(230 - 210 * u), round(190 - 30 * u), round(0 + 40 * u)


def word_boxes(image: np.ndarray, words: Iterable[Any], max_side: int = PREVIEW_SIDE) -> np.ndarray:
    """RGB preview of ``image`` with a rectangle around every word, coloured by its confidence.

    ``words`` are objects with ``left, top, width, height, conf`` in the pixel coordinates of
    ``image`` (``pipeline.ocr`` words). Boxes are drawn on the preview, scaled, 2 px wide, so
    they stay visible however large the image is.
    """
    scale = preview_scale(image.shape, max_side)
    out = rgb_of(downscale(image, max_side)).copy()
    h, w = out.shape[:2]
    for word in words:
        x0 = int(np.floor(word.left * scale))
        y0 = int(np.floor(word.top * scale))
        x1 = int(np.ceil((word.left + word.width) * scale))
        y1 = int(np.ceil((word.top + word.height) * scale))
        x0, y0 = min(max(x0 - 1, 0), w - 1), min(max(y0 - 1, 0), h - 1)
        x1, y1 = min(max(x1, 0), w - 1), min(max(y1, 0), h - 1)
        cv2.rectangle(out, (x0, y0), (x1, y1), confidence_rgb(word.conf), 2)
    return out


# ------------------------------------------------------------------------- preview cache


class PreviewCache(Generic[V]):
    """Bounded cache of display values (bytes, digests) keyed by the *identity* of their source arrays.

    The runner hands back the very same (read-only) array objects for stages served from its
    cache, so a rerun after a slider move finds every unchanged stage here in O(1) without
    hashing megabytes of pixels. Each entry keeps weak references to its source arrays and is
    valid only while they are alive and the same objects, so a recycled ``id()`` never
    returns a stale image.
    """

    def __init__(self, max_entries: int = 128) -> None:
        self._cache: BoundedCache[tuple[tuple[weakref.ref, ...], V]] = BoundedCache(max_entries=max_entries)

    def get_or_make(self, arrays: tuple[np.ndarray, ...], tag: Hashable, make: Callable[[], V]) -> V:
        """The value cached for (``arrays``, ``tag``), computing it with ``make`` on a miss."""
        key = (tuple(id(a) for a in arrays), tag)
        hit = self._cache.get(key)
        if hit is not None and all(ref() is a for ref, a in zip(hit[0], arrays, strict=True)):
            return hit[1]
        value = make()
        self._cache.put(key, (tuple(weakref.ref(a) for a in arrays), value))
        return value

    def __len__(self) -> int:
        return len(self._cache)


PREVIEWS: PreviewCache[Any] = PreviewCache()
"""The process-wide preview cache used by the studio."""

DIGESTS: PreviewCache[str] = PreviewCache(max_entries=256)
"""Content digests of full-resolution images, by identity (OCR cache keys)."""


def preview_bytes(image: np.ndarray, max_side: int = PREVIEW_SIDE) -> bytes:
    """Encoded preview of ``image`` (see :func:`encode_preview`), cached by array identity."""
    return PREVIEWS.get_or_make((image,), ("preview", max_side), lambda: encode_preview(image, max_side))
