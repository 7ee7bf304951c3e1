"""The exported script's own code: reading and writing images, reading the text, ``main``.

:func:`pipeline.export.export_python` copies these functions (and, transitively, the Clarity
helpers they use: :func:`~pipeline.image_conventions.flatten_alpha`, RapidOCR's reading
functions) into the script it writes, next to the preset's stages. So this module is the
script's code, linted and type-checked with the rest of Clarity, and it must keep to what a
script can carry: OpenCV, NumPy, the standard library, pytesseract or rapidocr, and names from
the modules the exporter may copy from.

Two definitions here are stand-ins the script replaces with its own: the OCR settings
(``OCR_*``, written from the preset) and :func:`clean` (the preset's stages). The script's
``ocr`` is :func:`tesseract_ocr` or :func:`rapidocr_ocr`, copied under that name.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable
from typing import TypeVar

import cv2
import numpy as np
import pytesseract

from .image_conventions import flatten_alpha
from .ocr.correct import zero_as_o
from .ocr.rapidocr_engine import layout_text, model_paths, open_reader, read_words
from .ocr.result import Scored, best_reading, scored

# The OCR settings, here OcrOptions' defaults: the script gets the preset's values instead.
OCR_LANG = "eng"
"""Tesseract language(s), plus-joined; for RapidOCR it narrows the alphabet read."""
OCR_MODES: list[int] = [3]
"""Tesseract's page segmentation modes; the most confident reading wins."""
OCR_EMPTY_PSM: int | None = None
"""Tesseract: the page segmentation mode an empty reading is read again with (None = none)."""
OCR_ARGS: list[str] = ["--oem", "3"]
"""Tesseract's other command-line arguments (oem, dpi, ``-c`` variables)."""
OCR_TIMEOUT_S = 30.0
"""Longest time Tesseract may take, in seconds."""
OCR_PSM = 3
"""RapidOCR: 7, 8, 9, 10, 13 read the image as one line; other modes as a page."""
OCR_WHITELIST = ""
"""RapidOCR: only these characters are read (empty = any)."""
OCR_BLACKLIST = ""
"""RapidOCR: these characters are never read."""
OCR_BLURS: list[float] = []
"""Gaussian blurs (standard deviation, px) of softened copies read as well; the best reading wins."""
OCR_ORIGINAL = False
"""RapidOCR: the image before the stages is read as well; the best reading wins."""
OCR_ZERO_AS_O = False
"""A 0 inside a word of letters (no other digit) is read as the letter O."""

T = TypeVar("T")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
"""The first 8 bytes of a PNG file; byte 25 is its colour type (4: gray and alpha)."""


def clean(image: np.ndarray) -> np.ndarray:
    """The preset's stages; here none (the script defines its own ``clean``)."""
    return image


def remember(tag: str, image: np.ndarray, settings: tuple, compute: Callable[[], T]) -> T:
    """The script's stand-in for Clarity's stage memo (:func:`pipeline.stages._memo.remember`):
    each stage runs once per image here, so there is nothing to keep."""
    return compute()


def decode_image(data: np.ndarray, flags: int, path: str) -> np.ndarray:
    """The image in a file's bytes (``cv2.imdecode``), or exit naming the file if OpenCV cannot read it."""
    image = cv2.imdecode(data, flags)
    if image is None:
        sys.exit(f"{path}: not an image OpenCV can read")
    return image


def read_image(path: str) -> np.ndarray:
    """Read an image file as uint8 gray (H, W) or BGR (H, W, 3), as Clarity reads it.

    Covers the common cases: 8-bit gray and colour (JPEG orientation applied), palette, alpha
    (flattened on white), 16-bit (scaled to 8 bit). Multi-page files give their first page.
    """
    data = np.fromfile(path, dtype=np.uint8)
    image = decode_image(data, cv2.IMREAD_UNCHANGED, path)
    if image.ndim == 3 and image.shape[2] == 4:
        if image.dtype == np.uint16:
            image = (image >> 8).astype(np.uint8)
        flat = flatten_alpha(image)
        gray_alpha = bytes(data[:8]) == PNG_SIGNATURE and len(data) > 25 and data[25] == 4
        return np.ascontiguousarray(flat[:, :, 0]) if gray_alpha else flat
    if image.dtype == np.uint16:
        if image.ndim == 2:
            return np.clip(image * (255.0 / 65535.0) + 0.5, 0, 255).astype(np.uint8)
        return (image >> 8).astype(np.uint8)
    if image.dtype != np.uint8:
        sys.exit(f"{path}: {image.dtype} pixels are not supported; convert the image to 8 or 16 bit")
    image = decode_image(data, cv2.IMREAD_ANYCOLOR, path)  # applies the EXIF orientation of JPEGs
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    return image


