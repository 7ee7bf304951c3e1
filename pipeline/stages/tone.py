"""Tone stages: change or measure gray levels: contrast stretching (``normalize``), flattening an
uneven background (``background_flatten``), an automatic gray band (``tone_band``) and automatic
polarity (``auto_polarity``).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import cv2
import numpy as np
from pydantic import Field

from ..params import Odd, StageParams, convention, number, odd_int
from ..registry import register
from ._image import fit_odd, frame_pixels, to_bgr, to_gray, whole_image_window

# --- normalize ---------------------------------------------------------------------------------


class NormalizeParams(StageParams):
    main_fields: ClassVar[tuple[str, ...]] = ("method", "clip_limit")
    used_when: ClassVar[dict[str, dict[str, tuple[Any, ...]]]] = {
        "low_percentile": {"method": ("minmax",)},
        "high_percentile": {"method": ("minmax",)},
        "clip_limit": {"method": ("clahe",)},
        "tiles": {"method": ("clahe",)},
    }

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


@register("normalize", title="Stretch the contrast", category="tone", returns="same as input")
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
    used_when: ClassVar[dict[str, dict[str, tuple[Any, ...]]]] = {"erase": {"method": ("median",)}}

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
_COPY_WINDOW_PX = 15
"""The window on that copy, px: the copy is scaled by ``_COPY_WINDOW_PX / size``."""


def _estimate_background(gray: np.ndarray, method: str, size: int, erase: int = 1) -> np.ndarray:
    if method == "median" and erase > 1:
        box = cv2.getStructuringElement(cv2.MORPH_RECT, (erase, erase))
        gray = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, box, borderType=cv2.BORDER_REPLICATE)
    h, w = gray.shape
    small, ksize = gray, size
    if size > _ESTIMATE_MAX_PX:
        # A scale of exactly _COPY_WINDOW_PX / size: every size gives its own copy (an integer
        # downscale factor would run 77, 79 and 81 px as one and the same window).
        scale = _COPY_WINDOW_PX / size
        dsize = (max(1, round(w * scale)), max(1, round(h * scale)))
        small, ksize = cv2.resize(gray, dsize, interpolation=cv2.INTER_AREA), _COPY_WINDOW_PX
    ksize = fit_odd(ksize, whole_image_window(small), minimum=3)
    if method == "median":
        estimate = cv2.medianBlur(small, ksize)
    else:
        box = cv2.getStructuringElement(cv2.MORPH_RECT, (ksize, ksize))
        estimate = cv2.morphologyEx(small, cv2.MORPH_CLOSE, box, borderType=cv2.BORDER_REPLICATE)
    if estimate.shape != gray.shape:
        estimate = cv2.resize(estimate, (w, h), interpolation=cv2.INTER_LINEAR)
    return estimate


@register("background_flatten", title="Even out the lighting", category="tone", returns="gray")
def background_flatten(image: np.ndarray, p: BackgroundFlattenParams) -> np.ndarray:
    """Remove uneven lighting and stains: divide the image by an estimate of its background.

    The background is estimated with a ``size`` px median blur (``median``) or a grayscale
    closing with a ``size`` x ``size`` square (``morph``: the max filter erases dark text, the
    min filter restores the background's extent). For speed, a window above 31 px is run as a 15 px
    window on a copy scaled by ``15 / size`` (so each size gives its own estimate) and the
    estimate is resized back. The output is
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


# --- tone_band ---------------------------------------------------------------------------------


class ToneBandParams(StageParams):
    main_fields: ClassVar[tuple[str, ...]] = ("width", "peak")

    width: int = Field(
        9, ge=1, le=255, description="Width of the band kept, gray levels (the band is centred on its peak)."
    )
    peak: int = Field(
        1, ge=1, le=5, description="Which band: 1 = the most populated one, 2 = the next one apart, rank."
    )
    background_margin: int = Field(
        40,
        ge=0,
        le=255,
        description="Levels this close to the background's (the most frequent) level are never "
        "chosen, gray levels.",
    )
    core: int = Field(
        0,
        ge=0,
        le=255,
        description="Width of the window that is scored to find the band, gray levels: 0 = "
        "width. A narrower core finds a flat tone (glyphs drawn in one gray) that holds fewer "
        "pixels than a spread of other tones (anti-aliased text in many grays) but more at one "
        "level; the band kept is still width levels around it (narrowed by fraction).",
    )
    fraction: float = number(
        0.0,
        0.0,
        1.0,
        "0 = keep the whole window; above 0: narrow it to the levels around its peak holding at "
        "least this fraction of the peak's pixel count, ratio.",
        step=0.01,
    )
    side: Literal["any", "darker", "lighter"] = Field(
        "any", description="Look for the band on any side of the background level, or only darker/lighter."
    )
    output: Literal["mask", "ink"] = convention(
        "ink", "mask: in-band pixels 255 on 0 (like cv2.inRange); ink: in-band pixels 0 on 255."
    )


def find_tone_band(gray: np.ndarray, p: ToneBandParams) -> tuple[int, int] | None:
    """Inclusive ``(low, high)`` gray levels of the band ``tone_band`` keeps, or ``None``.

    Each window of ``width`` consecutive levels (of ``core`` levels, when set, centred alike)
    is scored by how many pixels it holds; levels
    within ``background_margin`` of the most frequent level (and on the wrong ``side`` of it)
    count for nothing. The best window is taken (the middle one when several hold the same
    pixels), its levels and ``width`` on either side are
    ruled out, and so on until the ``peak``-th one. ``None`` when no level is left to choose.
    """
    counts = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    background = int(np.argmax(counts))
    levels = np.arange(256)
    allowed = np.abs(levels - background) > p.background_margin
    if p.side == "darker":
        allowed &= levels < background
    elif p.side == "lighter":
        allowed &= levels > background
    usable = np.where(allowed, counts, 0.0)
    low_of, high_of = _windows(p.width)
    core_low, core_high = _windows(p.core or p.width)
    cumulative = np.concatenate(([0.0], np.cumsum(usable)))
    mass = cumulative[core_high + 1] - cumulative[core_low]
    # A window must be centred on a usable level, so it cannot sit on the background itself.
    mass[~allowed] = -1.0
    band = None
    for _ in range(p.peak):
        centre = int(np.argmax(mass))
        if mass[centre] <= 0:
            return None
        # Windows holding the same pixels tie: take the middle of the first run of ties.
        end = centre
        while end < 255 and mass[end + 1] == mass[centre]:
            end += 1
        centre = (centre + end) // 2
        band = (int(low_of[centre]), int(high_of[centre]))
        mass[max(0, band[0] - p.width) : band[1] + p.width + 1] = -1.0
    if band is not None and p.fraction > 0:
        band = _narrow(usable, band, p.fraction)
    return band


def _windows(width: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last level (inclusive, clipped to 0-255) of the window of ``width`` gray
    levels centred on each of the 256 levels."""
    start = np.arange(256) - width // 2
    return np.clip(start, 0, 255), np.clip(start + width - 1, 0, 255)


def _narrow(counts: np.ndarray, band: tuple[int, int], fraction: float) -> tuple[int, int]:
    """The run of levels inside ``band`` around its fullest level whose count (averaged over 3
    neighbouring levels) is at least ``fraction`` of that level's."""
    smooth = np.convolve(counts, np.ones(3) / 3.0, mode="same")
    low, high = band
    peak = low + int(np.argmax(smooth[low : high + 1]))
    floor = fraction * smooth[peak]
    start = end = peak
    while start > low and smooth[start - 1] >= floor:
        start -= 1
    while end < high and smooth[end + 1] >= floor:
        end += 1
    return start, end


@register("tone_band", title="Keep one gray band", category="tone", returns="binary 0/255")
def tone_band(image: np.ndarray, p: ToneBandParams) -> np.ndarray:
    """Keep the pixels of the most populated narrow gray band: captcha glyphs drawn in one tone.

    Like ``color_range`` in ``gray`` space, but the band is found in each image: the window of
    ``width`` gray levels (centred on a level) that holds the most pixels, ignoring levels
    within ``background_margin`` of the background (the most frequent level) and, with
    ``side``, levels on one side of it. ``peak`` 2, 3 ... take the next most populated bands
    (each at least ``width`` levels away from the ones before), for glyphs that cover less area
    than a distractor tone. With ``fraction`` above 0 the window is narrowed to the levels
    around its fullest level (counts averaged over 3 levels) that hold at least ``fraction`` of
    that level's count: a flat-toned glyph fill gives a narrow band, a JPEG-smeared one a wider
    band, up to ``width``. BGR images are reduced to luma. When no level can be chosen (a flat
    image, or every level excluded) nothing is selected.

    The output is ``ink`` (in-band pixels 0 on 255, ready for OCR) or ``mask`` (in-band 255 on 0).
    """
    gray = to_gray(image)
    band = find_tone_band(gray, p)
    mask = np.zeros(gray.shape, np.uint8) if band is None else cv2.inRange(gray, band[0], band[1])
    return cv2.bitwise_not(mask) if p.output == "ink" else mask


# --- auto_polarity -----------------------------------------------------------------------------


class AutoPolarityParams(StageParams):
    used_when: ClassVar[dict[str, dict[str, tuple[Any, ...]]]] = {
        "margin": {"method": ("border", "centre")},
        "centre": {"method": ("centre",)},
    }

    method: Literal["border", "minority", "centre"] = Field(
        "border",
        description="border: the background is the tone of the image's outer ring; minority: the "
        "text is the smaller of the two Otsu classes; centre: the text is whichever side (darker or "
        "lighter) of the ring's tone reaches further in the middle of the image.",
    )
    margin: float = number(
        10.0, 1.0, 45.0, "border, centre: width of the outer ring, percent of the shorter side.", step=1.0
    )
    centre: float = number(
        20.0,
        0.0,
        45.0,
        "centre: cut off each side to get the middle of the image, percent of that side's length.",
        step=1.0,
    )


_CENTRE_PERCENTILE = 2.0


def text_is_light(
    gray: np.ndarray, method: str = "border", margin: float = 10.0, centre: float = 20.0
) -> bool:
    """True when ``gray`` looks like light text on a dark background (see ``auto_polarity``)."""
    if gray.size == 0 or int(gray.min()) == int(gray.max()):
        return False
    h, w = gray.shape
    ring = max(1, round(min(h, w) * margin / 100.0))
    background = float(np.median(frame_pixels(gray, ring)))
    if method == "centre":
        dy, dx = int(h * centre / 100.0), int(w * centre / 100.0)
        middle = gray[dy : h - dy, dx : w - dx]
        if middle.size == 0:
            middle = gray
        low, high = np.percentile(middle, [_CENTRE_PERCENTILE, 100.0 - _CENTRE_PERCENTILE])
        return float(high) - background > background - float(low)
    level, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if method == "minority":
        dark = int(np.count_nonzero(gray <= level))
        return dark * 2 > gray.size
    return background <= level


@register("auto_polarity", title="Make the text dark on light", category="tone", returns="same as input")
def auto_polarity(image: np.ndarray, p: AutoPolarityParams) -> np.ndarray:
    """Make the text dark on light: invert the image only when its text looks light on dark.

    Both methods split the luma in two with an Otsu threshold. ``border`` takes the background
    to be the median level of the outer ring (``margin`` % of the shorter side wide, at least
    1 px): when it falls in the dark class the text is light and the image is inverted. This
    suits crops where the text sits in the middle (digits, words, captchas). ``minority``
    inverts when the dark class covers more than half the pixels (text covers less area than
    its background). ``centre`` also takes the ring's median as the background level, then
    looks at the middle of the image (``centre`` % cut off each side) and inverts when its
    brightest pixels (98th percentile) stand further above the background than its darkest
    (2nd percentile) lie below it: the text is the tone that departs most from the background
    where the text is. Unlike the Otsu-based methods it is not misled by a dark frame edge or
    part of a neighbouring digit in the ring (a counter-wheel window), which can pull the Otsu
    level past the background. A flat image is returned unchanged; colour images are inverted
    in colour.
    """
    if text_is_light(to_gray(image), p.method, p.margin, p.centre):
        return cv2.bitwise_not(image)
    return image.copy()
