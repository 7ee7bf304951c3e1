"""Colour stages: channel selection, colour bands, inversion, contrast and background."""

from __future__ import annotations

from typing import Any, Literal

import cv2
import numpy as np
from pydantic import Field, model_validator

from ..params import Odd, StageParams, number, odd_int
from ..registry import register
from ._image import fit_odd, to_bgr, to_gray, whole_image_window

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


@register("grayscale", category="colour", returns="gray")
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


@register("invert", category="colour", returns="same as input")
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
    return Field(default, ge=0, le=255, description=f"{bound} of {what}, inclusive, 0-255 channel value.")


class ColorRangeParams(StageParams):
    space: Literal["gray", "bgr", "hsv", "lab"] = Field(
        "gray", description="Colour space the band is given in (OpenCV 8-bit conventions)."
    )
    c0_min: int = _band(0, "Lower bound", 0)
    c0_max: int = _band(255, "Upper bound", 0)
    c1_min: int = _band(0, "Lower bound", 1)
    c1_max: int = _band(255, "Upper bound", 1)
    c2_min: int = _band(0, "Lower bound", 2)
    c2_max: int = _band(255, "Upper bound", 2)
    output: Literal["mask", "ink"] = Field(
        "mask", description="mask: in-band pixels 255 on 0 (like cv2.inRange); ink: in-band pixels 0 on 255."
    )

    @model_validator(mode="after")
    def _min_not_above_max(self) -> ColorRangeParams:
        for c in range(3):
            low, high = getattr(self, f"c{c}_min"), getattr(self, f"c{c}_max")
            if low > high:
                raise ValueError(f"c{c}_min ({low}) must not be greater than c{c}_max ({high})")
        return self


_SPACES = {"hsv": cv2.COLOR_BGR2HSV, "lab": cv2.COLOR_BGR2LAB}


@register("color_range", category="colour", returns="binary 0/255")
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


# --- normalize ---------------------------------------------------------------------------------


class NormalizeParams(StageParams):
    method: Literal["minmax", "clahe"] = Field(
        "minmax",
        description="minmax: stretch levels linearly to 0-255; clahe: contrast-limited adaptive "
        "histogram equalisation.",
    )
    low_percentile: float = number(
        0.0, 0.0, 49.0, "minmax: % of darkest pixels clipped to 0 before stretching, percent.", step=0.5
    )
    high_percentile: float = number(
        100.0, 51.0, 100.0, "minmax: pixels above this percentile are clipped to 255, percent.", step=0.5
    )
    clip_limit: float = number(
        2.0, 0.1, 40.0, "clahe: contrast limit, factor of a flat histogram's bin height.", step=0.1
    )
    tiles: int = Field(8, ge=1, le=64, description="clahe: tiles per side of the grid, tiles.")


def _stretch(gray: np.ndarray, low_pct: float, high_pct: float) -> np.ndarray:
    counts = np.bincount(gray.ravel(), minlength=256)
    cdf = np.cumsum(counts)
    total = cdf[-1]
    # Nearest-rank percentiles from the histogram (0 % = darkest level, 100 % = lightest).
    low = int(np.searchsorted(cdf, low_pct / 100.0 * total, side="right"))
    high = int(np.searchsorted(cdf, high_pct / 100.0 * total, side="left"))
    low, high = min(low, 255), min(high, 255)
    if high <= low:
        return gray.copy()
    levels = (np.arange(256, dtype=np.float64) - low) * (255.0 / (high - low))
    lut = np.clip(np.rint(levels), 0, 255).astype(np.uint8)
    return cv2.LUT(gray, lut)


