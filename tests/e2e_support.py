"""Start the studio on a free port and drive it with Debian's Chromium through Playwright.

Shared by the browser tests and the latency and soak benchmarks in ``bench/``. Playwright never
downloads a browser here: it launches ``/usr/bin/chromium`` (Debian's package).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.limits import MEMORY_MB

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CLARITY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running ``streamlit run app.py``."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


@contextlib.contextmanager
def studio_server(
    log_dir: Path, *, env: dict[str, str] | None = None, timeout_s: float = 90
) -> Iterator[Server]:
    """Start the studio on a free port, wait until it is healthy, stop it afterwards."""
    port = free_port()
    log = log_dir / f"streamlit-{port}.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        # No file watcher: edits to the sources while a test or benchmark runs (others work in
        # this tree) must not reload modules under the running server.
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    # A real server has the shipped memory budget (the suite raises it for AppTest, see conftest).
    full_env = {**os.environ, MEMORY_MB.env: str(MEMORY_MB.default), **(env or {})}
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=full_env)
    server = Server(process, port, log)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{server.url}_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"streamlit did not become healthy in {timeout_s} s:\n{log.read_text()[-3000:]}"
                )
            time.sleep(0.3)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def process_tree(pid: int) -> dict[int, list[str]]:
    """``pid`` and all its running descendants, each with the fields of its ``/proc/N/stat`` after
    the command name (``[0]`` is the state, ``[1]`` the parent, ``[11]``/``[12]`` user/system ticks)."""
    children: dict[int, list[int]] = {}
    fields: dict[int, list[str]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        proc = int(stat.parent.name)
        fields[proc] = text[text.rindex(")") + 2 :].split()
        children.setdefault(int(fields[proc][1]), []).append(proc)
    tree, todo = {}, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        if p in fields:
            tree[p] = fields[p]
    return tree


def tree_rss_kb(pid: int) -> int:
    """VmRSS of ``pid`` and all its descendants, in kB (0 for processes that are gone)."""
    total = 0
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium (Playwright ``Browser``) from /usr/bin/chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def launched_chromium() -> Iterator[object]:
    """Body of the tests' module-scoped ``browser`` fixture (``yield from``): Chromium, or the test
    fails with the reason. A missing Chromium never skips: a skipped browser test would hide a
    broken page."""
    import pytest

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's Chromium "
            "(`make test` installs it, or `sudo apt-get install chromium`; "
            "set CLARITY_CHROMIUM to use another binary)",
            pytrace=False,
        )
    with chromium() as b:
        yield b


def wait_for_app(page, timeout_ms: float = 90_000) -> None:
    """Wait until the page has finished its script run and shows at least one image."""
    page.wait_for_selector('[data-testid="stImage"] img', timeout=timeout_ms)
    wait_idle(page, timeout_ms)


def wait_idle(page, timeout_ms: float = 60_000) -> None:
    """Wait until Streamlit reports no script running (the status widget disappears)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms
    )


def image_sources(page) -> list[str]:
    """The ``src`` of every image in the page's main area, in order."""
    return page.eval_on_selector_all(
        '[data-testid="stMain"] [data-testid="stImage"] img', "els => els.map(e => e.src)"
    )


# ------------------------------------------------------------------------- page helpers
# Streamlit gives every keyed widget's element (and keyed containers) the CSS class
# ``st-key-<key>`` with characters other than letters, digits, ``_`` and ``-`` replaced by ``-``;
# app.py keys the stage grid ``grid`` and the OCR panel ``ocr``.

GRID_IMAGES = '.st-key-grid [data-testid="stImage"] img'
"""The images of the stage grid (original first, then every enabled stage)."""
OCR_TEXTS = '.st-key-ocr [data-testid="stCode"]'
"""The two OCR readings: of the original image, then of the cleaned one."""
UPLOAD_INPUT = '.st-key-input-upload input[type="file"]'
IMAGE_CAPTION = '[data-testid="stMain"] [data-testid="stCaptionContainer"]:has-text("Image: ")'
ERROR_SELECTOR = '[data-testid="stException"], [data-testid="stAlertContentError"]'
"""Tracebacks and ``st.error`` boxes."""


