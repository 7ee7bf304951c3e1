"""Whole batches: mirrored outputs, the manifest, bad inputs, resume, and a crash in the middle."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures.process import _ExecutorManagerThread
from pathlib import Path

import cv2
import pytest

from pipeline.batch import Batch, Job, run_batch
from pipeline.batch.inputs import Item
from pipeline.batch.local import LocalBackend
from pipeline.batch.manifest import preset_digest
from pipeline.preset import parse_preset

from .batch_support import PRESET, make_tree, records
from .conftest import ROOT


def job(out: Path, text: str = PRESET, kinds: tuple[str, ...] = ("image", "text")) -> Job:
    preset = parse_preset(text)
    return Job(preset, preset_digest(preset), out, kinds)


def test_outputs_mirror_the_inputs_and_the_manifest_has_one_record_each(tmp_path: Path) -> None:
    expected = make_tree(tmp_path / "in")
    out = tmp_path / "out"
    summary = run_batch(Batch(job(out), [tmp_path / "in"], jobs=1))
    assert (summary.total, summary.done, summary.failed, summary.skipped) == (8, 8, 0, 0)
    for rel, words in expected.items():
        stem = rel.removesuffix(".png")
        assert (out / f"{stem}.txt").read_text(encoding="utf-8").strip() == words
        assert cv2.imread(str(out / f"{stem}.png")) is not None
    found = records(out)
    assert sorted(r["input"] for r in found) == sorted(str(tmp_path / "in" / rel) for rel in expected)
    record = found[0]
    assert record["outputs"] == {"image": "set0/a/0.png", "text": "set0/a/0.txt"}
    assert record["text"] == "HELLO 42" and record["error"] is None and record["page"] is None
    assert record["engine"] in ("tesserocr", "pytesseract") and record["confidence"] > 50 and record["ms"] > 0
    assert record["preset"] == preset_digest(parse_preset(PRESET))


def test_a_bad_input_is_one_record_and_one_line_and_the_batch_goes_on(tmp_path: Path, capsys) -> None:
    make_tree(tmp_path / "in")
    broken = tmp_path / "in" / "set0" / "a" / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    (tmp_path / "in" / "bad.pdf").write_bytes(b"%PDF-1.4 nothing")
    out = tmp_path / "out"
    summary = run_batch(Batch(job(out), [tmp_path / "in"], jobs=1))
    assert (summary.total, summary.done, summary.failed) == (10, 8, 2)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "Traceback" not in "\n".join(err)
    assert err[0].startswith(f"{tmp_path / 'in' / 'bad.pdf'}: ") and err[1].startswith(f"{broken}: ")
    failed = [r for r in records(out) if r["error"]]
    assert [r["error"] for r in failed] == err and all(r["outputs"] == {} for r in failed)
    assert not (out / "set0" / "a" / "broken.txt").exists()


def test_resume_skips_what_is_done_with_the_same_preset(tmp_path: Path) -> None:
    make_tree(tmp_path / "in")
    out = tmp_path / "out"
    run_batch(Batch(job(out), [tmp_path / "in"], jobs=1))
    again = run_batch(Batch(job(out), [tmp_path / "in"], jobs=1, resume=True))
    assert (again.done, again.skipped) == (0, 8)
    assert len(records(out)) == 8
    (out / "set0" / "b" / "deep" / "1.txt").unlink()  # a lost output is made again
    again = run_batch(Batch(job(out), [tmp_path / "in"], jobs=1, resume=True))
    assert (again.done, again.skipped) == (1, 7)
    assert (out / "set0" / "b" / "deep" / "1.txt").read_text().strip() == "Clarity 7"
    other = PRESET.replace("psm: 7", "psm: 6")  # another preset: everything again
    again = run_batch(Batch(job(out, other), [tmp_path / "in"], jobs=1, resume=True))
    assert (again.done, again.skipped) == (8, 0)
    more = run_batch(Batch(job(out, other, ("image", "text", "tsv")), [tmp_path / "in"], jobs=1, resume=True))
    assert (more.done, more.skipped) == (8, 0)  # TSV files were not written before
    fresh = run_batch(Batch(job(out), [tmp_path / "in"], jobs=1))  # no --resume: a new manifest
    assert fresh.done == 8 and len(records(out)) == 8


CRASHING_BATCH = """
import sys, os
from pathlib import Path
from pipeline.batch import Batch, Job, run_batch, work
from pipeline.batch.manifest import preset_digest
from pipeline.preset import parse_preset
original = work.process_item
def process_and_die(job, item):
    record = original(job, item)
    if item.rel.endswith("b/deep/2"):
        os._exit(9)  # killed between writing the outputs and the manifest line
    return record
