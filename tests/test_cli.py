"""The command line: outputs, exit codes, messages without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from pipeline.cli import main
from pipeline.registry import all_stages

from .conftest import ROOT, text_image

PRESET = (
    "schema_version: 1\nname: t\nstages: [grayscale, {stage: threshold, params: {method: otsu}}]\n"
    "ocr: {psm: 7}\n"
)


@pytest.fixture
def preset(tmp_path: Path) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(PRESET)
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    for stem, text in (("one", "HELLO 42"), ("two", "Clarity 7")):
        cv2.imwrite(str(folder / f"{stem}.png"), text_image(text))
        (folder / f"{stem}.gt.txt").write_text(text + "\n")
    cv2.imwrite(str(folder / "one.gt.png"), text_image("HELLO 42"))  # pixel ground truth: not an input
    cv2.imwrite(str(folder / "nogt.png"), text_image("ignored"))  # no .gt.txt: ignored
    (folder / "notes.md").write_text("ignored")
    return folder


def test_run_writes_png_and_text(preset: Path, data: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code = main(
        ["run", "--preset", str(preset), "--out", str(out), str(data / "one.png"), str(data / "two.png")]
    )
    assert code == 0
    assert (out / "one.png").is_file() and (out / "two.png").is_file()
    assert "HELLO" in (out / "one.txt").read_text()
    cleaned = cv2.imread(str(out / "one.png"), cv2.IMREAD_UNCHANGED)
    assert cleaned.ndim == 2 and set(map(int, set(cleaned.ravel()))) <= {0, 255}


def test_run_bad_image_exits_1_and_processes_the_others(
    preset: Path, data: Path, tmp_path: Path, capsys
) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    missing = tmp_path / "missing.png"
    out = tmp_path / "out"
    code = main(
        ["run", "--preset", str(preset), "--out", str(out), str(broken), str(data / "one.png"), str(missing)]
    )
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert err[0].startswith(f"{broken}: ") and err[1].startswith(f"{missing}: no such file")
    assert (out / "one.txt").is_file()
    assert "Traceback" not in "\n".join(err)


def test_invalid_preset_exits_2(tmp_path: Path, data: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nstages: [{stage: median_blur, params: {ksize_w: 4}}]\n")
    assert main(["run", "--preset", str(bad), str(data / "one.png")]) == 2
    err = capsys.readouterr().err
    assert "stage 1 (median_blur)" in err and "ksize_w" in err and "odd" in err
    assert main(["check", str(bad)]) == 2
    assert main(["check", str(tmp_path / "nope.yaml")]) == 2


def test_check_valid(preset: Path, capsys) -> None:
    assert main(["check", str(preset)]) == 0
    assert "valid" in capsys.readouterr().out


def test_eval_json_lists_only_images_with_text_ground_truth(preset: Path, data: Path, capsys) -> None:
    assert main(["eval", "--preset", str(preset), "--json", str(data)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["preset"] == str(preset)
    assert [Path(i["image"]).name for i in report["items"]] == ["one.png", "two.png"]
    assert all(0.0 <= i["cer"] <= 1.0 for i in report["items"])
    assert report["mean_cer"] == pytest.approx(sum(i["cer"] for i in report["items"]) / 2)
    assert report["mean_cer"] < 0.3


def test_eval_table(preset: Path, data: Path, capsys) -> None:
    assert main(["eval", "--preset", str(preset), "--engine", "pytesseract", str(data)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("mean") and "(2 images)" in out[-1]


def test_stages_lists_every_stage_with_ranges(capsys) -> None:
    assert main(["stages"]) == 0
    out = capsys.readouterr().out
    for name in all_stages():
        assert f"\n{name}  [" in "\n" + out
    assert "ksize_w = 3" in out and "odd" in out


def test_usage_errors_exit_2() -> None:
    for argv in ([], ["run"], ["frobnicate"], ["run", "--preset", "p.yaml", "--engine", "x", "a.png"]):
        proc = subprocess.run(
            [sys.executable, "-m", "pipeline", *argv], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 2, argv
        assert "usage:" in proc.stderr and "Traceback" not in proc.stderr


def test_module_entry_point_runs(preset: Path, data: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "run",
            "--preset",
            str(preset),
            "--out",
            str(tmp_path / "o"),
            str(data / "two.png"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Clarity" in (tmp_path / "o" / "two.txt").read_text()
