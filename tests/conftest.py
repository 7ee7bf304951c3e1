"""Shared fixtures: the real-image corpus, small synthetic images; the Hypothesis profiles.

Property tests draw the same examples on every run (profile ``repeatable``), so a CI run
fails only for a change in the code, never for the luck of the draw. To hunt for new failing
cases with fresh random examples, run ``HYPOTHESIS_PROFILE=explore make test`` (or pytest);
add what it finds as an ``@example`` to the test.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# Presets saved from the page in tests (and by the servers they start) never land in the tree.
os.environ.setdefault("CLARITY_USER_PRESETS_DIR", tempfile.mkdtemp(prefix="clarity-user-presets-"))
# AppTest sessions of one test process may share a session id: the per-session OCR budget is tested
# on its own (tests/test_app_safety.py), not spent by the whole suite on a slow machine.
os.environ.setdefault("CLARITY_SESSION_OCR_BUDGET_S", "1000000")
# Under AppTest the studio's server is this test process, grown by every test before it: the server's
# memory budget is tested with real servers (tests/e2e_support.py gives them the shipped budget) and
# on its own (tests/test_safety_work.py), not spent by the suite's memory.
os.environ.setdefault("CLARITY_MEMORY_BUDGET_MB", "20000")

ROOT = Path(__file__).resolve().parents[1]
CORPUS = (ROOT / ".." / "shared" / "corpus").resolve()


def corpus_available() -> bool:
    """True when the shared corpus is beside the repository (``../shared/corpus``)."""
    return (CORPUS / "README.md").is_file()


@pytest.fixture(scope="session")
def corpus() -> Path:
    """Path of ``../shared/corpus``; the test is skipped, loudly, when it is absent."""
    if not corpus_available():
        message = f"CORPUS ABSENT: {CORPUS} not found; corpus tests skipped"
        warnings.warn(message, stacklevel=1)
        pytest.skip(message)
    return CORPUS


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def text_image(text: str = "Clarity 2026", scale: float = 1.2, pad: int = 20) -> np.ndarray:
    """Black text on white, 8-bit gray, drawn with OpenCV's Hershey font."""
    import cv2

    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    img = np.full((h + base + 2 * pad, w + 2 * pad), 255, np.uint8)
    cv2.putText(img, text, (pad, pad + h), cv2.FONT_HERSHEY_SIMPLEX, scale, 0, 2, cv2.LINE_AA)
    return img


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's) for a browser-test module; a missing Chromium fails, never skips."""
    from tests.e2e_support import launched_chromium

    yield from launched_chromium()
