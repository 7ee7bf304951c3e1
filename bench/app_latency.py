"""Slider-to-screen latency of the studio, measured in headless Chromium.

``python bench/app_latency.py [--moves 15] [--write-readme] [--document] [--size W H]``

Opens the studio with an 8-stage preset (a ``?p=`` share link), uploads a 1700 × 1200 colour
photo of a printed page (a DIBCO page from ``../shared/corpus``, resized; a generated page
when the corpus is absent), then moves the Sauvola ``k`` slider of the threshold stage (stage 4
of 8) with the keyboard. ``--document`` uses the shipped ``document`` preset read by Tesseract
instead (moving ``contrast_binarise``'s ``k``), ``--size 4032 3024`` a 12 MP photo.
``--write-readme`` writes the table into README.md between ``<!-- begin:app-latency -->`` and
``<!-- end:app-latency -->`` (with ``--document``: ``app-latency-document-WxH``, e.g.
``app-latency-document-4032x3024``).
Everything is timed in the page's clock (``performance.now()``) from the key press (a capturing
``keydown`` listener):

* **images shown**: the last stage image whose ``src`` changed has loaded and the next
  animation frame has started (a ``MutationObserver`` on the stage grid's ``img`` elements);
  **first images shown**: the same for a big image's reduced-size preview (the images in
  ``.st-key-grid-preview``), or the full-size images when no preview was shown;
* **OCR text shown**: arrival of the run's ``script_finished`` message (every frame the
  WebSocket receives is recorded by an init script and decoded here as ``ForwardMsg``); the
  OCR panel's deltas arrive before it;
* **server script**: from the ``session_status_changed(script_is_running)`` message to
  ``script_finished`` — the script run on the server (loopback transfer is negligible);
* breakdown: key → run start (browser to server, rerun start), run start → the last sidebar
  delta and the last changed image's delta (sidebar widgets, pipeline, previews), that delta →
  image shown (media fetch, decode, paint), that delta → script finished (compare view, OCR).
  Frame times are when the page's script handles each message: a busy main thread delays them.

Two phases: **new values** (the slider walks one way: every move computes stages 4-8 and a
new OCR reading) and **revisited values** (alternating ArrowLeft/ArrowRight between two values
already seen: stage outputs and the OCR reading come from the caches).
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.e2e_support: test helpers are not installed

from tests.e2e_support import (  # noqa: E402
    GRID_IMAGES,
    RUN_TRACKER_JS,
    chromium,
    image_caption,
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

CORPUS_PAGE = ROOT.parent / "shared" / "corpus" / "dibco-printed" / "2013-PR03.png"
PHOTO_SIZE = (1700, 1200)
TARGET_IMAGES_MS = 250
TARGET_OCR_AFTER_MS = 150

PRESET = """\
schema_version: 1
name: latency bench
description: 8 stages on a photographed page
stages:
  - stage: grayscale
  - stage: background_flatten
    params: {method: median, size: 51}
  - stage: gaussian_blur
    params: {ksize_w: 3, ksize_h: 3}
  - stage: threshold
    params: {method: sauvola, window: 31, k: 0.2}
  - stage: component_filter
    params: {min_area: 6}
  - stage: morphology
    params: {op: close, width: 2, height: 2}
  - stage: median_blur
    params: {ksize_w: 3, ksize_h: 3}
  - stage: pad
    params: {size: 10}
