"""Atomic outputs: a crash while writing never leaves a half-written file."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.batch import writers
from pipeline.batch.writers import atomic_write, atomic_write_image, remove_stale_temporaries

from .conftest import ROOT

CRASH_IN_RENAME = """
import os, sys, time
from pathlib import Path
from pipeline.batch import writers
def hang(*args):
    print("written", flush=True)
    time.sleep(120)
os.replace = hang
writers.atomic_write(Path(sys.argv[1]), b"new" * 1_000_000)
"""


def test_killed_while_writing_leaves_the_old_file_and_a_temporary_that_is_cleared(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "out.txt"
    target.parent.mkdir()
    target.write_bytes(b"old")
    child = subprocess.Popen(
        [sys.executable, "-c", CRASH_IN_RENAME, str(target)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "written"
        child.send_signal(signal.SIGKILL)  # a crash: no cleanup code runs
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert target.read_bytes() == b"old"
    leftovers = [p for p in target.parent.iterdir() if p != target]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".out.txt.") and leftovers[0].stat().st_size
    assert remove_stale_temporaries(tmp_path) == 1
    assert sorted(target.parent.iterdir()) == [target]


def test_an_error_while_writing_removes_the_temporary(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "out.bin"

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writers.os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space"):
        atomic_write(target, b"data")
    assert list(tmp_path.iterdir()) == []


def test_written_files_are_complete_with_the_permissions_of_an_ordinary_file(tmp_path: Path) -> None:
    atomic_write(tmp_path / "a" / "b.txt", "grüße".encode())
    path = tmp_path / "a" / "b.txt"
    assert path.read_text(encoding="utf-8") == "grüße"
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_atomic_image_round_trip(tmp_path: Path) -> None:
    import cv2

    image = np.arange(60, dtype=np.uint8).reshape(6, 10)
    atomic_write_image(tmp_path / "x.png", image)
    assert np.array_equal(cv2.imread(str(tmp_path / "x.png"), cv2.IMREAD_UNCHANGED), image)
