"""The OCRmyPDF plugin: the hook cleans the image Tesseract reads, and a real ocrmypdf run uses it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from pipeline import ocrmypdf_plugin
from pipeline.batch.pdf import Page, searchable_pdf
from pipeline.imageio import read_image
from pipeline.preset import parse_preset

from .conftest import ROOT, text_image

OCRMYPDF = Path(sys.executable).parent / "ocrmypdf"


def page_for(preset: Path | None) -> SimpleNamespace:
    """What the hook reads from OCRmyPDF's PageContext: the options and the page number."""
    options = SimpleNamespace(clarity=ocrmypdf_plugin.ClarityOptions(preset=str(preset) if preset else None))
    return SimpleNamespace(options=options, pageno=0)


def pil_page(dpi: float = 200.0) -> Image.Image:
    image = Image.fromarray(255 - text_image("Clarity plugin"))  # light text on dark: needs cleaning
    image.info["dpi"] = (dpi, dpi)
    return image


def test_the_hook_cleans_the_image_and_keeps_size_and_dpi(tmp_path: Path) -> None:
    preset = tmp_path / "p.yaml"
    preset.write_text("schema_version: 1\nstages: [invert, {stage: threshold, params: {method: otsu}}]\n")
    original = pil_page()
    cleaned = ocrmypdf_plugin.filter_ocr_image(page=page_for(preset), image=original)
    assert cleaned.size == original.size and cleaned.info["dpi"] == (200.0, 200.0)
    pixels = np.asarray(cleaned)
    assert set(np.unique(pixels)) == {0, 255} and pixels.mean() > 200  # dark text on white now
    assert ocrmypdf_plugin.filter_ocr_image(page=page_for(None), image=original) is original


def test_scaling_presets_scale_the_dpi_and_reshaping_ones_are_undone() -> None:
    scaled = parse_preset("schema_version: 1\nstages: [{stage: rescale, params: {factor: 2}}]\n")
    out = ocrmypdf_plugin.clean_image(pil_page(150.0), scaled)
    assert out.size == (pil_page().width * 2, pil_page().height * 2)
    assert out.info["dpi"] == pytest.approx((300.0, 300.0), rel=0.01)
    padded = parse_preset("schema_version: 1\nstages: [{stage: pad, params: {size: 40}}]\n")
    out = ocrmypdf_plugin.clean_image(pil_page(150.0), padded)
    assert out.size == pil_page().size and out.info["dpi"] == (150.0, 150.0)


def test_an_invalid_preset_is_refused_before_any_page() -> None:
    from ocrmypdf.exceptions import BadArgsError

    with pytest.raises(BadArgsError, match=r"--clarity-preset: .*no such file"):
        ocrmypdf_plugin.check_options(page_for(Path("/nonexistent/preset.yaml")).options)


def test_a_preset_that_turns_the_page_is_refused(tmp_path: Path) -> None:
    from ocrmypdf.exceptions import BadArgsError

    preset = tmp_path / "turn.yaml"
    preset.write_text("schema_version: 1\nstages: [{stage: rotate, params: {clockwise: 90}}]\n")
    with pytest.raises(BadArgsError, match=r"--clarity-preset: .*turn\.yaml: its 'rotate' stage turns"):
        ocrmypdf_plugin.check_options(page_for(preset).options)
    preset.write_text("schema_version: 1\nstages: [{stage: rotate, params: {clockwise: 0}}]\n")
    ocrmypdf_plugin.check_options(page_for(preset).options)  # no turn: accepted


def one_page_scan(corpus: Path, path: Path) -> Path:
    path.write_bytes(searchable_pdf([Page(read_image(corpus / "tesseract-test" / "phototest.tif"), 200.0)]))
    return path


def ocrmypdf(*args: str) -> subprocess.CompletedProcess:
    command = [str(OCRMYPDF), "--output-type", "pdf", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT)


@pytest.mark.corpus
def test_a_real_ocrmypdf_run_reads_the_cleaned_page(corpus: Path, tmp_path: Path) -> None:
    scan = one_page_scan(corpus, tmp_path / "scan.pdf")
    document = ROOT / "presets" / "document.yaml"
    done = ocrmypdf("--clarity-preset", str(document), str(scan), str(tmp_path / "a.pdf"))
    assert done.returncode == 0, done.stderr
    text = pdfium.PdfDocument(str(tmp_path / "a.pdf"))[0].get_textpage().get_text_range()
    assert "quick brown" in " ".join(text.split())
    # a preset that shrinks the page to a tenth leaves Tesseract nothing to read: the hook's image is used
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text("schema_version: 1\nstages: [{stage: rescale, params: {mode: factor, factor: 0.1}}]\n")
    done = ocrmypdf("--clarity-preset", str(tiny), str(scan), str(tmp_path / "b.pdf"))
    assert done.returncode == 0, done.stderr
    text = pdfium.PdfDocument(str(tmp_path / "b.pdf"))[0].get_textpage().get_text_range()
    assert "quick brown" not in " ".join(text.split())
