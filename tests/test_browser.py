"""End to end in headless Chromium: the real page, a slider moved with the keyboard, two sessions.

One server and one browser for the module (started once: about 5 s); Playwright drives Debian's
``/usr/bin/chromium`` (``make test`` installs it). A missing Chromium fails the tests with the
reason, it does not skip them: a skipped browser test would hide a broken page.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from pipeline.preset import parse_preset
from pipeline.share import pack
from tests.e2e_support import (
    RUN_TRACKER_JS,
    grid_captions,
    grid_sources,
    image_caption,
    ocr_texts,
    open_stage,
    page_errors,
    runs_finished,
    slider,
    slider_value,
    studio_server,
    text_image_png,
    upload_and_wait,
    wait_for_app,
    wait_run,
)

pytestmark = pytest.mark.browser

PRESET = """\
schema_version: 1
name: browser test
stages:
  - stage: grayscale
  - stage: background_flatten
    params: {method: median, size: 51}
  - stage: threshold
    params: {method: fixed, value: 180}
  - stage: component_filter
    params: {min_area: 4}
ocr: {lang: eng, psm: 6}
"""
THRESHOLD = 2
"""Position (0-based) of the threshold stage in :data:`PRESET`."""
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with studio_server(tmp_path_factory.mktemp("studio")) as srv:
        yield srv


@pytest.fixture(scope="module")
def url(server) -> str:
    """The studio opened with :data:`PRESET` through a share link."""
    return f"{server.url}?p={pack(parse_preset(PRESET, 'browser test'))}"


def open_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(RUN_TRACKER_JS)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    wait_for_app(page, TIMEOUT_MS * 2)
    page.wait_for_selector('.st-key-ocr [data-testid="stCode"]')
    return context, page


def move_threshold(page, key: str = "ArrowRight") -> float:
    """Press ``key`` on the threshold slider, wait for the run to finish; returns the new value."""
    uid = open_stage(page, THRESHOLD)
    field = f"stage:{uid}:value"
    before_value = slider_value(page, field)
    runs = runs_finished(page)
    slider(page, field).press(key)
    wait_run(page, runs, TIMEOUT_MS)
    after = slider_value(page, field)
    assert after != before_value
    return after


def test_page_tunes_a_stage_and_reads_text(browser, url: str, tmp_path: Path) -> None:
    context, page = open_page(browser, url)
    try:
        sources = grid_sources(page)
        assert len(sources) == 5, sources  # original + 4 stages
        assert all("/media/" in s for s in sources)
        original, cleaned = ocr_texts(page)
        assert cleaned and cleaned != "(no text found)"
        assert "segmentation" in original.lower()  # the first sample: a printed page
        assert "segmentation" in cleaned.lower()
        assert "document.png" in image_caption(page)

        value = move_threshold(page, "ArrowRight")
        assert value == 181
        after = grid_sources(page)
        assert after[: THRESHOLD + 1] == sources[: THRESHOLD + 1]  # earlier stages: the same images
        assert after[THRESHOLD + 1] != sources[THRESHOLD + 1]  # the threshold image changed
        assert "?p=" in page.url
        assert ocr_texts(page)[1]

        value = move_threshold(page, "ArrowLeft")
        assert value == 180
        assert grid_sources(page) == sources  # back to the same settings: the same images
        assert page_errors(page) == []

        shot = tmp_path / "studio.png"
        page.screenshot(path=str(shot), full_page=True)
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(data) > 20_000
        with Image.open(io.BytesIO(data)) as img:
            assert img.width >= 1000 and img.height >= 1000
            lo, hi = img.convert("L").getextrema()
            assert hi - lo > 100  # not a blank page
    finally:
        context.close()


def test_two_sessions_never_share_state(browser, url: str) -> None:
    ctx_a, a = open_page(browser, url)
    ctx_b, b = open_page(browser, url)
    try:
        # Session B tunes another image, uploaded.
        before_a, before_b = grid_sources(a), grid_sources(b)
        assert before_a == before_b  # same link, same sample: the same images (media is by content)
        upload_and_wait(
            b, "zebra.png", text_image_png(["ZEBRA CROSSING 4711", "quiet harbour lights"], seed=3)
        )
        assert grid_sources(a) == before_a
        srcs_b = grid_sources(b)
        texts_b = ocr_texts(b)
        assert "zebra.png (uploaded), 900 × 300 px" in image_caption(b)
        assert "ZEBRA" in texts_b[1].upper()

        # Session A moves its threshold; B must not move or rerun.
        uid_b = open_stage(b, THRESHOLD)  # opening a stage reruns B: before counting its runs
        runs_b = runs_finished(b)
        value_a = move_threshold(a, "ArrowRight")
        srcs_a = grid_sources(a)
        texts_a = ocr_texts(a)
        assert value_a == 181
        assert "document.png (sample), 384 × 191 px" in image_caption(a)
        assert "segmentation" in texts_a[1].lower()
        assert "ZEBRA" not in " ".join(texts_a).upper()

        assert slider_value(b, f"stage:{uid_b}:value") == 180
        assert grid_sources(b) == srcs_b
        assert ocr_texts(b) == texts_b
        assert "zebra.png" in image_caption(b)
        assert not set(srcs_a) & set(srcs_b)
        assert "segmentation" not in " ".join(texts_b).lower()

        assert runs_finished(b) == runs_b

        # B moves the same slider the other way; A keeps its value, images and text.
        runs_a = runs_finished(a)
        assert move_threshold(b, "ArrowLeft") == 179
        assert grid_sources(b) != srcs_b
        assert slider_value(a, f"stage:{open_stage(a, THRESHOLD)}:value") == 181
        assert grid_sources(a) == srcs_a
        assert ocr_texts(a) == texts_a
        assert runs_finished(a) == runs_a
        assert a.url != b.url  # each address bar carries its own settings
        assert "zebra" not in image_caption(a)
        assert page_errors(a) == [] and page_errors(b) == []
    finally:
        ctx_a.close()
        ctx_b.close()


PREVIEW_WATCH_JS = """() => {
  window.__previews = [];
  new MutationObserver(() => {
    for (const el of document.querySelectorAll('.st-key-grid-preview [data-testid="stImageCaption"]'))
      if (!window.__previews.includes(el.innerText.trim())) window.__previews.push(el.innerText.trim());
  }).observe(document, {subtree: true, childList: true, characterData: true});
}"""


def test_a_big_photo_is_previewed_at_reduced_size_then_shown_at_full_size(browser, url: str) -> None:
    """An 8.8 MP photo: a slider move shows the stages at half size first, marked so, then at full size."""
    context, page = open_page(browser, url)
    try:
        photo = text_image_png(["BIG PHOTO 2026", "previewed at half size"], (3400, 2600), seed=5)
        upload_and_wait(page, "big.png", photo, TIMEOUT_MS * 4)
        assert "big.png (uploaded), 3400 × 2600 px" in image_caption(page)
        page.evaluate(PREVIEW_WATCH_JS)
        move_threshold(page, "ArrowRight")
        seen = page.evaluate("() => window.__previews")
        assert seen and seen[0].startswith("0. original — 1700 × 1300 px · preview 1/2"), seen
        assert all("preview 1/2" in caption for caption in seen)
        captions = grid_captions(page)  # after the run: the full-size images, no preview left
        assert len(captions) == 5 and captions[0].startswith("0. original — 3400 × 2600 px"), captions
        assert not any("preview" in caption for caption in captions)
        assert page.locator(".st-key-grid-preview").count() == 0
        assert page_errors(page) == []
    finally:
        context.close()