def write_image(path: str, image: np.ndarray) -> None:
    """Write an image; the format follows the file ending (PNG advised)."""
    ok, buf = cv2.imencode(os.path.splitext(path)[1] or ".png", image)
    if not ok:
        sys.exit(f"{path}: cannot write an image in this format")
    buf.tofile(path)


def soften(image: np.ndarray, sigma: float) -> np.ndarray:
    """``image`` blurred by a Gaussian of standard deviation ``sigma`` px; 0 = as it is."""
    return image if sigma == 0 else cv2.GaussianBlur(image, (0, 0), sigma)


def tesseract_words(pixels: np.ndarray, mode: int) -> Scored:
    """The words Tesseract reads in ``pixels`` in page segmentation ``mode``: (text, confidence) pairs."""
    data = pytesseract.image_to_data(
        pixels,
        lang=OCR_LANG,
        config=shlex.join(["--psm", str(mode), *OCR_ARGS]),
        timeout=OCR_TIMEOUT_S,
        output_type=pytesseract.Output.DICT,
    )
    pairs = zip(data["text"], data["conf"], strict=True)
    return [(t, min(100.0, float(c))) for t, c in pairs if t.strip() and float(c) >= 0]


def tesseract_ocr(image: np.ndarray, original: np.ndarray) -> str:
    """Read the cleaned image with Tesseract (the tesseract program, through pytesseract);
    ``original``, the image before the stages, is not read (Tesseract's confidence cannot
    choose between the two).

    With several page segmentation modes in OCR_MODES, or blurs in OCR_BLURS, the image is read
    in every mode, as it is and softened by each blur, and the text is read again the way whose
    reading scored best: the highest confidence per character (word confidences weighted by
    word length) times the share of the longest reading's characters it holds; ties keep the
    first mode and the image as it is. An empty reading is read again in OCR_EMPTY_PSM, when set.
    """
    pixels = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    ways = [(mode, sigma) for sigma in [0.0, *OCR_BLURS] for mode in OCR_MODES]
    mode, sigma = ways[0]
    if len(ways) > 1:
        mode, sigma = ways[best_reading([tesseract_words(soften(pixels, b), m) for m, b in ways])]
    text = tesseract_text(soften(pixels, sigma), mode)
    if not text and OCR_EMPTY_PSM is not None and OCR_EMPTY_PSM not in OCR_MODES:
        text = tesseract_text(pixels, OCR_EMPTY_PSM)
    return text


def tesseract_text(pixels: np.ndarray, mode: int) -> str:
    """The text Tesseract reads in ``pixels`` in page segmentation ``mode``, stripped."""
    config = shlex.join(["--psm", str(mode), *OCR_ARGS])
    return pytesseract.image_to_string(pixels, lang=OCR_LANG, config=config, timeout=OCR_TIMEOUT_S).strip()


def rapidocr_ocr(image: np.ndarray, original: np.ndarray) -> str:
    """Read the cleaned image with RapidOCR (its models from the installed rapidocr wheel).

    With blurs in OCR_BLURS the image is also read softened by each, and with OCR_ORIGINAL so
    is ``original``, the image before the stages (when the stages changed it); the reading kept
    is the one with the highest confidence per character times the share of the longest
    reading's characters it holds (ties keep the cleaned image as it is).
    """
    reader = open_reader(model_paths())
    sources = [image]
    if OCR_ORIGINAL and not (original.shape == image.shape and np.array_equal(original, image)):
        sources.append(original)
    readings = [
        read_words(reader, soften(bgr, sigma), OCR_PSM, OCR_WHITELIST, OCR_BLACKLIST, OCR_LANG)
        for bgr in (s if s.ndim == 3 else cv2.cvtColor(s, cv2.COLOR_GRAY2BGR) for s in sources)
        for sigma in [0.0, *OCR_BLURS]
    ]
    return layout_text(readings[best_reading([scored(words) for words in readings])])


ocr = tesseract_ocr
"""The script's reader; the exporter copies :func:`tesseract_ocr` or :func:`rapidocr_ocr` as ``ocr``."""


def main(argv: list[str]) -> int:
    """``script.py IMAGE [OUT.png]``: clean IMAGE, optionally save it, print the text read."""
    if len(argv) not in (2, 3) or argv[1] in ("-h", "--help"):
        print((__doc__ or "").strip().split("\n")[0])
        print(f"usage: python {argv[0]} IMAGE [OUT.png]", file=sys.stderr)
        return 2
    image = read_image(argv[1])
    cleaned = clean(image)
    if len(argv) == 3:
        write_image(argv[2], cleaned)
    text = ocr(cleaned, image)
    print(zero_as_o(text) if OCR_ZERO_AS_O else text)
    return 0