ocr: {lang: eng, psm: 3}
"""
STAGE_INDEX = 3  # threshold, 0-based
SIDEBAR = 1  # first element of a sidebar delta's path (0 is the main area)
FIELD = "k"

IMAGE_WATCH_JS = r"""
(() => {
  // Times every key press, and every stage-grid image whose src changes: when the new src was
  // set, when it loaded, and the next animation frame after that (shown on screen).
  window.__clarity.keep = true;
  const W = (window.__imgw = {keydown: [], events: [], before: new Set(), longtasks: []});
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) W.longtasks.push([e.startTime, e.duration]);
    }).observe({type: "longtask"});
  } catch (e) {}
  document.addEventListener("keydown", () => W.keydown.push(performance.now()), true);
  W.reset = () => {
    W.before = new Set([...document.querySelectorAll(".st-key-grid img")].map((i) => i.src));
    W.events = [];
    W.longtasks = [];
  };
  const seen = new WeakMap();
  const onImg = (img) => {
    if (!img.closest(".st-key-grid")) return;
    const src = img.src;
    if (!src || seen.get(img) === src) return;
    seen.set(img, src);
    if (W.before.has(src)) return;
    const ev = {src, changed: performance.now(), loaded: null, painted: null,
                preview: !!img.closest(".st-key-grid-preview")};
    W.events.push(ev);
    const done = () => {
      if (ev.loaded !== null) return;
      ev.loaded = performance.now();
      requestAnimationFrame(() => { ev.painted = performance.now(); });
    };
    if (img.complete && img.naturalWidth) done();
    else {
      img.addEventListener("load", done, {once: true});
      img.addEventListener("error", done, {once: true});
    }
  };
  new MutationObserver((muts) => {
    for (const m of muts) {
      if (m.type === "attributes" && m.target.tagName === "IMG") onImg(m.target);
      for (const n of m.addedNodes) {
        if (n.nodeType !== 1) continue;
        if (n.tagName === "IMG") onImg(n);
        else n.querySelectorAll("img").forEach(onImg);
      }
    }
  }).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ["src"]});
})();
"""


@dataclass
class Move:
    """One slider move, times in ms from the key press."""

    images: float  # last changed full-resolution stage image shown
    first: float  # the first changed images shown: the preview of a big image, else the same as images
    finished: float  # script_finished arrived (OCR text shown)
    run_start: float  # script_is_running arrived
    image_delta: float  # last changed image's delta arrived
    sidebar: float  # last sidebar delta arrived (the sidebar is drawn before the main area)
    changed: int  # stage images that changed
    pipeline_ms: float  # the page's "Stages, this run" metric ("12 ms (3 of 8 cached)")
    busy: float  # browser main thread in long tasks (> 50 ms) between the key and the images shown
    status: list[int] = field(default_factory=list)

    @property
    def ocr_after(self) -> float:
        return self.finished - self.images

    @property
    def total(self) -> float:
        return max(self.finished, self.images)

    @property
    def script(self) -> float:
        return self.finished - self.run_start


def photo_bytes(size: tuple[int, int] = PHOTO_SIZE) -> tuple[bytes, str]:
    """A colour photo of a page (JPEG) of ``size`` (width, height) and where it came from."""
    import cv2

    if CORPUS_PAGE.is_file():
        img = cv2.imread(str(CORPUS_PAGE), cv2.IMREAD_COLOR)
        img = cv2.resize(img, size, interpolation=cv2.INTER_CUBIC)
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 92])
        assert ok
        return buf.tobytes(), f"DIBCO page {CORPUS_PAGE.stem} from ../shared/corpus, resized"
    lines = [f"Line {i}: the quick brown fox jumps over the lazy dog {1000 + 37 * i}" for i in range(14)]
    return text_image_png(lines, size, seed=5, noise=0.03, fmt=".jpg"), "generated page"


def decode_frames(frames: list[list]) -> list[tuple[float, object]]:
    """(arrival ms, ForwardMsg) of recorded WebSocket frames."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    return [(t, ForwardMsg.FromString(base64.b64decode(b64))) for t, b64 in frames]


def take_frames(page) -> list[list]:
    """Recorded frames (base64) since the last call, and forget them."""
    return page.evaluate(
        """() => { const F = window.__clarity.frames; window.__clarity.frames = [];
                   return F.map(([t, b]) => { let s = ''; for (let i = 0; i < b.length; i += 8192)
                     s += String.fromCharCode.apply(null, b.subarray(i, i + 8192));
                     return [t, btoa(s)]; }); }"""
    )


