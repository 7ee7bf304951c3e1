"""OCR with Tesseract: options, results, the two engines and the installation probe.

::

    from pipeline.ocr import OcrOptions, recognize
    result = recognize(cleaned, OcrOptions(lang="eng", psm=7))
    result.text, result.mean_conf, result.words[0].box

Importing this package sets ``OMP_THREAD_LIMIT=1`` unless already set (see
:func:`pipeline.ocr.probe.limit_openmp_threads`). The engine modules import their binding
(tesserocr, pytesseract) only when an engine is first requested.
"""

from __future__ import annotations

from .engine import OcrEngine, available_engines, get_engine, recognize
from .options import OcrOptions
from .probe import installed_languages
from .result import OcrResult, Word

__all__ = [
    "OcrEngine",
    "OcrOptions",
    "OcrResult",
    "Word",
    "available_engines",
    "get_engine",
    "installed_languages",
    "recognize",
]
