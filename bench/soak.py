"""Soak test: many browser sessions tuning different images on one studio server at once.

``python bench/soak.py [--seconds 120] [--sessions 8] [--max-rss-mb 1536] [--no-heavy] [--no-hostile]``

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

Two more sessions load the server meanwhile (both on by default):

* a heavy one (``--heavy``) uploads a dense 24 MP page (6000 x 4000, about 2,000 words) and
  keeps moving its threshold, so a 24 MP page is read by the OCR almost all the time; its
  in-page messages (a time limit or its session budget reached) are reported, and a
  traceback, a lost connection or no result within its run timeout count as errors;
* a hostile one (``--hostile``) opens, every 20 s, a share link naming ``/dev/zero`` as
  Tesseract's word list or one with two 8x rescales; each must show its in-page message.

The key-press-to-result times reported are the ordinary sessions' only ("the others").

The sessions run concurrently: every session whose run finished is checked and sent its next
key press in turn, so the server has several script runs going at once. The server's memory
(VmRSS of the streamlit process and its children, from ``/proc``) is sampled every
``--sample-s`` seconds. Exit status 1 on any error, leak, timeout or RSS above ``--max-rss-mb``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.e2e_support: test helpers are not installed

from pipeline.limits import MEMORY_BUDGET_MB  # noqa: E402
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
HEAVY_TIMEOUT_S = 240.0
HEAVY_PRESET = """\
schema_version: 1
name: heavy page
stages:
  - stage: grayscale
  - stage: threshold
    params: {method: fixed, value: 150}
ocr: {lang: eng, psm: 3, timeout_s: 60}
"""
HOSTILE_EVERY_S = 20.0
EIGHT_X = {"stage": "rescale", "params": {"mode": "factor", "factor": 8, "max_pixels": 500}}
HOSTILE_LINKS = [
    ({"schema_version": 1, "ocr": {"variables": {"user_words_file": "/dev/zero"}}}, "user_words_file"),
    ({"schema_version": 1, "stages": [{"stage": "grayscale"}, EIGHT_X, EIGHT_X]}, "CLARITY_MAX_STAGE_PIXELS"),
]


@dataclass(kw_only=True)
class Driven:
    """A browser page the soak drives, and what it saw."""

    page: object = None
    uid: str = ""
    value: int = 0
    runs: int = 0
    pressed_at: float = 0.0
    next_at: float = 0.0
    waiting: bool = False
    moves: int = 0
    errors: list[str] = field(default_factory=list)
    run_ms: list[float] = field(default_factory=list)


@dataclass(kw_only=True)
class Session(Driven):
    """One ordinary session and what it must keep seeing."""

    n: int
    name: str
    size: tuple[int, int]
    word: str
    base: int
    leaks: list[str] = field(default_factory=list)
    own_word_missing: int = 0

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
        name = f"soak-{i + 1}-{word.lower()}.png"
        out.append((Session(n=i, name=name, size=(w, h), word=word, base=100 + 8 * i), data))
    return out


def dense_page_png(width: int = 6000, height: int = 4000, seed: int = 5) -> bytes:
    """A 24 MP gray page densely filled with lines of words (about 2,000 words), as PNG."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    page = np.full((height, width), 232, np.uint8)
    vocabulary = [w.lower() for w in WORDS] + ["page", "reading", "column", "server", "budget", "worker"]
    y = 60
    while y < height - 30:
        line = " ".join(rng.choice(vocabulary, 20))
        cv2.putText(page, line, (40, y), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 25, 2, cv2.LINE_AA)
        y += 42
    ok, buf = cv2.imencode(".png", page)
    assert ok
    return buf.tobytes()


def share_string(data: dict) -> str:
    """A share link's string holding ``data`` unvalidated, as a hand-made (hostile) link would."""
    import base64
    import json
    import zlib

    raw = zlib.compress(json.dumps(data).encode(), 9)
    return "1" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(kw_only=True)
class Extra(Driven):
    """The heavy or the hostile session."""

    name: str
    expect: str = ""
    notes: list[str] = field(default_factory=list)


def new_page(browser, timeout_s: float, errors: list[str]):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.add_init_script(RUN_TRACKER_JS)
    page = context.new_page()
    page.set_default_timeout(timeout_s * 1000)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    return page