def one_move(page, key_field: str, key: str, settle_ms: int) -> Move:
    page.wait_for_timeout(settle_ms)
    take_frames(page)
    page.evaluate("() => window.__imgw.reset()")
    runs = runs_finished(page)
    keys = page.evaluate("() => window.__imgw.keydown.length")
    slider(page, key_field).press(key)
    wait_run(page, runs)
    page.wait_for_function(
        f"""() => [...document.querySelectorAll('{GRID_IMAGES}')].every(i => i.complete)
                  && window.__imgw.events.every(e => e.painted !== null)"""
    )
    t0 = page.evaluate(f"() => window.__imgw.keydown[{keys}]")
    events = page.evaluate(
        "() => window.__imgw.events.map(e => [e.src, e.changed, e.loaded, e.painted, e.preview])"
    )
    longtasks = page.evaluate("() => window.__imgw.longtasks")
    shown = max((e[3] for e in events if not e[4]), default=float("nan"))
    first = max((e[3] for e in events if e[4]), default=shown)
    busy = sum(max(0.0, min(s + d, shown) - max(s, t0)) for s, d in longtasks)
    msgs = decode_frames(take_frames(page))
    starts = [t for t, m in msgs if m.WhichOneof("type") == "session_status_changed"
              and m.session_status_changed.script_is_running]  # fmt: skip
    run_start = starts[0] if starts else float("nan")
    finished = [(t, m.script_finished) for t, m in msgs if m.WhichOneof("type") == "script_finished"]
    srcs = {e[0].split("/media/", 1)[-1] for e in events}
    delta_times = [
        t
        for t, m in msgs
        if m.WhichOneof("type") == "delta"
        and m.delta.WhichOneof("type") == "new_element"
        and m.delta.new_element.WhichOneof("type") == "imgs"
        and any(i.url.split("/media/", 1)[-1] in srcs for i in m.delta.new_element.imgs.imgs)
    ]
    sidebar_times = [
        t for t, m in msgs if m.WhichOneof("type") == "delta" and m.metadata.delta_path[:1] == [SIDEBAR]
    ]
    metric = page.locator('.st-key-grid [data-testid="stMetricValue"]').first.inner_text()
    return Move(
        images=shown - t0,
        first=first - t0,
        finished=finished[-1][0] - t0 if finished else float("nan"),
        run_start=run_start - t0,
        image_delta=max(delta_times, default=float("nan")) - t0,
        sidebar=max(sidebar_times, default=float("nan")) - t0,
        changed=len(events),
        pipeline_ms=float(metric.split()[0]) if metric.split()[1:2] == ["ms"] else float("nan"),
        busy=busy,
        status=[s for _, s in finished],
    )


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of the values that are not NaN; the median for 0.5."""
    values = sorted(v for v in values if v == v)
    if not values:
        return float("nan")
    if q == 0.5:
        return statistics.median(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def summary(name: str, moves: list[Move]) -> dict[str, tuple[float, float]]:
    cols = {
        "first images shown": [m.first for m in moves],
        "images shown": [m.images for m in moves],
        "OCR after images": [m.ocr_after for m in moves],
        "total (OCR shown)": [m.total for m in moves],
        "server script": [m.script for m in moves],
        "  pipeline (all stages)": [m.pipeline_ms for m in moves],
        "key -> run start": [m.run_start for m in moves],
        "run start -> image delta": [m.image_delta - m.run_start for m in moves],
        "  run start -> sidebar sent": [m.sidebar - m.run_start for m in moves],
        "image delta -> shown": [m.images - m.image_delta for m in moves],
        "image delta -> finished": [m.finished - m.image_delta for m in moves],
        "browser long tasks": [m.busy for m in moves],
    }
    out = {k: (pct(v, 0.5), pct(v, 0.9)) for k, v in cols.items()}
    changed = statistics.median([m.changed for m in moves])
    print(f"\n{name}: {len(moves)} moves, {changed:.0f} stage images changed per move")
    for k, (med, p90) in out.items():
        print(f"  {k:26s} median {med:7.1f} ms   p90 {p90:7.1f} ms")
    return out


def readme_table(
    results: dict[str, dict[str, tuple[float, float]]],
    photo: str,
    moves: int,
    load: float,
    *,
    slider: str = "the Sauvola `k` slider (stage 4 of an 8-stage preset)",
    size: tuple[int, int] = PHOTO_SIZE,
) -> str:
    lines = [
        "| slider move | first stage images shown | full-size images shown | OCR text after them "
        "| total | server script run |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        timed = ("first images shown", "images shown", "OCR after images")
        cells = [f"{r[k][0]:.0f} ms (p90 {r[k][1]:.0f})" for k in timed]
        cells += [f"{r[k][0]:.0f} ms" for k in ("total (OCR shown)", "server script")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Median (p90) of {moves} keyboard moves of {slider} "
        f"on a {size[0]} × {size[1]} colour photo ({photo}); server and headless "
        f"Chromium on one {os.cpu_count()}-core machine shared with other work (load average up to "
        f"{load:.1f}); timed in the page clock from the key press to the last changed stage image "
        "painted, first (a big image's reduced-size preview; the full-size images when there is "
        "none) and at full size, and to the arrival of the run's `script_finished` message (OCR "
        "text shown).",
    ]
    return "\n".join(lines) + "\n"


def bench_preset(document: bool) -> tuple[str, int, str, int]:
    """The preset (a share-link string), the 0-based index of the stage moved, its field, and the
    number of stages: the 8-stage bench preset, or the shipped ``document`` preset read by
    Tesseract (its stages run only for Tesseract) moving ``contrast_binarise``'s ``k``."""
    from pipeline.preset import load_preset, parse_preset
    from pipeline.share import pack

    if not document:
        return pack(parse_preset(PRESET, "bench")), STAGE_INDEX, FIELD, 8
    preset = load_preset(ROOT / "presets" / "document.yaml")
    preset = preset.model_copy(update={"ocr": preset.ocr.model_copy(update={"engine": "auto"})})
    index = next(i for i, s in enumerate(preset.stages) if s.stage == "contrast_binarise")
    return pack(preset), index, "k", len(preset.stages)