@register("normalize", category="colour", returns="same as input")
def normalize(image: np.ndarray, p: NormalizeParams) -> np.ndarray:
    """Spread the gray levels over 0-255: linear min-max stretch or CLAHE.

    ``minmax`` maps the ``low_percentile`` level to 0 and the ``high_percentile`` level to 255,
    linearly, clipping what lies outside (percentiles by nearest rank; 0 and 100 give the
    plain minimum and maximum). An image with a single level is returned unchanged.
    ``clahe`` equalises histograms in a ``tiles`` x ``tiles`` grid, limiting contrast gain to
    ``clip_limit`` (Zuiderveld 1994, via ``cv2.createCLAHE``).

    A colour image keeps its colour: the method is applied to the lightness channel of Lab
    and the result converted back to BGR.
    """
    if p.method == "minmax":

        def apply(gray: np.ndarray) -> np.ndarray:
            return _stretch(gray, p.low_percentile, p.high_percentile)

    else:
        clahe = cv2.createCLAHE(clipLimit=p.clip_limit, tileGridSize=(p.tiles, p.tiles))

        def apply(gray: np.ndarray) -> np.ndarray:
            return clahe.apply(gray)

    if image.ndim == 2:
        return apply(image)
    lab = cv2.cvtColor(to_bgr(image), cv2.COLOR_BGR2LAB)
    lab[:, :, 0] = apply(np.ascontiguousarray(lab[:, :, 0]))
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


# --- background_flatten -------------------------------------------------------------------------


class BackgroundFlattenParams(StageParams):
    method: Literal["median", "morph"] = Field(
        "median",
        description="Background estimate: median blur, or closing (max then min filter) that "
        "removes dark text.",
    )
    size: Odd = odd_int(51, 3, 301, "Window of the background estimate, px; wider than the text strokes.")
    erase: Odd = odd_int(
        1,
        1,
        99,
        "median: first erase dark strokes narrower than this with a closing, so dense or bold text "
        "does not darken the estimate; 1 = off, px.",
    )


_ESTIMATE_MAX_PX = 31
"""Largest window run at full resolution; larger ones run on a downscaled copy."""


def _estimate_background(gray: np.ndarray, method: str, size: int, erase: int = 1) -> np.ndarray:
    if method == "median" and erase > 1:
        box = cv2.getStructuringElement(cv2.MORPH_RECT, (erase, erase))
        gray = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, box, borderType=cv2.BORDER_REPLICATE)
    h, w = gray.shape
    factor = max(1, -(-size // _ESTIMATE_MAX_PX))  # ceil(size / 31)
    small = gray
    if factor > 1:
        dsize = (max(1, -(-w // factor)), max(1, -(-h // factor)))
        small = cv2.resize(gray, dsize, interpolation=cv2.INTER_AREA)
    scaled = round(size / factor)
    scaled += 1 - scaled % 2  # odd, rounding even sizes up
    ksize = fit_odd(scaled, whole_image_window(small), minimum=3)
    if method == "median":
        estimate = cv2.medianBlur(small, ksize)
    else:
        box = cv2.getStructuringElement(cv2.MORPH_RECT, (ksize, ksize))
        estimate = cv2.morphologyEx(small, cv2.MORPH_CLOSE, box, borderType=cv2.BORDER_REPLICATE)
    if estimate.shape != gray.shape:
        estimate = cv2.resize(estimate, (w, h), interpolation=cv2.INTER_LINEAR)
    return estimate


@register("background_flatten", category="colour", returns="gray")
def background_flatten(image: np.ndarray, p: BackgroundFlattenParams) -> np.ndarray:
    """Remove uneven lighting and stains: divide the image by an estimate of its background.

    The background is estimated with a ``size`` px median blur (``median``) or a grayscale
    closing with a ``size`` x ``size`` square (``morph``: the max filter erases dark text, the
    min filter restores the background's extent). For speed, windows above 31 px are run on a
    copy downscaled by ``ceil(size / 31)`` and the estimate is resized back. The output is
    ``clip(image / background * 255)``: the background becomes white and the text keeps its
    contrast relative to the local background. Colour images are reduced to luma first.

    ``morph`` overestimates a background that darkens towards the image edge within ``size / 2``
    px of that edge (the max filter cannot see past it); ``median`` does not.

    With ``median``, ``erase`` > 1 runs an ``erase`` x ``erase`` closing before the median: it
    lifts every dark stroke narrower than ``erase`` px to the paper around it, so a median over
    dense text, bold print or large headlines (where ink fills more than half of the window)
    still sees paper and the text keeps its full darkness. Stains wider than ``erase`` survive the
    closing and are divided out by the median as before.
    """
    gray = to_gray(image)
    background = _estimate_background(gray, p.method, p.size, p.erase)
    ratio = gray.astype(np.float32) * 255.0 / np.maximum(background, 1).astype(np.float32)
    return np.clip(np.rint(ratio), 0, 255).astype(np.uint8)