def key_class(key: str) -> str:
    """The CSS class Streamlit gives the element of widget ``key``."""
    return "st-key-" + "".join(c if c.isalnum() or c in "_-" else "-" for c in key)


def grid_sources(page) -> list[str]:
    """The ``src`` of every stage-grid image, in order."""
    return page.eval_on_selector_all(GRID_IMAGES, "els => els.map(e => e.src)")


def grid_captions(page) -> list[str]:
    """The captions of the stage-grid images ("0. original — W × H px", "1. grayscale — 0.4 ms", ...)."""
    return page.eval_on_selector_all(
        '.st-key-grid [data-testid="stImageCaption"]', "els => els.map(e => e.innerText.trim())"
    )


def ocr_texts(page) -> list[str]:
    """The OCR readings shown (original, cleaned)."""
    return page.eval_on_selector_all(OCR_TEXTS, "els => els.map(e => e.innerText.trim())")


def image_caption(page) -> str:
    """The ``Image: name (origin), W × H px`` caption under the input section."""
    return page.locator(IMAGE_CAPTION).first.inner_text().strip()


def stage_uid(page, index: int) -> str:
    """The session uid (``s7``) of the ``index``-th (0-based) stage of the sidebar list."""
    expander = page.locator('[data-testid="stSidebar"] [data-testid="stExpander"]').nth(index)
    cls = expander.locator('[class*="st-key-on-"]').first.get_attribute("class") or ""
    return next(c for c in cls.split() if c.startswith("st-key-on-")).removeprefix("st-key-on-")


def open_stage(page, index: int) -> str:
    """Expand the ``index``-th stage of the sidebar (if collapsed; opening reruns the page, which
    draws the stage's widgets: waited for when the page has :data:`RUN_TRACKER_JS`); returns its uid."""
    expander = page.locator('[data-testid="stSidebar"] [data-testid="stExpander"]').nth(index)
    if expander.locator("details").get_attribute("open") is None:
        tracked = page.evaluate("() => Boolean(window.__clarity && window.__clarity.finished)")
        runs = runs_finished(page) if tracked else 0
        expander.locator("summary").click()
        if tracked:
            wait_run(page, runs)
    return stage_uid(page, index)


def slider(page, key: str):
    """The keyboard-focusable range input of the slider widget ``key``."""
    return page.locator(f'.{key_class(key)} input[type="range"]')


def slider_value(page, key: str) -> float:
    return float(slider(page, key).get_attribute("aria-valuetext") or slider(page, key).input_value())


def upload_image(page, name: str, data: bytes) -> None:
    """Upload an image through the page's file uploader."""
    mime = {b"\x89PNG": "image/png", b"%PDF": "application/pdf"}.get(data[:4], "image/jpeg")
    page.set_input_files(UPLOAD_INPUT, files=[{"name": name, "mimeType": mime, "buffer": data}])


def page_errors(page) -> list[str]:
    """Texts of tracebacks and error boxes shown, plus a lost connection."""
    found = page.eval_on_selector_all(ERROR_SELECTOR, "els => els.map(e => e.innerText.slice(0, 300))")
    if page.get_by_text("Connection error", exact=False).count():
        found.append("Connection error")
    return found