def measure(
    page, url: str, photo: bytes, photo_name: str, args: argparse.Namespace, stage: tuple[int, str, int]
) -> dict[str, dict]:
    """Open the page, upload the photo, move the slider; the summaries of both phases."""
    index, field, count = stage
    page.goto(url)
    wait_for_app(page)
    upload_and_wait(page, "page-photo.jpg", photo, 240_000)
    caption = image_caption(page)
    w, h = args.size
    if f"{w} × {h} px" not in caption:
        raise SystemExit(f"the photo was not loaded: {caption!r}")
    uid = open_stage(page, index)
    key_field = f"stage:{uid}:{field}"
    print(f"photo: {photo_name}, {w} × {h} px; slider {field} of stage {index + 1} of {count} "
          f"starts at {slider_value(page, key_field)}")  # fmt: skip
    for _ in range(args.warmup):
        one_move(page, key_field, "ArrowRight", args.settle_ms)
    new = [one_move(page, key_field, "ArrowRight", args.settle_ms) for _ in range(args.moves)]
    revisit = [
        one_move(page, key_field, "ArrowLeft" if i % 2 == 0 else "ArrowRight", args.settle_ms)
        for i in range(args.moves)
    ]
    results = {
        f"new value (stages {index + 1}-{count} and OCR computed)": summary("new values", new),
        "revisited value (served from the caches)": summary("revisited values", revisit),
    }
    errors = page_errors(page)
    if errors:
        print("page errors:", errors)
    bad = [m.status for m in new + revisit if m.status[-1:] != [0]]
    if bad:
        print("runs not finished successfully:", bad)
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--moves", type=int, default=15, help="measured slider moves per phase (default 15)")
    ap.add_argument("--warmup", type=int, default=2, help="unmeasured moves first (default 2)")
    ap.add_argument("--settle-ms", type=int, default=300, help="pause between moves (default 300)")
    ap.add_argument("--write-readme", action="store_true", help="write the table into README.md")
    ap.add_argument(
        "--document", action="store_true",
        help="the shipped document preset read by Tesseract, moving contrast_binarise's k "
        "(--write-readme then writes the section app-latency-document-WxH)",
    )  # fmt: skip
    ap.add_argument(
        "--size", type=int, nargs=2, default=PHOTO_SIZE, metavar=("W", "H"),
        help=f"photo size in px (default {PHOTO_SIZE[0]} {PHOTO_SIZE[1]}; 4032 3024 is a 12 MP phone photo)",
    )  # fmt: skip
    args = ap.parse_args(argv)
    args.size = tuple(args.size)
    if args.moves < 1 or args.moves + args.warmup > 70:
        ap.error("--moves + --warmup must be at most 70 (k walks from 0.20 in steps of 0.01 up to 1.0)")

    photo, photo_name = photo_bytes(args.size)
    packed, index, field, count = bench_preset(args.document)
    link = "?p=" + packed
    with (
        tempfile.TemporaryDirectory(prefix="clarity-latency-") as tmp,
        studio_server(Path(tmp)) as srv,
        chromium() as browser,
    ):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.add_init_script(RUN_TRACKER_JS)
        context.add_init_script(IMAGE_WATCH_JS)
        page = context.new_page()
        page.set_default_timeout(60_000)
        load_before = os.getloadavg()[0]
        results = measure(page, srv.url + link, photo, photo_name, args, (index, field, count))
        load = max(load_before, os.getloadavg()[0])
    now = os.getloadavg()[0]
    print(f"\nload average (1 min) before/after: {load_before:.1f} / {now:.1f} on {os.cpu_count()} cores")
    first = next(iter(results.values()))
    images, ocr_after = first["first images shown"][0], first["OCR after images"][0]
    ok = images <= TARGET_IMAGES_MS and ocr_after <= TARGET_OCR_AFTER_MS
    verdict = "met" if ok else "MISSED"
    print(f"\ntarget (medians, new values): images <= {TARGET_IMAGES_MS} ms, ", end="")
    print(f"OCR <= {TARGET_OCR_AFTER_MS} ms after: {verdict}")
    if args.write_readme:
        from scripts.readme_sections import replace_section

        section, slider = "app-latency", "the Sauvola `k` slider (stage 4 of an 8-stage preset)"
        if args.document:
            section = f"app-latency-document-{args.size[0]}x{args.size[1]}"
            slider = (
                f"the `k` slider of `contrast_binarise` (stage {index + 1} of {count}) of the shipped "
                "`document` preset read by Tesseract"
            )
        table = readme_table(results, photo_name, args.moves, load, slider=slider, size=args.size)
        replace_section(section, table)
        print(f"README.md: {section} section written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
