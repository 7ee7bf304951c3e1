"""What the two Tesseract engines (tesserocr, pytesseract) share: the image they are given and
which page segmentation modes need orientation detection.

Kept apart from :mod:`pipeline.ocr.engine`, which creates the engines, so that the engine
modules never import the module that imports them.
"""

from __future__ import annotations

import numpy as np

from ..errors import ImageError
from ..image_conventions import gray_or_bgr
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
    array = gray_or_bgr(image, ImageError, what="the image to read")
    if array.ndim == 3:
        array = array[:, :, ::-1]  # BGR -> RGB
    return np.ascontiguousarray(array)


def needs_osd(options: OcrOptions) -> bool:
    """True for the page segmentation modes that run orientation and script detection (0, 1, 12)."""
    return options.psm in (0, 1, 12)
