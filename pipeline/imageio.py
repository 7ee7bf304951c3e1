"""Reading images the way users have them: odd modes, EXIF rotation, pages, limits.

Everything is read with Pillow (broad format support, EXIF, multi-page) and returned as the
array the stages expect: uint8 gray (H, W) for gray images, uint8 BGR (H, W, 3) for colour.
Alpha is flattened on white; 16-bit images are scaled to 8 bit; palette and 1-bit images are
expanded; CMYK is converted to RGB.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError, read_user_file
from .image_conventions import flatten_alpha

MAX_PIXELS = int(os.environ.get("CLARITY_MAX_PIXELS", 50_000_000))
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
        n = getattr(img, "n_frames", 1)
        if not 0 <= page < n:
            raise ImageError(f"{label}: has {n} page(s); page {page + 1} does not exist")
        try:
            img.seek(page)
            frame = ImageOps.exif_transpose(img) if page == 0 else img.copy()
            return _to_array(frame)
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageError(
                f"{label}: the image data is damaged or truncated ({exc}); re-export it"
            ) from None


def count_pages(source: str | Path | bytes, *, name: str | None = None) -> int:
    """Number of pages (TIFF) or frames (GIF) in an image file; 1 for single images."""
    label = name or (str(source) if not isinstance(source, bytes) else "upload")
    with _open(source, label) as img:
        return getattr(img, "n_frames", 1)


def _open(source: str | Path | bytes, label: str) -> Image.Image:
    data = source if isinstance(source, bytes) else read_user_file(source, ImageError, "an image")
    if not data:
        raise ImageError(f"{label}: the file is empty (0 bytes)")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=FORMATS)
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            f"{label}: too large; at most {MAX_PIXELS:,} pixels are accepted (set CLARITY_MAX_PIXELS "
            "to change the limit, or downscale the image)"
        ) from None
    except UnidentifiedImageError:
        head = data[:5]
        what = "a PDF" if head.startswith(b"%PDF") else "not an image Clarity can read"
        raise ImageError(
            f"{label}: {what}; use PNG, JPEG, TIFF, BMP, WebP or GIF (convert PDFs to images first)"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{label}: the image data is damaged or truncated ({exc}); re-export it") from None
    return img


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