def open_heavy(browser, base_url: str, h: Extra) -> None:
    """Open the heavy session on the dense 24 MP page (waits for its first full run)."""
    from pipeline.preset import parse_preset
    from pipeline.share import pack

    h.page = new_page(browser, HEAVY_TIMEOUT_S, h.errors)
    h.page.goto(f"{base_url}?p={pack(parse_preset(HEAVY_PRESET, 'soak'))}")
    wait_for_app(h.page, HEAVY_TIMEOUT_S * 1000)
    upload_and_wait(h.page, "dense-24mp.png", dense_page_png(), HEAVY_TIMEOUT_S * 1000)
    h.uid = open_stage(h.page, 1)
    h.page.set_default_timeout(CHECK_TIMEOUT_S * 1000)
    note_alerts(h)


def note_alerts(x: Extra) -> list[str]:
    """Record tracebacks and lost connections as errors, in-page messages as notes; returns the messages."""
    page = x.page
    if page.query_selector('[data-testid="stException"]') or page.get_by_text("Connection error").count():
        x.errors.append("traceback or lost connection")
    texts = page.eval_on_selector_all(
        '[data-testid="stAlertContentError"]', "els => els.map(e => e.innerText.slice(0, 1000))"
    )
    x.notes.extend(t for t in texts if t not in x.notes)
    return texts


def step_heavy(h: Extra, deadline: float) -> bool:
    """Advance the heavy session: press its threshold slider, or check its finished run; True while busy."""
    now = time.monotonic()
    if h.waiting:
        if run_done(h.page, h.runs):
            h.waiting = False
            h.moves += 1
            h.run_ms.append((now - h.pressed_at) * 1000)
            try:
                note_alerts(h)
            except Exception as exc:
                h.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        elif now - h.pressed_at > HEAVY_TIMEOUT_S:
            h.errors.append(f"no finished run {HEAVY_TIMEOUT_S:.0f} s after a key press")
            h.waiting = False
        return True
    if now < deadline and not h.errors:
        h.runs = runs_finished(h.page)
        key = "ArrowRight" if h.moves % 2 == 0 else "ArrowLeft"
        slider(h.page, f"stage:{h.uid}:value").press(key)
        h.pressed_at, h.waiting = now, True
        return True
    return False


def step_hostile(x: Extra, base_url: str, deadline: float) -> bool:
    """Advance the hostile session: open the next hostile link, or check its message; True while busy."""
    now = time.monotonic()
    if x.waiting:
        if run_done(x.page, 0):
            x.waiting = False
            x.run_ms.append((now - x.pressed_at) * 1000)
            try:
                texts = note_alerts(x)
            except Exception as exc:
                x.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
                return True
            if not any(x.expect in t for t in texts):
                x.errors.append(f"no message naming {x.expect} (saw {texts[:2]!r})")
        elif now - x.pressed_at > RUN_TIMEOUT_S:
            x.errors.append(f"hostile link: no finished run in {RUN_TIMEOUT_S:.0f} s")
            x.waiting = False
        return True
    if now < deadline and now >= x.next_at:
        data, x.expect = HOSTILE_LINKS[x.moves % len(HOSTILE_LINKS)]
        x.moves += 1
        x.pressed_at, x.waiting, x.next_at = now, True, now + HOSTILE_EVERY_S
        x.page.goto(f"{base_url}?p={share_string(data)}", wait_until="commit")
        return True
    return False


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


def step_sessions(
    sessions: list[Session], now: float, deadline: float, rng: random.Random, out: Path
) -> bool:
    """One polling round over the slider sessions; True while any of them is still busy."""
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
    return active


def soak(
    sessions: list[Session],
    seconds: float,
    server_pid: int,
    sample_s: float,
    seed: int,
    out: Path,
    heavy: Extra | None = None,
    hostile: Extra | None = None,
    base_url: str = "",
) -> list:
    """Drive all sessions (and the heavy and hostile ones) until ``seconds`` have passed; returns
    the RSS samples (t, kB)."""
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
        if heavy is not None:
            active = step_heavy(heavy, deadline) or active
        if hostile is not None:
            active = step_hostile(hostile, base_url, deadline) or active
        active = step_sessions(sessions, now, deadline, rng, out) or active
        if now >= deadline and not active:
            break
        time.sleep(0.02)
    samples.append((time.monotonic() - start, tree_rss_kb(server_pid)))
    return samples


