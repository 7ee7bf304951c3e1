"""Clarity's processing core: stages, presets, the runner, OCR engines and metrics.

Importable without Streamlit. The main entry points::

    from pipeline import load_preset, run, read_image
    preset = load_preset("presets/document.yaml")
    result = run(read_image("scan.png"), preset)
    result.final            # the cleaned image
    result.steps[2].ms      # time of the third stage
"""

from .errors import ClarityError, ImageError, OcrError, PresetError, StageError
from .imageio import read_image, write_image
from .ocr import OcrOptions, OcrResult, recognize
from .preset import Preset, StageSpec, load_preset, parse_preset, save_preset
from .runner import Result, StepResult, run

__all__ = [
    "ClarityError",
    "ImageError",
    "OcrError",
    "OcrOptions",
    "OcrResult",
    "Preset",
    "PresetError",
    "Result",
    "StageError",
    "StageSpec",
    "StepResult",
    "load_preset",
    "parse_preset",
    "read_image",
    "recognize",
    "run",
    "save_preset",
    "write_image",
]
