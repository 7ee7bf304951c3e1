"""Reading images the way users have them: odd modes, EXIF rotation, pages, limits.

Everything is read with Pillow (broad format support, EXIF, multi-page) and returned as the
array the stages expect: uint8 gray (H, W) for gray images, uint8 BGR (H, W, 3) for colour.
Alpha is flattened on white; 16-bit images are scaled to 8 bit; palette and 1-bit images are
expanded; CMYK is converted to RGB.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from . import limits
from .errors import ImageError, read_user_file
from .image_conventions import flatten_alpha

MAX_PIXELS = limits.IMAGE_PIXELS.get_int()
"""Largest image accepted, in pixels (width x height); env ``CLARITY_MAX_PIXELS`` changes it."""

SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif", ".pbm", ".pgm", ".ppm")
"""File name endings read as images by the CLI."""

FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "WEBP", "GIF", "PPM")


def read_image(source: str | Path | bytes, *, page: int = 0, name: str | None = None) -> np.ndarray:
    """Read one page of an image file as uint8 gray (H, W) or BGR (H, W, 3).

    Parameters
    ----------
    source:
        A path, or the file's bytes (an upload).
    page:
        0-based page of a multi-page TIFF or frame of an animated GIF.
    name:
        What to call the file in error messages (defaults to the path).

    Raises
    ------
    ImageError
        The file is missing, empty, truncated, not an image, an unsupported format, larger than
        :data:`MAX_PIXELS`, or has no such page. The message names the file and says what to do.
    """
    label = name or (str(source) if not isinstance(source, bytes) else "upload")
    with _open(source, label) as img:
        n = _n_frames(img, label)
        if not 0 <= page < n:
            raise ImageError(f"{label}: has {n} page(s); page {page + 1} does not exist")
        what = f"page {page + 1}" if n > 1 else "the image"
        with _decoding(label, what):
            img.seek(page)
            _check_size(img, label, what)
            frame = ImageOps.exif_transpose(img) if page == 0 else img.copy()
            return _to_array(frame)


def count_pages(source: str | Path | bytes, *, name: str | None = None) -> int:
    """Number of pages (TIFF) or frames (GIF) in an image file; 1 for single images."""
    label = name or (str(source) if not isinstance(source, bytes) else "upload")
    with _open(source, label) as img:
        return _n_frames(img, label)


def _n_frames(img: Image.Image, label: str) -> int:
    with _decoding(label, "a page of the file"):  # counting GIF frames reads every frame's header
        return getattr(img, "n_frames", 1)


@contextlib.contextmanager
def _decoding(label: str, what: str) -> Iterator[None]:
    """Pillow's errors while seeking and decoding, as one :class:`ImageError` line."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(_too_large(label, what, None)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"{label}: the image data is damaged or truncated ({exc}); re-export it") from None


def _open(source: str | Path | bytes, label: str) -> Image.Image:
    data = source if isinstance(source, bytes) else read_user_file(source, ImageError, "an image")
    if not data:
        raise ImageError(f"{label}: the file is empty (0 bytes)")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=FORMATS)
            _check_size(img, label, "the image")
            _check_plausible(img, len(data), label)
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(_too_large(label, "the image", None)) from None
    except UnidentifiedImageError:
        head = data[:5]
        what = "a PDF" if head.startswith(b"%PDF") else "not an image Clarity can read"
        raise ImageError(
            f"{label}: {what}; use PNG, JPEG, TIFF, BMP, WebP or GIF (convert PDFs to images first)"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{label}: the image data is damaged or truncated ({exc}); re-export it") from None
    return img


JPEG_MAX_PIXELS_PER_BYTE = 1024
"""Most pixels a JPEG may claim per byte of file. Real JPEGs of a flat page need at least one byte
per ~256 pixels (a few bits per 8x8 block); a file claiming far more is damaged or forged, and
is refused before the decoder would fill the missing data with gray."""


def _too_large(label: str, what: str, size: tuple[int, int] | None) -> str:
    shown = f" ({size[0]} x {size[1]} = {size[0] * size[1]:,} pixels)" if size else ""
    return (
        f"{label}: {what} is too large{shown}; at most {MAX_PIXELS:,} pixels per image, page or frame "
        "are accepted (set CLARITY_MAX_PIXELS to change the limit, or downscale the image)"
    )


def _check_size(img: Image.Image, label: str, what: str) -> None:
    """Refuse a page or frame above :data:`MAX_PIXELS` before it is decoded."""
    w, h = img.size
    if w * h > MAX_PIXELS:
        raise ImageError(_too_large(label, what, (w, h)))


def _check_plausible(img: Image.Image, nbytes: int, label: str) -> None:
    """Refuse a JPEG far too small for the pixels it claims (:data:`JPEG_MAX_PIXELS_PER_BYTE`)."""
    w, h = img.size
    if img.format == "JPEG" and w * h > nbytes * JPEG_MAX_PIXELS_PER_BYTE:
        raise ImageError(
            f"{label}: the image data is damaged or truncated ({nbytes:,} bytes cannot hold the "
            f"{w} x {h} pixels the file claims); re-export it"
        )


def _to_array(img: Image.Image) -> np.ndarray:
    """Pillow image of any mode to uint8 gray or BGR."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or arr.max() > 255 else 255.0
        return np.clip(arr * (255.0 / top) + 0.5, 0, 255).astype(np.uint8)
    if mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        top = 1.0 if arr.max() <= 1.0 else 255.0
        return np.clip(arr * (255.0 / top), 0, 255).astype(np.uint8)
    if mode == "P":
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode in ("1", "L"):
        return np.asarray(img.convert("L"), dtype=np.uint8).copy()
    if mode in ("LA", "La", "PA"):
        return flatten_alpha(np.asarray(img.convert("LA"), dtype=np.uint8))[..., 0]
    if mode in ("RGBA", "RGBa"):
        return cv2.cvtColor(flatten_alpha(np.asarray(img.convert("RGBA"), dtype=np.uint8)), cv2.COLOR_RGB2BGR)
    rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def write_image(path: str | Path, image: np.ndarray) -> None:
    """Write a uint8 gray or BGR image; the format follows the file ending (PNG advised)."""
    ok, buf = cv2.imencode(Path(path).suffix or ".png", image)
    if not ok:
        raise ImageError(f"{path}: cannot encode the image in this format")
    Path(path).write_bytes(buf.tobytes())
