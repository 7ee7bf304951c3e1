"""How Clarity's images look, in one place: 8-bit gray or BGR, alpha on white, ink below 128.

Every image handed between Clarity's parts is a NumPy ``uint8`` array, gray ``(H, W)`` or
colour ``(H, W, 3)`` in OpenCV's BGR order. Transparent pixels are paper, so an alpha channel is
composited onto white (:func:`flatten_alpha`) wherever an image enters: the file reader, the
runner and the OCR engines all go through :func:`gray_or_bgr`. Ink is every pixel darker than
:data:`INK_LEVEL` (black text on white; luma for colour images).
"""

from __future__ import annotations

import numpy as np

from .errors import ClarityError

INK_LEVEL = 128
"""Gray level (0..255) below which a pixel is ink; at or above it is paper."""


def flatten_alpha(pixels: np.ndarray) -> np.ndarray:
    """Composite onto white: the last channel is alpha (0 transparent .. 255 opaque).

    Returns the other channels as uint8, each ``colour * a + 255 * (1 - a)`` rounded, with
    ``a = alpha / 255``: gray + alpha ``(H, W, 2)`` gives ``(H, W, 1)``, BGRA gives BGR.
    """
    alpha = pixels[..., -1:].astype(np.float32) / 255.0
    colour = pixels[..., :-1].astype(np.float32)
    return np.clip(colour * alpha + 255.0 * (1.0 - alpha) + 0.5, 0, 255).astype(np.uint8)


def gray_or_bgr(image: object, error: type[ClarityError], *, what: str = "the image") -> np.ndarray:
    """``image`` as uint8 gray ``(H, W)`` or BGR ``(H, W, 3)``, or ``error`` saying what is wrong.

    Accepts boolean masks (True = white), ``(H, W, 1)`` (taken as gray) and BGRA (alpha
    flattened onto white, :func:`flatten_alpha`). Other dtypes, other shapes and empty images
    raise ``error`` with a message naming ``what``.
    """
    if not isinstance(image, np.ndarray):
        raise error(
            f"{what} must be a NumPy array, got {type(image).__name__}; read files with pipeline.read_image"
        )
    array = image.astype(np.uint8) * 255 if image.dtype == bool else image
    if array.dtype != np.uint8:
        raise error(
            f"{what} must be 8-bit (uint8), got dtype {array.dtype}; read files with pipeline.read_image"
        )
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    elif array.ndim == 3 and array.shape[2] == 4:
        array = flatten_alpha(array)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 3):
        raise error(
            f"{what} has an unsupported shape {array.shape}; expected gray (H, W) or colour (H, W, 3)"
        )
    if array.size == 0:
        raise error(f"{what} is empty ({array.shape[1]} x {array.shape[0]} pixels)")
    return array
