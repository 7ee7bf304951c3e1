"""Colour stages: pick a channel or a colour band, invert, or measure the distance to the background colour.

``background_distance``: captchas print their glyphs in any colour on any background, light or
dark. Measuring how far each pixel's colour lies from the background colour (sampled on the
image's border) gives one gray image in which the text is dark and the background white,
whatever the two colours are.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import cv2
import numpy as np
from pydantic import Field

from ..params import StageParams, convention, number
from ..registry import register
from ._image import frame_pixels, to_bgr, to_gray

Channel = Literal["luma", "blue", "green", "red", "hue", "saturation", "value", "lightness", "a", "b"]


class GrayscaleParams(StageParams):
    channel: Channel = Field(
        "luma",
        description="Channel to keep: luma (perceived brightness), one BGR channel, one HSV channel "
        "(hue, saturation, value) or one Lab channel (lightness, a, b); 8-bit.",
    )


_CHANNELS: dict[str, tuple[int | None, int]] = {
    "blue": (None, 0),
    "green": (None, 1),
    "red": (None, 2),
    "hue": (cv2.COLOR_BGR2HSV, 0),
    "saturation": (cv2.COLOR_BGR2HSV, 1),
    "value": (cv2.COLOR_BGR2HSV, 2),
    "lightness": (cv2.COLOR_BGR2LAB, 0),
    "a": (cv2.COLOR_BGR2LAB, 1),
    "b": (cv2.COLOR_BGR2LAB, 2),
}


@register("grayscale", title="Gray (drop the colour)", category="colour", returns="gray")
def grayscale(image: np.ndarray, p: GrayscaleParams) -> np.ndarray:
    """Reduce the image to one 8-bit channel: luma, or a BGR, HSV or Lab channel.

    A gray input gives itself back for ``luma`` and for every colour channel choice (it has no
    colour to pick from).
    """
    if p.channel == "luma" or image.ndim == 2:
        return to_gray(image)
    conversion, index = _CHANNELS[p.channel]
    converted = to_bgr(image) if conversion is None else cv2.cvtColor(image, conversion)
    return np.ascontiguousarray(converted[:, :, index])


class InvertParams(StageParams):
    pass


@register("invert", title="Swap dark and light", category="colour", returns="same as input")
def invert(image: np.ndarray, p: InvertParams) -> np.ndarray:
    """Swap dark and light (255 - value): Tesseract wants dark text on a light background."""
    return cv2.bitwise_not(image)


# --- colour_range ------------------------------------------------------------------------------


def _band(default: int, bound: str, channel: int) -> Any:
    what = {
        0: "channel 0 (gray level; B in bgr; hue 0-179 in hsv; L in lab)",
        1: "channel 1 (G in bgr; saturation in hsv; a in lab, 128 = neutral); unused in gray",
        2: "channel 2 (R in bgr; value in hsv; b in lab, 128 = neutral); unused in gray",
    }[channel]
    return Field(
        default,
        ge=0,
        le=255,
        description=f"{bound} of {what}, inclusive, 0-255 channel value.",
        json_schema_extra={"unit": "channel value"},
    )


class ColorRangeParams(StageParams):
    space: Literal["gray", "bgr", "hsv", "lab"] = convention(
        "gray", "Colour space the band is given in (OpenCV 8-bit conventions)."
    )
    c0_min: int = _band(0, "Lower bound", 0)
    c0_max: int = _band(255, "Upper bound", 0)
    c1_min: int = _band(0, "Lower bound", 1)
    c1_max: int = _band(255, "Upper bound", 1)
    c2_min: int = _band(0, "Lower bound", 2)
    c2_max: int = _band(255, "Upper bound", 2)
    output: Literal["mask", "ink"] = convention(
        "mask", "mask: in-band pixels 255 on 0 (like cv2.inRange); ink: in-band pixels 0 on 255."
    )

    ordered: ClassVar[tuple[tuple[str, str], ...]] = (
        ("c0_min", "c0_max"),
        ("c1_min", "c1_max"),
        ("c2_min", "c2_max"),
    )


_SPACES = {"hsv": cv2.COLOR_BGR2HSV, "lab": cv2.COLOR_BGR2LAB}


@register("color_range", title="Keep one colour", category="colour", returns="binary 0/255")
def color_range(image: np.ndarray, p: ColorRangeParams) -> np.ndarray:
    """Select the pixels whose channels all lie inside a band, in gray, BGR, HSV or Lab.

    A pixel is in the band when ``cN_min <= channel N <= cN_max`` for every channel used
    (inclusive, exactly as ``cv2.inRange``). In ``gray`` only channel 0 is used and a BGR image
    is first reduced to luma; in ``bgr``, ``hsv`` and ``lab`` a gray image is first expanded to
    BGR. OpenCV's 8-bit conventions apply: HSV hue runs 0-179 (degrees / 2), saturation and
    value 0-255; Lab L is scaled to 0-255 and a, b are offset by 128 (128 = no colour). A hue
    band cannot wrap around 0 (red needs two bands, e.g. 0-10 and 170-179).

    The output is ``mask`` (in-band 255, the rest 0, like ``cv2.inRange``) or ``ink`` (in-band
    0 on 255: the selected pixels become dark text ready for OCR).
    """
    if p.space == "gray":
        mask = cv2.inRange(to_gray(image), p.c0_min, p.c0_max)
    else:
        bgr = to_bgr(image)
        converted = bgr if p.space == "bgr" else cv2.cvtColor(bgr, _SPACES[p.space])
        low = (p.c0_min, p.c1_min, p.c2_min)
        high = (p.c0_max, p.c1_max, p.c2_max)
        mask = cv2.inRange(converted, low, high)
    return cv2.bitwise_not(mask) if p.output == "ink" else mask


# --- background_distance ----------------------------------------------------------------------


class BackgroundDistanceParams(StageParams):
    border: int = Field(
        3, ge=1, le=500, description="Width of the image frame the background colour is sampled from (px)."
    )
    space: Literal["lab", "bgr"] = convention(
        "lab",
        "Colour space distances are measured in: lab (close to perceived difference) or bgr.",
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


@register("background_distance", title="Distance from the paper colour", category="colour", returns="gray")
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
