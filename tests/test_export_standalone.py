"""pipeline.standalone, the exported script's own code: it reads images as Clarity does, and the
exporter copies it under its own names (settings from the preset, the engine's reader as ``ocr``)."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from pipeline import registry, standalone
from pipeline.export import export_python
from pipeline.imageio import read_image
from pipeline.preset import Preset, StageSpec, parse_preset
from pipeline.registry import Stage
from pipeline.runner import run


def _images(tmp_path: Path) -> dict[str, Path]:
    """Files in the modes the script reads with OpenCV's own decoder (16-bit written by OpenCV)."""
    rng = np.random.default_rng(7)
    wide = rng.integers(0, 65536, (24, 36, 4), dtype=np.uint16)
    wide[4:20, 6:30, 3] = 65535
    narrow = (wide >> 8).astype(np.uint8)
    files = {
        "bgra": narrow,
        "bgra16": wide,
        "bgr16": wide[:, :, :3],
        "gray16": wide[:, :, 0],
        "gray": narrow[:, :, 0],
        "bgr": narrow[:, :, :3],
    }
    paths = {}
    for name, pixels in files.items():
        paths[name] = tmp_path / f"{name}.png"
        assert cv2.imwrite(str(paths[name]), pixels)
    paths["gray_alpha"] = tmp_path / "gray_alpha.png"
    Image.fromarray(narrow[:, :, [0, 3]], "LA").save(paths["gray_alpha"])
    paths["palette"] = tmp_path / "palette.png"
    Image.fromarray(narrow[:, :, :3], "RGB").quantize(16).save(paths["palette"])
    return paths


def test_read_image_agrees_with_clarity(tmp_path: Path) -> None:
    for name, path in _images(tmp_path).items():
        got, want = standalone.read_image(str(path)), read_image(path)
        assert got.dtype == want.dtype == np.uint8, name
        assert got.shape == want.shape and np.array_equal(got, want), name


def test_write_then_read_round_trip(tmp_path: Path) -> None:
    image = np.random.default_rng(3).integers(0, 256, (10, 12, 3), dtype=np.uint8)
    standalone.write_image(str(tmp_path / "out.png"), image)
    assert np.array_equal(standalone.read_image(str(tmp_path / "out.png")), image)
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(SystemExit, match="not an image OpenCV can read"):
        standalone.read_image(str(tmp_path / "bad.png"))


def _script_namespace(preset: Preset, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    module = types.ModuleType("exported_standalone_test")
    monkeypatch.setitem(sys.modules, module.__name__, module)  # dataclasses look their module up
    exec(compile(export_python(preset), "script", "exec"), module.__dict__)  # does not run main()
    return module.__dict__


@pytest.mark.parametrize("engine", ["pytesseract", "rapidocr"])
def test_script_settings_and_reader_follow_the_engine(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    preset = parse_preset(
        "schema_version: 1\nstages: [grayscale]\n"
        f"ocr: {{engine: {engine}, psm: 7, alternative_psm: [8], alternative_blur: [0.7], lang: eng, "
        "whitelist: '0123', also_read_original: true, zero_as_o: true, empty_psm: 13}\n"
    )
    namespace = _script_namespace(preset, monkeypatch)
    settings = {name for name in namespace if name.startswith("OCR_")}
    rapid = engine == "rapidocr"
    if rapid:
        assert settings == {
            "OCR_LANG",
            "OCR_PSM",
            "OCR_WHITELIST",
            "OCR_BLACKLIST",
            "OCR_BLURS",
            "OCR_ORIGINAL",
            "OCR_ZERO_AS_O",
        }
        assert (namespace["OCR_PSM"], namespace["OCR_WHITELIST"], namespace["OCR_ORIGINAL"]) == (
            7,
            "0123",
            True,
        )
    else:
        assert settings == {
            "OCR_LANG",
            "OCR_MODES",
            "OCR_ARGS",
            "OCR_TIMEOUT_S",
            "OCR_BLURS",
            "OCR_ZERO_AS_O",
            "OCR_EMPTY_PSM",
        }  # no original
        assert namespace["OCR_MODES"] == [7, 8] and namespace["OCR_EMPTY_PSM"] == 13
    assert namespace["OCR_BLURS"] == [0.7] and namespace["OCR_ZERO_AS_O"] is True
    assert namespace["zero_as_o"]("T0TAL 1.50") == "TOTAL 1.50"  # copied into the script
    assert namespace["zero_as_o"]("X0KQ") == "X0KQ"
    reader = standalone.rapidocr_ocr if rapid else standalone.tesseract_ocr
    assert namespace["ocr"].__doc__ == reader.__doc__  # type: ignore[attr-defined]
    assert "tesseract_ocr" not in namespace and "rapidocr_ocr" not in namespace
    assert ("pytesseract" in namespace) != rapid


_CLASHING_STAGE = '''
"""A stage module whose helpers have the names of the script's own functions."""

from __future__ import annotations

import numpy as np


def main(image: np.ndarray) -> np.ndarray:
    return 255 - image


def read_image(image: np.ndarray) -> np.ndarray:
    return main(image)


def flip(image: np.ndarray, p: object) -> np.ndarray:
    """Inverts twice, then flips left to right."""
    return read_image(main(image))[:, ::-1].copy()
'''


def test_stage_helpers_named_like_the_script_functions_are_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "export_clash_stage.py").write_text(_CLASHING_STAGE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("export_clash_stage")
    stage = Stage(
        "export_test_flip", module.flip, registry.get_stage("invert").params, "colour", "gray", False
    )
    monkeypatch.setitem(registry._REGISTRY, "export_test_flip", stage)
    preset = Preset(stages=(StageSpec(stage="grayscale"), StageSpec(stage="export_test_flip")))
    namespace = _script_namespace(preset, monkeypatch)
    assert namespace["main"].__doc__ == standalone.main.__doc__  # type: ignore[attr-defined]
    assert namespace["read_image"].__doc__ == standalone.read_image.__doc__  # type: ignore[attr-defined]
    assert "main_export_clash_stage" in namespace and "read_image_export_clash_stage" in namespace
    image = np.random.default_rng(1).integers(0, 256, (8, 10, 3), dtype=np.uint8)
    got = namespace["clean"](image.copy())  # type: ignore[operator]
    assert np.array_equal(got, run(image, preset, cache=None).final)
    sys.modules.pop("export_clash_stage", None)


def test_the_script_reads_an_empty_reading_again_in_its_empty_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """As ``ocr.empty_psm`` in the pipeline: nothing read in psm 7, so psm 13 is asked too."""
    asked: list[int] = []

    def text(pixels: np.ndarray, mode: int) -> str:
        asked.append(mode)
        return "found" if mode == 13 else ""

    monkeypatch.setattr(standalone, "tesseract_text", text)
    monkeypatch.setattr(standalone, "OCR_MODES", [7])
    image = np.full((20, 40), 255, np.uint8)
    assert standalone.tesseract_ocr(image, image) == "" and asked == [7]  # no empty mode: one reading
    monkeypatch.setattr(standalone, "OCR_EMPTY_PSM", 13)
    asked.clear()
    assert standalone.tesseract_ocr(image, image) == "found" and asked == [7, 13]
