"""Export as Python: the script reproduces the runner pixel for pixel and prints the OCR text."""

from __future__ import annotations

import ast
import importlib
import os
import shutil
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from PIL import Image

from pipeline import registry
from pipeline.export import export_python
from pipeline.imageio import read_image
from pipeline.ocr import recognize
from pipeline.preset import Preset, StageSpec, load_preset, parse_preset
from pipeline.registry import Stage, all_stages
from pipeline.runner import run

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
PRESETS = sorted((ROOT / "presets").glob("*.yaml"))
DEFAULT_SAMPLE = SAMPLES / "speckled-line.png"

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="the tesseract program is not installed"
)


def _sample_for(preset_path: Path) -> Path:
    """The bundled sample that goes with a preset (samples.yaml), else a default sample."""
    listing = yaml.safe_load((SAMPLES / "samples.yaml").read_text(encoding="utf-8"))
    for entry in listing:
        if entry["preset"] == preset_path.name:
            return SAMPLES / entry["file"]
    return DEFAULT_SAMPLE


def _every_stage_preset() -> Preset:
    """Every registered stage with default parameters, a hull_mask reading an earlier stage.

    ``color_range`` (a full band gives an all-white mask) and ``invert`` go last so the stages
    before them see text; a disabled stage with an id checks that ids still pass images on.
    """
    names = [n for n in all_stages() if n not in ("grayscale", "color_range", "invert")]
    specs = [StageSpec(stage="grayscale", id="gray")]
    specs.append(StageSpec(stage="median_blur", enabled=False, id="skipped"))
    for name in names:
        source = "gray" if registry.get_stage(name).takes_source else None
        specs.append(StageSpec(stage=name, source=source))
    specs.append(StageSpec(stage="hull_mask", source="input"))
    specs.append(StageSpec(stage="invert"))
    specs.append(StageSpec(stage="color_range"))
    return Preset(name="every stage", stages=tuple(specs))


