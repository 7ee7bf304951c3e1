"""Soak test: many browser sessions tuning different images on one studio server at once.

``python bench/soak.py [--seconds 120] [--sessions 8] [--max-rss-mb 1500]``

Starts the studio on a free loopback port and opens ``--sessions`` pages in one headless
Chromium (a separate browser context each, so separate Streamlit sessions). Each session opens
its own share link (a 4-stage preset whose fixed threshold starts at its own value, read with
psm 6 and 3, so the OCR's shared thread pool for alternative modes is under load too), uploads
its own generated image (its own words, size, lighting and noise), then, until ``--seconds``
have passed, presses ArrowLeft/ArrowRight on the threshold slider, keeping the value within
±2 of its start, and after every run checks that the page still shows its own state:

* the input caption names its own file and pixel size, and so does the original image's tile;
* the slider shows the value it set, and the address bar's ``?p=`` share link (the preset the
  server built for the session) holds that same value;
* the OCR text holds none of the other sessions' words (its own word is counted, as a warning);
* no traceback (``stException``), no error box, no "Connection error", no page error.

The sessions run concurrently: every session whose run finished is checked and sent its next
key press in turn, so the server has several script runs going at once. The server's memory
(VmRSS of the streamlit process and its children, from ``/proc``) is sampled every
``--sample-s`` seconds. Exit status 1 on any error, leak, timeout or RSS above ``--max-rss-mb``.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e_support import (  # noqa: E402
    RUN_TRACKER_JS,
    chromium,
    grid_captions,
    grid_sources,
    image_caption,
    ocr_texts,
    open_stage,
    page_errors,
    run_done,
    runs_finished,
    slider,
    slider_value,
    studio_server,
    text_image_png,
    tree_rss_kb,
    upload_and_wait,
    wait_for_app,
)

WORDS = [
    "ALPHA", "BRAVO", "DELTA", "HOTEL", "KILO", "OSCAR", "TANGO", "ZULU", "VICTOR", "LIMA", "MIKE", "ROMEO",
]  # fmt: skip
THRESHOLD_INDEX = 2
PRESET = """\
schema_version: 1
name: soak {n}
stages:
  - stage: grayscale
  - stage: median_blur
    params: {{ksize_w: 3, ksize_h: 3}}
  - stage: threshold
    params: {{method: fixed, value: {value}}}
  - stage: component_filter
    params: {{min_area: 4}}
ocr: {{lang: eng, psm: 6, alternative_psm: [3]}}  # two modes: the shared mode pool under load
"""
RUN_TIMEOUT_S = 90.0
CHECK_TIMEOUT_S = 10.0


@dataclass
class Session:
    """One browser session and what it must keep seeing."""

    n: int
    name: str
    size: tuple[int, int]
    word: str
    base: int
    page: object = None
    uid: str = ""
    value: int = 0
    runs: int = 0
    pressed_at: float = 0.0
    next_at: float = 0.0
    waiting: bool = False
    moves: int = 0
    errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    own_word_missing: int = 0
    run_ms: list[float] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"stage:{self.uid}:value"


def make_sessions(count: int) -> list[tuple[Session, bytes]]:
    out = []
    for i in range(count):
        word = WORDS[i % len(WORDS)]
        w, h = 640 + 56 * i, 220 + 24 * i
        data = text_image_png(
            [f"{word} {4000 + 137 * i}", f"session {i + 1} of {count}"],
            (w, h),
            seed=11 + i,
            noise=0.01 + 0.005 * i,
            colour=i % 3 != 2,
        )
        out.append((Session(i, f"soak-{i + 1}-{word.lower()}.png", (w, h), word, 100 + 8 * i), data))
    return out


def open_session(browser, base_url: str, s: Session, image: bytes) -> None:
    from pipeline.preset import parse_preset
    from pipeline.share import pack

    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.add_init_script(RUN_TRACKER_JS)
    page = context.new_page()
    page.set_default_timeout(RUN_TIMEOUT_S * 1000)
    page.on("pageerror", lambda exc: s.errors.append(f"page error: {exc}"))
    s.page = page
    preset = parse_preset(PRESET.format(n=s.n + 1, value=s.base), "soak")
    page.goto(f"{base_url}?p={pack(preset)}")
    wait_for_app(page, RUN_TIMEOUT_S * 1000)
    upload_and_wait(page, s.name, image, RUN_TIMEOUT_S * 1000)
    s.uid = open_stage(page, THRESHOLD_INDEX)
    s.value = round(slider_value(page, s.key))
    if s.value != s.base:
        s.errors.append(f"starts at {s.value}, not {s.base}")
    check(s, [])
    page.set_default_timeout(CHECK_TIMEOUT_S * 1000)


def shared_value(url: str) -> int | None:
    """The threshold value of the preset in the page address's ``?p=`` link."""
    from pipeline.share import unpack

    packed = parse_qs(urlparse(url).query).get("p")
    if not packed:
        return None
    stage = unpack(packed[0]).stages[THRESHOLD_INDEX]
    return int(stage.params.value)


