"""In headless Chromium: hostile share links get a message in the page while another visitor's page
keeps answering, the server's memory stays within its budget, and nothing leaves the machine.

One server (default settings) and one browser for the module; the server's memory (its process
and its OCR workers) is sampled all along.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
import urllib.request
import zlib

import pytest

from pipeline.limits import MEMORY_BUDGET_MB
from tests.e2e_support import (
    ERROR_SELECTOR,
    RUN_TRACKER_JS,
    open_stage,
    runs_finished,
    slider,
    studio_server,
    tree_rss_kb,
    wait_for_app,
    wait_run,
)

pytestmark = pytest.mark.browser

TIMEOUT_MS = 60_000


def link(data: object) -> str:
    raw = json.dumps(data).encode()
    return "1" + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


EIGHT_X = {"stage": "rescale", "params": {"mode": "factor", "factor": 8, "max_pixels": 500}}
HOSTILE = {
    "word list /dev/zero": (
        {"schema_version": 1, "ocr": {"variables": {"user_words_file": "/dev/zero"}}},
        "user_words_file",
    ),
    "two 8x rescales": (
        {"schema_version": 1, "stages": [{"stage": "grayscale"}, EIGHT_X, EIGHT_X], "ocr": {"psm": 6}},
        "CLARITY_MAX_STAGE_PIXELS",
    ),
}
CALM = {
    "schema_version": 1,
    "name": "calm visitor",
    "stages": [{"stage": "grayscale"}, {"stage": "threshold", "params": {"method": "fixed", "value": 170}}],
    "ocr": {"psm": 6},
}


class RssWatch:
    """Samples the server tree's RSS every 0.2 s in a thread; :attr:`peak_mb` is the highest seen."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_mb, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, tree_rss_kb(self.pid) / 1024)
            time.sleep(0.2)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with studio_server(tmp_path_factory.mktemp("studio-safety")) as srv:
        yield srv


def new_page(browser, outside: list[str]):
    context = browser.new_context(viewport={"width": 1300, "height": 950})
    context.add_init_script(RUN_TRACKER_JS)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)

    def note(request) -> None:
        host = urllib.parse.urlparse(request.url).hostname
        if request.url.startswith(("http:", "https:", "ws:", "wss:")) and host not in (
            "127.0.0.1",
            "localhost",
        ):
            outside.append(request.url)

    page.on("request", note)
    return context, page


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_link_gets_a_message_while_another_visitor_is_served(browser, server, case: str) -> None:
    data, words = HOSTILE[case]
    outside: list[str] = []
    calm_ctx, calm = new_page(browser, outside)
    bad_ctx, bad = new_page(browser, outside)
    watch = RssWatch(server.process.pid)
    try:
        calm.goto(f"{server.url}?p={link(CALM)}")
        wait_for_app(calm, TIMEOUT_MS)
        uid = open_stage(calm, 1)
        runs = runs_finished(calm)  # a first move, not timed: the workers load their engines
        slider(calm, f"stage:{uid}:value").press("ArrowLeft")
        wait_run(calm, runs, TIMEOUT_MS * 2)

        bad.goto(f"{server.url}?p={link(data)}")  # its script run starts now
        waits = []
        for key in ("ArrowRight", "ArrowLeft", "ArrowRight"):
            runs = runs_finished(calm)
            start = time.monotonic()
            slider(calm, f"stage:{uid}:value").press(key)
            wait_run(calm, runs, TIMEOUT_MS)
            waits.append(time.monotonic() - start)
        # Not blocked behind the hostile link's work (the 3 s target on a quiet machine is measured
        # by bench/soak.py --hostile; this machine is shared, so the test only bounds it loosely).
        print(f"{case}: the other visitor's key press to result: {', '.join(f'{w:.2f}' for w in waits)} s")
        assert max(waits) < 15, f"the other visitor waited {waits} s"

        wait_for_app(bad, TIMEOUT_MS)
        alerts = bad.eval_on_selector_all(ERROR_SELECTOR, "els => els.map(e => e.innerText)")
        assert any(words in text for text in alerts), alerts
        assert not bad.query_selector('[data-testid="stException"]')
        assert calm.eval_on_selector_all(ERROR_SELECTOR, "els => els.length") == 0
    finally:
        peak = watch.stop()
        bad_ctx.close()
        calm_ctx.close()
    assert peak < MEMORY_BUDGET_MB, f"server RSS peaked at {peak:.0f} MB"
    assert not outside, f"the page contacted outside addresses: {outside[:5]}"
    with urllib.request.urlopen(f"{server.url}_stcore/health", timeout=5) as resp:
        assert resp.status == 200  # the server stays up


def test_the_favicon_is_local(browser, server) -> None:
    outside: list[str] = []
    context, page = new_page(browser, outside)
    try:
        page.goto(server.url)
        wait_for_app(page, TIMEOUT_MS)
        icon = page.eval_on_selector("link[rel='shortcut icon']", "e => e.href")
        assert icon.startswith("data:") or icon.startswith(server.url), icon
    finally:
        context.close()
    assert not outside, outside