def _run_script(script: str, tmp_path: Path, image: Path) -> tuple[np.ndarray, str]:
    path = tmp_path / "clean_script.py"
    out = tmp_path / "cleaned.png"
    path.write_text(script, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, str(path), str(image), str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,  # the script must not need Clarity on the path
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    cleaned = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert cleaned is not None
    return cleaned, proc.stdout


def _words(text: str) -> list[str]:
    return text.split()


def _check(preset: Preset, image: Path, tmp_path: Path) -> str:
    """Export, run the script, compare pixels and OCR text with Clarity's own; returns the script."""
    script = export_python(preset)
    cleaned, stdout = _run_script(script, tmp_path, image)
    original = read_image(image)
    expected = run(original, preset, cache=None).final
    assert cleaned.shape == expected.shape
    assert cleaned.dtype == expected.dtype
    assert np.array_equal(cleaned, expected), f"{int((cleaned != expected).sum())} pixels differ"
    engine = "rapidocr" if preset.ocr.engine == "rapidocr" else "pytesseract"  # the script's engine
    ocr = preset.ocr.model_copy(update={"engine": engine})
    assert _words(stdout) == _words(recognize(expected, ocr, original).text)
    assert ("import rapidocr" in script) == (engine == "rapidocr")
    assert ("import pytesseract" in script) == (engine == "pytesseract")
    return script


def _ruff_check(script: str, tmp_path: Path) -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    path = tmp_path / "lint_me.py"
    path.write_text(script, encoding="utf-8")
    proc = subprocess.run(
        [ruff, "check", "--isolated", "--no-cache", str(path)], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_tesseract
@pytest.mark.parametrize("preset_path", PRESETS, ids=[p.stem for p in PRESETS])
def test_exported_preset_matches_runner(preset_path: Path, tmp_path: Path) -> None:
    preset = load_preset(preset_path)
    script = _check(preset, _sample_for(preset_path), tmp_path)
    _ruff_check(script, tmp_path)


def test_rapidocr_script_keeps_whitelist_language_and_page_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    preset = parse_preset(
        "schema_version: 1\nstages: [grayscale]\n"
        "ocr: {engine: rapidocr, psm: 3, lang: eng+deu, whitelist: '0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ'}\n"
    )
    script = export_python(preset)
    namespace = _defined(script, monkeypatch, "exported_rapidocr")
    assert (namespace["OCR_PSM"], namespace["OCR_LANG"]) == (3, "eng+deu")
    assert namespace["OCR_WHITELIST"] == "0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    _check(preset, SAMPLES / "document.png", tmp_path)
    _ruff_check(script, tmp_path)


@needs_tesseract
def test_every_stage_with_defaults_matches_runner(tmp_path: Path) -> None:
    preset = _every_stage_preset()
    assert {s.stage for s in preset.stages} == set(all_stages())
    script = _check(preset, SAMPLES / "captcha.png", tmp_path)
    _ruff_check(script, tmp_path)
    assert "import scipy" not in script and "from scipy" not in script


def _defined(script: str, monkeypatch: pytest.MonkeyPatch, name: str = "exported") -> dict[str, object]:
    """What ``script`` defines, run as module ``name`` (dataclasses look it up); main() does not run."""
    module = types.ModuleType(name)
    monkeypatch.setitem(sys.modules, name, module)
    exec(compile(script, name, "exec"), module.__dict__)
    return module.__dict__


def test_every_stage_prefix_matches_runner_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each prefix of the every-stage preset: the script's ``clean`` equals the runner's output
    (checks every stage's pixels, not only the last one's)."""
    preset = _every_stage_preset()
    image = read_image(SAMPLES / "captcha.png")
    for k in range(1, len(preset.stages) + 1):
        prefix = preset.model_copy(update={"stages": preset.stages[:k]})
        namespace = _defined(export_python(prefix), monkeypatch, f"prefix_{k}")
        got = namespace["clean"](image.copy())  # type: ignore[operator]
        want = run(image, prefix, cache=None).final
        assert got.shape == want.shape and np.array_equal(got, want), preset.stages[k - 1].stage


def test_export_is_deterministic_and_standalone() -> None:
    preset = _every_stage_preset()
    first = export_python(preset)
    assert first == export_python(preset)
    tree = ast.parse(first)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m != "__future__"}
    assert third_party == {"cv2", "numpy", "pytesseract"}
    decorators = [d for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) for d in n.decorator_list]
    assert decorators == []
    classes = [n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    assert classes == []


def test_ocr_settings_are_carried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    preset = parse_preset(
        textwrap.dedent(
            """
            schema_version: 1
            name: digits
            stages: [grayscale]
            ocr:
              lang: eng
              psm: 8
              oem: 1
              dpi: 300
              whitelist: "0123456789 '\\""
              blacklist: "x"
              variables: {classify_bln_numeric_mode: 1}
            """
        )
    )
    script = export_python(preset)
    namespace = _defined(script, monkeypatch)
    args = namespace["OCR_ARGS"]
    assert namespace["OCR_MODES"] == [8]
    assert args == [
        "--oem",
        "1",
        "--dpi",
        "300",
        "-c",
        "tessedit_char_whitelist=0123456789 '\"",
        "-c",
        "tessedit_char_blacklist=x",
        "-c",
        "classify_bln_numeric_mode=1",
    ]
    assert namespace["OCR_LANG"] == "eng"
    _ruff_check(script, tmp_path)


@needs_tesseract
@pytest.mark.parametrize("kind", ["gray_alpha", "rgba", "gray16", "palette", "rgb_jpeg", "gray"])
def test_script_reads_images_like_clarity(kind: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (40, 60, 4), dtype=np.uint8)
    pixels[10:30, 10:50, 3] = 255
    path = tmp_path / ("in.jpg" if kind == "rgb_jpeg" else "in.png")
    if kind == "gray_alpha":
        Image.fromarray(pixels[:, :, [0, 3]], "LA").save(path)
    elif kind == "rgba":
        Image.fromarray(pixels, "RGBA").save(path)
    elif kind == "gray16":
        Image.fromarray((pixels[:, :, 0].astype(np.uint16) * 251).astype(np.uint16)).save(path)
    elif kind == "palette":
        Image.fromarray(pixels[:, :, :3], "RGB").quantize(16).save(path)
    elif kind == "rgb_jpeg":
        Image.fromarray(pixels[:, :, :3], "RGB").save(path, quality=90)
    else:
        Image.fromarray(pixels[:, :, 0], "L").save(path)
    if kind == "gray16":
        assert Image.open(path).mode.startswith("I")
    cleaned, _ = _run_script(export_python(Preset(name="as read")), tmp_path, path)
    expected = read_image(path)
    assert cleaned.shape == expected.shape
    assert np.array_equal(cleaned, expected)


# --- a stage module outside Clarity: scipy, a clashing helper name, same-module params model ----

_EXTRA_STAGE = '''
"""A stage module for the export tests: uses scipy and clashes with a stage helper's name."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from pipeline.params import StageParams

_SCALE = 1.0


class BoxParams(StageParams):
    size: int = 5


def to_gray(image: np.ndarray) -> np.ndarray:
    """Not the stage helper: the mean of the channels."""
    return image if image.ndim == 2 else image.mean(axis=2).astype(np.uint8)


def box(image: np.ndarray, p: BoxParams) -> np.ndarray:
    """Box filter with scipy."""
    values = to_gray(image).astype(np.float64) * _SCALE
    return np.clip(ndimage.uniform_filter(values, p.size), 0, 255).astype(np.uint8)
'''


@needs_tesseract
def test_scipy_import_and_clashing_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("scipy")
    module_dir = tmp_path / "mods"
    module_dir.mkdir()
    (module_dir / "export_extra_stage.py").write_text(_EXTRA_STAGE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(module_dir))
    module = importlib.import_module("export_extra_stage")
    stage = Stage("export_test_box", module.box, module.BoxParams, "denoise", "gray", False)
    monkeypatch.setitem(registry._REGISTRY, "export_test_box", stage)
    preset = Preset(
        stages=(
            StageSpec(stage="export_test_box", params={"size": 7}),
            StageSpec(stage="grayscale"),
            StageSpec(stage="threshold"),
        )
    )
    script = _check(preset, SAMPLES / "captcha.png", tmp_path)
    assert "from scipy import ndimage" in script
    assert "def to_gray(" in script and "def to_gray_image(" in script  # the later one is renamed
    _ruff_check(script, tmp_path)
    sys.modules.pop("export_extra_stage", None)


def test_global_names_follow_python_scoping() -> None:
    from pipeline.export import _global_loads

    code = textwrap.dedent(
        """
        def f(a, b=DEFAULT):
            x = helper(a)
            def inner(y):
                z = 1
                return y + z + OUTER + x
            vals = [w for w in range(3) if w > LIMIT]
            return z, vals, (lambda q: q + LAMBDA_GLOBAL)
        """
    )
    node = ast.parse(code).body[0]
    names = [n.id for n in _global_loads(node, set())]
    assert names == ["DEFAULT", "helper", "OUTER", "range", "LIMIT", "z", "LAMBDA_GLOBAL"]