def check(s: Session, others: list[Session], out: Path | None = None) -> None:
    """Record errors and leaks visible on session ``s``'s page now (a screenshot in ``out`` if any)."""
    before = len(s.errors) + len(s.leaks)
    try:
        _check(s, others)
    except Exception as exc:  # a page that cannot be read (element gone, timeout) is an error too
        s.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    if out is not None and len(s.errors) + len(s.leaks) > before:
        shot = out / f"session-{s.n + 1}-move-{s.moves}.png"
        try:
            out.mkdir(parents=True, exist_ok=True)
            s.page.screenshot(path=str(shot), timeout=10_000)
            print(f"  session {s.n + 1}: {(s.errors + s.leaks)[-1]} (screenshot {shot})")
        except Exception as exc:
            print(f"  session {s.n + 1}: no screenshot: {exc}")


def _check(s: Session, others: list[Session]) -> None:
    page = s.page
    for text in page_errors(page):
        s.errors.append(text)
    w, h = s.size
    caption = image_caption(page)
    if f"Image: {s.name} (uploaded), {w} × {h} px" not in caption:
        s.leaks.append(f"input caption {caption!r}")
    tiles = grid_captions(page)
    if not any(f"0. original — {w} × {h} px" in t for t in tiles):
        s.leaks.append(f"original tile caption not {w} × {h}: {tiles[:2]!r}")
    shown = round(slider_value(page, s.key))
    if shown != s.value:
        s.leaks.append(f"slider shows {shown}, set {s.value}")
    linked = shared_value(page.url)
    if linked != s.value:
        s.leaks.append(f"share link holds threshold {linked}, set {s.value}")
    texts = " ".join(ocr_texts(page)).upper()
    for other in others:
        if other.word in texts:
            s.leaks.append(f"OCR text holds {other.word} of session {other.n + 1}")
    if s.word not in texts:
        s.own_word_missing += 1
    if len(grid_sources(page)) != 5:
        s.errors.append(f"{len(grid_sources(page))} stage images, not 5")


def press(s: Session, rng: random.Random) -> None:
    if s.value >= s.base + 2:
        key = "ArrowLeft"
    elif s.value <= s.base - 2:
        key = "ArrowRight"
    else:
        key = rng.choice(["ArrowLeft", "ArrowRight"])
    s.runs = runs_finished(s.page)
    slider(s.page, s.key).press(key)
    s.value += 1 if key == "ArrowRight" else -1
    s.pressed_at = time.monotonic()
    s.waiting = True


