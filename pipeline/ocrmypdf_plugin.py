"""An OCRmyPDF plugin: clean every page image with a Clarity preset before Tesseract reads it.

Installed with Clarity and registered on OCRmyPDF's ``ocrmypdf`` entry-point group, so it
loads by itself::

    ocrmypdf --clarity-preset presets/document.yaml scan.pdf searchable.pdf

It implements ``filter_ocr_image`` (OCRmyPDF 10+; options as OCRmyPDF 17 registers them):
the image Tesseract reads is cleaned, while the page shown in the output PDF stays the
original. First the built-in Tesseract plugin's own filter runs (it downsamples pages too
large for Tesseract, and OCRmyPDF keeps only one plugin's answer), then the preset's stages.
The page geometry never changes: a preset that scales the image uniformly is fine (the DPI
is scaled with it, so the text layer lands where the words are); one that crops, pads or
otherwise changes the aspect ratio is scaled back to the page's size and shape. Only the
stages of the preset are used: Tesseract's options (language, page segmentation) are
OCRmyPDF's own (``-l``, ``--tesseract-pagesegmode``).

Hooks run in OCRmyPDF's worker processes; each loads the preset once.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from ocrmypdf import hookimpl
from ocrmypdf.exceptions import BadArgsError
from PIL import Image
from pydantic import BaseModel

from .errors import ClarityError, PresetError
from .preset import Preset, load_preset
from .runner import run
from .shipped import resolve_preset
from .upright import turn_of

log = logging.getLogger(__name__)

NAMESPACE = "clarity"


class ClarityOptions(BaseModel):
    """The plugin's options (``options.clarity``): the preset file, or none to leave images alone."""

    preset: str | None = None


@hookimpl
def register_options() -> dict[str, type[BaseModel]]:
    """Register :class:`ClarityOptions` under ``options.clarity``."""
    return {NAMESPACE: ClarityOptions}


@hookimpl
def add_options(parser) -> None:
    """Add ``--clarity-preset``."""
    group = parser.add_argument_group("Clarity", "Clean page images with a Clarity preset before OCR")
    group.add_argument(
        "--clarity-preset",
        dest="clarity_preset",
        metavar="PRESET",
        help="Clarity preset YAML file (or a shipped preset's name) whose stages clean each page "
        "image before Tesseract reads it; the pages shown in the output PDF are not changed",
    )


@hookimpl
def check_options(options) -> None:
    """Refuse an invalid preset before any page is processed, with Clarity's message."""
    path = _preset_path(options)
    if path is not None:
        try:
            _load(path)
        except ClarityError as exc:
            raise BadArgsError(f"--clarity-preset: {exc}") from None


@hookimpl
def filter_ocr_image(page, image: Image.Image) -> Image.Image:
    """The image Tesseract will read: Tesseract's own downsampling, then the preset's stages."""
    from ocrmypdf.builtin_plugins import tesseract_ocr

    image = tesseract_ocr.filter_ocr_image(page=page, image=image)
    path = _preset_path(page.options)
    if path is None:
        return image
    return clean_image(image, _load(path), label=f"page {page.pageno + 1}")


def clean_image(image: Image.Image, preset: Preset, label: str = "page") -> Image.Image:
    """``image`` cleaned by ``preset``'s stages, same aspect ratio, DPI scaled with its size.

    Parameters
    ----------
    image:
        A page image as OCRmyPDF hands it over (any Pillow mode; ``info["dpi"]`` its resolution).
    preset:
        The stages to run (its ``ocr`` section is not used).
    label:
        What to call the image in log messages.
    """
    dpi = image.info.get("dpi") or (300.0, 300.0)
    array = _to_array(image)
    try:
        cleaned = run(array, preset, cache=None).final
    except ClarityError as exc:
        log.warning("%s: Clarity preset failed (%s); OCR reads the page uncleaned", label, exc)
        return image
    height, width = array.shape[:2]
    out_h, out_w = cleaned.shape[:2]
    if abs(out_h - height * out_w / width) > 1.0:  # the stages changed the shape: back to the page's
        log.info("%s: the preset changed the aspect ratio; scaling back to %dx%d", label, width, height)
        cleaned = cv2.resize(cleaned, (width, height), interpolation=cv2.INTER_AREA)
        out_h, out_w = height, width
    result = Image.fromarray(cleaned if cleaned.ndim == 2 else cv2.cvtColor(cleaned, cv2.COLOR_BGR2RGB))
    result.info["dpi"] = (float(dpi[0]) * out_w / width, float(dpi[1]) * out_h / height)
    return result


def _to_array(image: Image.Image) -> np.ndarray:
    """A Pillow image as the uint8 gray or BGR array the stages take."""
    if image.mode in ("1", "L", "I;16", "I", "F"):
        return np.asarray(image.convert("L"), dtype=np.uint8).copy()
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _preset_path(options) -> str | None:
    try:
        return getattr(options, NAMESPACE).preset
    except AttributeError:  # registered under a name OCRmyPDF did not load, or an older OCRmyPDF
        return getattr(options, "clarity_preset", None)


@lru_cache(maxsize=4)
def _load(path: str) -> Preset:
    """The preset at ``path``; refused when its ``rotate`` stages turn the page (the text layer
    would no longer lie on the page OCRmyPDF keeps)."""
    preset = load_preset(resolve_preset(Path(path)))
    if turn_of(preset):
        raise PresetError(
            f"{path}: its 'rotate' stage turns the page, and OCRmyPDF keeps the page as it is, so "
            "the text layer would miss the words; turn the stage off and let OCRmyPDF turn pages "
            "(--rotate-pages)"
        )
    return preset
