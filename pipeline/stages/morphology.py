"""Morphology stages: erode, dilate, open, close and their derived filters."""

from __future__ import annotations

from typing import ClassVar, Literal

import cv2
import numpy as np
from pydantic import Field

from ..params import StageParams, convention
from ..registry import register
from ._image import Ink, KernelShape, kernel

Op = Literal["erode", "dilate", "open", "close", "tophat", "blackhat", "gradient"]

_OPS = {
    "erode": cv2.MORPH_ERODE,
    "dilate": cv2.MORPH_DILATE,
    "open": cv2.MORPH_OPEN,
    "close": cv2.MORPH_CLOSE,
    "tophat": cv2.MORPH_TOPHAT,
    "blackhat": cv2.MORPH_BLACKHAT,
    "gradient": cv2.MORPH_GRADIENT,
}


class MorphologyParams(StageParams):
    main_fields: ClassVar[tuple[str, ...]] = ("op", "width", "height", "iterations")

    op: Op = Field(
        "close",
        description="erode/dilate: shrink/thicken the ink; open: remove ink specks smaller than the "
        "kernel; close: fill gaps in the ink; tophat/blackhat/gradient: ink details, gaps, outlines.",
    )
    shape: KernelShape = Field("rect", description="Shape of the structuring element.")
    width: int = Field(3, ge=1, le=301, description="Structuring element width, px.")
    height: int = Field(3, ge=1, le=301, description="Structuring element height, px.")
    iterations: int = Field(1, ge=1, le=10, description="Times the operation is repeated, count.")
    ink: Ink = convention(
        "dark",
        "Which pixels are the text: dark (ops act on dark ink) or light (plain OpenCV).",
    )


@register("morphology", title="Thicken, thin or fill strokes", category="morphology", returns="same as input")
def morphology(image: np.ndarray, p: MorphologyParams) -> np.ndarray:
    """Erode, dilate, open, close, top-hat, black-hat or gradient with a rect/ellipse/cross kernel.

    The operation acts on the text given by ``ink``. With ``light`` ink it is OpenCV's
    ``cv2.morphologyEx`` on the image as is (dilate grows bright regions). With ``dark`` ink, the
    usual case for OCR-ready pages, the image is inverted, the operation applied and the result
    inverted back: ``dilate`` thickens dark strokes, ``erode`` thins them, ``open`` removes dark
    specks smaller than the kernel, ``close`` bridges gaps between dark strokes, ``tophat``
    keeps the dark details smaller than the kernel (as dark on white), ``blackhat`` the light
    gaps inside the ink and ``gradient`` the ink's outlines. Works on gray, binary and colour
    images (colour per channel). A 1 x ``width`` rect kernel with a large width, for example,
    joins the characters of a line (line detection).
    """
    element = kernel(p.shape, p.width, p.height)
    op = _OPS[p.op]
    if p.ink == "light":
        return cv2.morphologyEx(image, op, element, iterations=p.iterations)
    inverted = cv2.bitwise_not(image)
    return cv2.bitwise_not(cv2.morphologyEx(inverted, op, element, iterations=p.iterations))