def soak(
    sessions: list[Session], seconds: float, server_pid: int, sample_s: float, seed: int, out: Path
) -> list:
    """Drive all sessions until ``seconds`` have passed; returns the RSS samples (t, kB)."""
    rng = random.Random(seed)
    samples = [(0.0, tree_rss_kb(server_pid))]
    start = time.monotonic()
    deadline = start + seconds
    next_sample = start + sample_s
    while True:
        now = time.monotonic()
        if now >= next_sample:
            samples.append((now - start, tree_rss_kb(server_pid)))
            next_sample += sample_s
        active = False
        for s in sessions:
            if s.waiting:
                active = True
                if run_done(s.page, s.runs):
                    s.waiting = False
                    s.moves += 1
                    s.run_ms.append((time.monotonic() - s.pressed_at) * 1000)
                    check(s, [o for o in sessions if o is not s], out)
                    s.next_at = time.monotonic() + rng.uniform(0.0, 0.4)
                elif time.monotonic() - s.pressed_at > RUN_TIMEOUT_S:
                    s.errors.append(f"no finished run {RUN_TIMEOUT_S:.0f} s after a key press")
                    s.waiting = False
            elif now < deadline and now >= s.next_at and not s.errors:
                press(s, rng)
                active = True
        if now >= deadline and not active:
            break
        time.sleep(0.02)
    samples.append((time.monotonic() - start, tree_rss_kb(server_pid)))
    return samples


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=120, help="how long to move sliders (default 120)")
    ap.add_argument("--sessions", type=int, default=8, help="concurrent browser sessions (default 8)")
    ap.add_argument("--max-rss-mb", type=float, default=1500, help="server RSS bound in MB (default 1500)")
    ap.add_argument("--sample-s", type=float, default=3, help="RSS sampling period in s (default 3)")
    ap.add_argument("--seed", type=int, default=1, help="random seed of the key presses")
    ap.add_argument(
        "--out", type=Path, default=ROOT / "out" / "soak", help="screenshots of failures (default out/soak)"
    )
    args = ap.parse_args(argv)
    if not 1 <= args.sessions <= len(WORDS):
        ap.error(f"--sessions must be 1..{len(WORDS)}")

    pairs = make_sessions(args.sessions)
    sessions = [s for s, _ in pairs]
    with (
        tempfile.TemporaryDirectory(prefix="clarity-soak-") as tmp,
        studio_server(Path(tmp)) as srv,
        chromium() as browser,
    ):
        t0 = time.monotonic()
        for s, image in pairs:
            open_session(browser, srv.url, s, image)
        print(f"{len(sessions)} sessions open in {time.monotonic() - t0:.0f} s on {srv.url}; "
              f"soaking for {args.seconds:.0f} s")  # fmt: skip
        samples = soak(sessions, args.seconds, srv.process.pid, args.sample_s, args.seed, args.out)
        log = srv.log.read_text(errors="replace")
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "streamlit.log").write_text(log)
    server_errors = [line for line in log.splitlines() if "Traceback" in line or "Error" in line]

    mb = [kb / 1024 for _, kb in samples]
    half = samples[-1][0] / 2
    second_half = [kb / 1024 for t, kb in samples if t >= half]
    growth = second_half[-1] - second_half[0] if second_half else 0.0
    moves = sum(s.moves for s in sessions)
    errors = sum(len(s.errors) for s in sessions) + len(server_errors)
    leaks = sum(len(s.leaks) for s in sessions)
    all_ms = sorted(ms for s in sessions for ms in s.run_ms)
    print(f"\nsessions: {len(sessions)}   slider moves: {moves} "
          f"({moves / max(args.seconds, 1e-9):.1f}/s)   errors: {errors}   leaks: {leaks}")  # fmt: skip
    if all_ms:
        print(f"key press -> run finished: median {all_ms[len(all_ms) // 2]:.0f} ms, "
              f"p90 {all_ms[int(0.9 * (len(all_ms) - 1))]:.0f} ms, max {all_ms[-1]:.0f} ms")  # fmt: skip
    print(f"server RSS: start {mb[0]:.0f} MB, peak {max(mb):.0f} MB, end {mb[-1]:.0f} MB, "
          f"growth over the last half {growth:+.0f} MB (bound {args.max_rss_mb:.0f} MB, "
          f"{len(samples)} samples)")  # fmt: skip
    for s in sessions:
        w, h = s.size
        note = f", own word {s.word} not read {s.own_word_missing}×" if s.own_word_missing else ""
        print(f"  session {s.n + 1}: {s.name} {w}×{h}, threshold {s.base}±2: {s.moves} moves, "
              f"{len(s.errors)} errors, {len(s.leaks)} leaks{note}")  # fmt: skip
        for text in (s.errors + s.leaks)[:5]:
            print(f"      {text}")
    for line in server_errors[:10]:
        print(f"  server log: {line}")
    breach = max(mb) > args.max_rss_mb
    if breach:
        print(f"RSS bound breached: peak {max(mb):.0f} MB > {args.max_rss_mb:.0f} MB")
    ok = not errors and not leaks and not breach and all(s.moves for s in sessions)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
