"""Background stages: separate text from a plain or coloured background by colour distance.

Captchas print their glyphs in any colour on any background, light or dark. Measuring how far
each pixel's colour lies from the background colour (sampled on the image's border) gives one
gray image in which the text is dark and the background white, whatever the two colours are.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
from pydantic import Field

from ..params import StageParams, number
from ..registry import register
from ._image import frame_pixels


class BackgroundDistanceParams(StageParams):
    border: int = Field(
        3, ge=1, le=500, description="Width of the image frame the background colour is sampled from (px)."
    )
    space: Literal["lab", "bgr"] = Field(
        "lab",
        description="Colour space distances are measured in: lab (close to perceived difference) or bgr.",
    )
    percentile: float = number(
        99.5,
        50.0,
        100.0,
        "Distance mapped to black: this percentile of all distances; farther pixels are clipped (percent).",
        step=0.5,
    )


def _background_colour(pixels: np.ndarray, border: int) -> np.ndarray:
    """Per-channel median of the pixels in a frame ``border`` px wide (of all pixels if thinner)."""
    return np.median(frame_pixels(pixels, border).reshape(-1, pixels.shape[2]), axis=0)


@register("background_distance", category="colour", returns="gray")
def background_distance(image: np.ndarray, p: BackgroundDistanceParams) -> np.ndarray:
    """Make pixels dark by how far their colour is from the background's: text dark on white.

    The background colour is the per-channel median of the frame ``border`` px wide around the
    image. Each pixel's Euclidean distance to it (in 8-bit Lab or BGR; plain difference for a
    gray image) is scaled so the ``percentile``-th distance becomes 0 (black) and zero distance
    255 (white). Dark text on light, light text on dark and coloured text on coloured
    backgrounds all come out dark on white; strokes in other colours come out dark too.
    """
    if image.ndim == 2:
        pixels = image.astype(np.float32)[:, :, None]
    elif p.space == "lab":
        pixels = cv2.cvtColor(image, cv2.COLOR_BGR2LAB).astype(np.float32)
    else:
        pixels = image.astype(np.float32)
    background = _background_colour(pixels, p.border)
    distance = np.sqrt(((pixels - background) ** 2).sum(axis=2))
    top = float(np.percentile(distance, p.percentile))
    if top <= 0:
        return np.full(image.shape[:2], 255, np.uint8)
    return (255 - np.clip(distance * (255.0 / top), 0, 255)).round().astype(np.uint8)
