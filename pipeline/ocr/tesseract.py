"""What the two Tesseract engines (tesserocr, pytesseract) share: the image they are given and
which page segmentation modes need orientation detection.

Kept apart from :mod:`pipeline.ocr.engine`, which creates the engines, so that the engine
modules never import the module that imports them.
"""

from __future__ import annotations

import numpy as np

from ..errors import ImageError
from .options import OcrOptions


def prepare_image(image: np.ndarray) -> np.ndarray:
    """The image as Tesseract wants it: C-contiguous uint8, gray ``(H, W)`` or RGB ``(H, W, 3)``.

    Accepts uint8 gray, ``(H, W, 1)``, BGR and BGRA (OpenCV's channel order; alpha is
    composited onto white as transparent regions are paper), and boolean masks (True = white).

    Raises
    ------
    ImageError
        For other dtypes or shapes and for empty images.
    """
    array = np.asarray(image)
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    if array.dtype != np.uint8:
        raise ImageError(f"OCR needs an 8-bit image (uint8), got dtype {array.dtype}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 3 and array.shape[2] == 4:
        alpha = array[:, :, 3:4].astype(np.uint16)
        array = ((array[:, :, :3] * alpha + 255 * (255 - alpha)) // 255).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 3:
        array = array[:, :, ::-1]  # BGR -> RGB
    elif array.ndim != 2:
        raise ImageError(f"OCR needs a gray (H, W) or colour (H, W, 3) image, got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageError(f"cannot read text in an empty image ({array.shape[1]} x {array.shape[0]} pixels)")
    return np.ascontiguousarray(array)


def needs_osd(options: OcrOptions) -> bool:
    """True for the page segmentation modes that run orientation and script detection (0, 1, 12)."""
    return options.psm in (0, 1, 12)