work.process_item = process_and_die
preset = parse_preset(sys.argv[3])
run_batch(Batch(Job(preset, preset_digest(preset), Path(sys.argv[2])), [Path(sys.argv[1])], jobs=1))
"""


def test_a_crashed_batch_leaves_complete_files_and_resume_finishes_it(tmp_path: Path) -> None:
    expected = make_tree(tmp_path / "in", copies=2)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-c", CRASHING_BATCH, str(tmp_path / "in"), str(out), PRESET],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 9, done.stderr
    before = records(out)
    assert 0 < len(before) < len(expected)
    for record in before:  # every record's outputs are whole
        assert (out / record["outputs"]["text"]).read_text().strip() == record["text"]
    summary = run_batch(Batch(job(out), [tmp_path / "in"], jobs=1, resume=True))
    assert summary.skipped == len(before) and summary.done == len(expected) - len(before)
    after = records(out)
    assert len({r["input"] for r in after}) == len(after) == len(expected)
    for rel, words in expected.items():
        assert (out / rel.replace(".png", ".txt")).read_text().strip() == words
    assert not [p for p in out.rglob(".*.tmp")]


def _default_sigint() -> None:
    """In the child: Ctrl-C interrupts, even when the suite runs as a background job (where the
    shell starts it with SIGINT ignored, and children inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_the_workers_and_says_how_to_resume(tmp_path: Path) -> None:
    expected = make_tree(tmp_path / "in", copies=16)  # 128 inputs
    out = tmp_path / "out"
    preset = str(tmp_path / "p.yaml")
    command = [sys.executable, "-m", "pipeline", "run", "--preset", preset, "--out", str(out)]
    (tmp_path / "p.yaml").write_text(PRESET)
    child = subprocess.Popen(
        [*command, "--jobs", "2", "--chunk-size", "1", str(tmp_path / "in")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE, text=True,
        preexec_fn=_default_sigint,
    )  # fmt: skip
    manifest = out / "manifest.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (manifest.is_file() and manifest.read_text().count("\n") >= 2):
        time.sleep(0.02)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    stopped = records(out)
    assert 2 <= len(stopped) < len(expected)
    resumed = subprocess.run(
        [*command, "--jobs", "1", "--resume", str(tmp_path / "in")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert len({r["input"] for r in records(out)}) == len(expected)
    assert not [p for p in out.rglob(".*.tmp")]


def test_an_interrupted_pool_is_wound_down_before_the_error_goes_on(tmp_path: Path) -> None:
    """The pool's manager thread has ended when the interruption leaves the backend (left running,
    it raced the interpreter's exit hook and sometimes printed a traceback after the message)."""
    make_tree(tmp_path / "in", copies=2)
    items = [Item(path, path.stem) for path in sorted((tmp_path / "in").rglob("*.png"))]

    def interrupt(chunk: object, result: object) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        LocalBackend(2).run(job(tmp_path / "out"), [[i] for i in items], interrupt)
    managers = [t for t in threading.enumerate() if isinstance(t, _ExecutorManagerThread)]
    assert not [t for t in managers if t.is_alive()]