def text_image_png(
    lines: list[str],
    size: tuple[int, int] = (900, 300),
    *,
    seed: int = 0,
    noise: float = 0.05,
    colour: bool = True,
    fmt: str = ".png",
) -> bytes:
    """A photo-like image of text: tinted paper with uneven lighting, salt-and-pepper noise.

    ``size`` is (width, height); the text is scaled to fill about 80 % of the width.
    """
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 215 + 35 * np.sin(xx / w * np.pi * (1 + seed % 3)) * np.cos(yy / h * np.pi / 2)
    page = np.clip(light, 0, 255)
    if colour:
        tint = rng.uniform(0.85, 1.0, 3)
        img = np.stack([page * t for t in tint], axis=2).astype(np.uint8)
    else:
        img = page.astype(np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    longest = max(lines, key=len)
    (tw, th), _ = cv2.getTextSize(longest, font, 1.0, 2)
    scale = min(0.8 * w / max(tw, 1), 0.8 * h / (1.8 * th * len(lines)))
    line_h = int(th * scale * 1.8)
    thickness = max(1, round(scale * 2))
    y = (h - line_h * len(lines)) // 2 + int(th * scale)
    ink = (40, 30, 30) if colour else 35
    for line in lines:
        cv2.putText(img, line, (int(0.1 * w), y), font, scale, ink, thickness, cv2.LINE_AA)
        y += line_h
    if noise:
        mask = rng.random((h, w))
        img[mask < noise / 2] = 0
        img[mask > 1 - noise / 2] = 255
    ok, buf = cv2.imencode(fmt, img)
    assert ok
    return buf.tobytes()


# ------------------------------------------------------------------------ script-run tracking

RUN_TRACKER_JS = r"""
(() => {
  // Records, in the page clock, every script start and finish Streamlit reports over its
  // WebSocket (ForwardMsg field 6 = script_finished, field 9 = session_status_changed whose field
  // 2 = script_is_running), read from the top-level protobuf fields without a decoder; with
  // __clarity.keep = true it also keeps every frame (arrival time, bytes) for bench/.
  const T = (window.__clarity = {frames: [], finished: [], started: [], keep: false});
  const varint = (b, i) => {
    let x = 0, s = 0, c;
    do { c = b[i++]; x += (c & 127) * 2 ** s; s += 7; } while (c & 128 && i < b.length);
    return [x, i];
  };
  const fields = (b) => {
    const out = [];
    let i = 0;
    while (i < b.length) {
      let t, v = null;
      [t, i] = varint(b, i);
      const w = t & 7;
      if (w === 0) [v, i] = varint(b, i);
      else if (w === 1) i += 8;
      else if (w === 5) i += 4;
      else if (w === 2) { let n; [n, i] = varint(b, i); v = b.subarray(i, i + n); i += n; }
      else break;
      out.push([Math.floor(t / 8), v]);
    }
    return out;
  };
  const Native = window.WebSocket;
  class Tracked extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        const now = performance.now();
        if (!(e.data instanceof ArrayBuffer)) return;
        const b = new Uint8Array(e.data);
        if (T.keep) T.frames.push([now, b.slice()]);
        for (const [f, v] of fields(b)) {
          if (f === 6) T.finished.push([now, v || 0]);
          if (f === 9 && v) for (const [g, x] of fields(v)) if (g === 2 && x) T.started.push(now);
        }
      });
    }
  }
  window.WebSocket = Tracked;
})();
"""
"""Init script (``context.add_init_script``) that counts Streamlit script runs; see :func:`wait_run`."""

FINISHED_EARLY_FOR_RERUN = 2


def runs_finished(page) -> int:
    """How many script runs the page has seen finish (needs :data:`RUN_TRACKER_JS`)."""
    return page.evaluate("() => window.__clarity.finished.length")


RUN_DONE_JS = """n => { const F = window.__clarity.finished;
         return F.length > n && F[F.length - 1][1] !== 2 && window.__clarity.started.length <= F.length; }"""
"""Predicate (argument: a :func:`runs_finished` count): a later run finished and none is running."""


def run_done(page, since: int) -> bool:
    """True when a script run finished after the ``since``-th one and no run is going on."""
    return page.evaluate(f"({RUN_DONE_JS})({int(since)})")


def wait_run(page, since: int, timeout_ms: float = 60_000) -> None:
    """Wait until a script run finishes after the ``since``-th one (and is not superseded by a rerun),
    then until the page shows no running script."""
    page.wait_for_function(RUN_DONE_JS, arg=since, timeout=timeout_ms)
    wait_idle(page, timeout_ms)


def upload_and_wait(page, name: str, data: bytes, timeout_ms: float = 90_000) -> None:
    """Upload an image and wait until the page shows it (its name in the input caption) and the run
    that drew it has finished."""
    runs = runs_finished(page)
    upload_image(page, name, data)
    page.wait_for_function(
        """name => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stCaptionContainer"]')]
                   .some(e => e.innerText.startsWith('Image: ' + name + ' '))""",
        arg=name,
        timeout=timeout_ms,
    )
    wait_run(page, runs, timeout_ms)
