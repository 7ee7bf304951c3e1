"""``clarity run`` for batches: PDFs in and out, hOCR and TSV, options, the installed command."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import cv2
import pypdfium2 as pdfium
import pytest

from pipeline.batch.pdf import Page, searchable_pdf
from pipeline.cli import ENGINES, main
from pipeline.imageio import read_image
from pipeline.ocr.engine import ENGINE_NAMES

from .batch_support import make_tree, records, write_preset
from .conftest import text_image


def two_page_scan(corpus: Path, path: Path) -> Path:
    """phototest (200 dpi) and eurotext (300 dpi) from tesseract-test as an image-only PDF."""
    folder = corpus / "tesseract-test"
    pages = [
        Page(read_image(folder / "phototest.tif"), 200.0),
        Page(read_image(folder / "eurotext.tif"), 300.0),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(searchable_pdf(pages))
    return path


def pdf_text(path: Path) -> list[str]:
    return [" ".join(page.get_textpage().get_text_range().split()) for page in pdfium.PdfDocument(str(path))]


@pytest.mark.corpus
def test_pdf_in_searchable_pdf_out(corpus: Path, tmp_path: Path, capsys) -> None:
    scan = two_page_scan(corpus, tmp_path / "in" / "scan.pdf")
    assert pdf_text(scan) == ["", ""]  # no text layer before
    out = tmp_path / "out"
    code = main(["run", "--preset", "document", "--out", str(out), "--pdf", "--dpi", "200", str(scan)])
    assert code == 0, capsys.readouterr().err
    found = records(out)
    assert [(r["page"], r["outputs"]["pdf"]) for r in found] == [
        (1, "scan/page-0001.pdf"),
        (2, "scan/page-0002.pdf"),
    ]
    text = pdf_text(out / "scan.pdf")
    assert len(text) == 2
    assert "quick brown" in text[0] and "braune Fuchs" in text[1]
    assert "quick brown" in (out / "scan" / "page-0001.txt").read_text()


def test_a_page_its_preset_turns_is_written_upright_under_its_words(tmp_path: Path, capsys) -> None:
    (tmp_path / "in").mkdir()
    lying = cv2.rotate(text_image("HELLO 42"), cv2.ROTATE_90_COUNTERCLOCKWISE)  # lines run bottom to top
    cv2.imwrite(str(tmp_path / "in" / "label.png"), lying)
    turn = "schema_version: 1\nstages: [{stage: rotate, params: {clockwise: 90}}]\nocr: {psm: 7}\n"
    preset = write_preset(tmp_path, turn)
    out = tmp_path / "out"
    args = ["--out", str(out), "--pdf", str(tmp_path / "in")]
    assert main(["run", "--preset", str(preset), *args]) == 0, capsys.readouterr().err
    page = pdfium.PdfDocument(str(out / "label.pdf"))[0]
    upright = lying.shape[0] / lying.shape[1]  # width over height once stood up
    assert page.get_width() / page.get_height() == pytest.approx(upright, rel=0.01)
    assert pdf_text(out / "label.pdf") == ["HELLO 42"]
    left, bottom, _, top = page.get_textpage().get_charbox(0)  # the H, over the upright page's H
    assert left < page.get_width() / 4 and 0 < bottom < top < page.get_height()


def test_hocr_and_tsv_hold_the_words(tmp_path: Path) -> None:
    make_tree(tmp_path / "in")
    out = tmp_path / "out"
    preset = write_preset(tmp_path)
    code = main(["run", "--preset", str(preset), "--out", str(out), "--hocr", "--tsv", str(tmp_path / "in")])
    assert code == 0
    tsv = (out / "set0" / "a" / "0.tsv").read_text().splitlines()
    assert tsv[0].split("\t")[-1] == "text" and [row.split("\t")[-1] for row in tsv[2:]] == ["HELLO", "42"]
    hocr = (out / "set0" / "a" / "0.hocr").read_text()
    assert "class='ocrx_word'" in hocr and ">HELLO</span>" in hocr and "x_wconf" in hocr
    assert records(out)[0]["outputs"]["hocr"] == "set0/a/0.hocr"


def test_engine_choices_come_from_the_engine_module() -> None:
    assert ("auto", *ENGINE_NAMES) == ENGINES


def test_bad_options_are_usage_errors(tmp_path: Path, capsys) -> None:
    make_tree(tmp_path / "in")
    preset = write_preset(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["run", "--preset", str(preset), "--jobs", "0", str(tmp_path / "in")])
    assert exc.value.code == 2 and "at least 1" in capsys.readouterr().err
    inputs = tmp_path / "in" / "set0" / "a"
    assert main(["run", "--preset", str(preset), "--out", str(inputs), str(inputs)]) == 2
    err = capsys.readouterr().err
    assert "outputs would replace inputs" in err and "Traceback" not in err


def test_the_clarity_command_and_the_plugin_are_installed() -> None:
    scripts = importlib.metadata.entry_points(group="console_scripts", name="clarity")
    assert [e.value for e in scripts] == ["pipeline.cli:main"]
    plugins = importlib.metadata.entry_points(group="ocrmypdf", name="clarity")
    assert [e.value for e in plugins] == ["pipeline.ocrmypdf_plugin"]


def test_preset_auto_chooses_per_input_and_resumes(tmp_path: Path, capsys) -> None:
    make_tree(tmp_path / "in")
    out = tmp_path / "out"
    args = ["run", "--preset", "auto", "--engine", "tesserocr", "--out", str(out), str(tmp_path / "in")]
    assert main(args) == 0, capsys.readouterr().err
    found = records(out)
    assert len(found) == 8 and {r["engine"] for r in found} == {"tesserocr"}
    assert (out / "set0" / "a" / "1.txt").read_text().strip() == "Clarity 7"
    assert main([*args, "--resume"]) == 0
    assert "8 skipped" in capsys.readouterr().out
    other = ["run", "--preset", "auto", "--engine", "pytesseract", "--out", str(out), "--resume"]
    assert main([*other, str(tmp_path / "in")]) == 0  # another engine: another digest, all again
    assert "8 read" in capsys.readouterr().out