def print_details(sessions: list[Session], extras: list[Extra]) -> None:
    """One line per session (and per heavy or hostile extra) with its errors and messages."""
    for s in sessions:
        w, h = s.size
        note = f", own word {s.word} not read {s.own_word_missing}×" if s.own_word_missing else ""
        print(f"  session {s.n + 1}: {s.name} {w}×{h}, threshold {s.base}±2: {s.moves} moves, "
              f"{len(s.errors)} errors, {len(s.leaks)} leaks{note}")  # fmt: skip
        for text in (s.errors + s.leaks)[:5]:
            print(f"      {text}")
    for x in extras:
        ms = sorted(x.run_ms)
        timing = f", median {ms[len(ms) // 2] / 1000:.1f} s, max {ms[-1] / 1000:.1f} s" if ms else ""
        counts = f"{len(x.errors)} errors, {len(x.notes)} distinct in-page messages"
        print(f"  {x.name}: {x.moves} runs{timing}, {counts}")
        for text in x.errors[:5]:
            print(f"      error: {text}")
        for text in x.notes[:5]:
            print(f"      message: {' '.join(text.split())[:160]}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line of the soak."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=120, help="how long to move sliders (default 120)")
    ap.add_argument("--sessions", type=int, default=8, help="concurrent browser sessions (default 8)")
    ap.add_argument(
        "--max-rss-mb",
        type=float,
        default=MEMORY_BUDGET_MB,
        help=f"server RSS bound in MB (default {MEMORY_BUDGET_MB})",
    )
    ap.add_argument(
        "--max-median-ms", type=float, default=1000, help="bound on the others' median key press -> result"
    )
    ap.add_argument(
        "--heavy",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="a session reading a dense 24 MP page",
    )
    ap.add_argument(
        "--hostile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="a session opening hostile links",
    )
    ap.add_argument("--sample-s", type=float, default=3, help="RSS sampling period in s (default 3)")
    ap.add_argument("--seed", type=int, default=1, help="random seed of the key presses")
    ap.add_argument(
        "--out", type=Path, default=ROOT / "out" / "soak", help="screenshots of failures (default out/soak)"
    )
    args = ap.parse_args(argv)
    if not 1 <= args.sessions <= len(WORDS):
        ap.error(f"--sessions must be 1..{len(WORDS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    pairs = make_sessions(args.sessions)
    sessions = [s for s, _ in pairs]
    with (
        tempfile.TemporaryDirectory(prefix="clarity-soak-") as tmp,
        studio_server(Path(tmp)) as srv,
        chromium() as browser,
    ):
        t0 = time.monotonic()
        heavy = Extra(name="heavy (dense 24 MP page)", value=150) if args.heavy else None
        hostile = Extra(name="hostile links") if args.hostile else None
        if heavy is not None:
            open_heavy(browser, srv.url, heavy)
            print(f"heavy session open in {time.monotonic() - t0:.0f} s")
        if hostile is not None:
            hostile.page = new_page(browser, RUN_TIMEOUT_S, hostile.errors)
        for s, image in pairs:
            open_session(browser, srv.url, s, image)
        print(f"{len(sessions)} sessions open in {time.monotonic() - t0:.0f} s on {srv.url}; "
              f"soaking for {args.seconds:.0f} s")  # fmt: skip
        load_before = os.getloadavg()
        samples = soak(
            sessions,
            args.seconds,
            srv.process.pid,
            args.sample_s,
            args.seed,
            args.out,
            heavy,
            hostile,
            srv.url,
        )
        load_after = os.getloadavg()
        log = srv.log.read_text(errors="replace")
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "streamlit.log").write_text(log)
    server_errors = [line for line in log.splitlines() if "Traceback" in line or "Error" in line]

    mb = [kb / 1024 for _, kb in samples]
    half = samples[-1][0] / 2
    second_half = [kb / 1024 for t, kb in samples if t >= half]
    growth = second_half[-1] - second_half[0] if second_half else 0.0
    moves = sum(s.moves for s in sessions)
    extras = [x for x in (heavy, hostile) if x is not None]
    errors = sum(len(s.errors) for s in sessions) + len(server_errors) + sum(len(x.errors) for x in extras)
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
    print_details(sessions, extras)
    print(f"load average (1, 5, 15 min): before {' '.join(f'{v:.1f}' for v in load_before)}, "
          f"after {' '.join(f'{v:.1f}' for v in load_after)} ({os.cpu_count()} cores)")  # fmt: skip
    for line in server_errors[:10]:
        print(f"  server log: {line}")
    breach = max(mb) > args.max_rss_mb
    if breach:
        print(f"RSS bound breached: peak {max(mb):.0f} MB > {args.max_rss_mb:.0f} MB")
    median_ms = all_ms[len(all_ms) // 2] if all_ms else float("inf")
    slow = median_ms > args.max_median_ms
    if slow:
        print(f"the others' median key press -> result {median_ms:.0f} ms > {args.max_median_ms:.0f} ms")
    ok = not errors and not leaks and not breach and not slow and all(s.moves for s in sessions)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
