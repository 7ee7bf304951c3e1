"""CPU one slider move costs the studio's server and the browser's page, measured in Chromium.

``python bench/move_cost.py [--moves 20]``

Under load (``bench/soak.py``: 8 sessions on 2 cores) the key-press-to-result time is set by how
much CPU each move costs, not by how long one move takes alone. This opens the soak's 4-stage
preset on a generated line of text, opens its threshold stage, and presses ArrowRight/ArrowLeft
on the slider ``--moves`` times (waiting for each run), alternating between two values so that
the stages and the reading come from the caches and what is left is the page itself. Reported
per move:

* **browser page**: the renderer's main-thread task time (Chrome DevTools ``Performance``
  metric ``TaskDuration``): drawing every element Streamlit sends;
* **server**: user + system CPU of the Streamlit process and its workers (``/proc``);
* the number of elements (deltas) the run sent to the page.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.e2e_support: test helpers are not installed

from bench.soak import PRESET, THRESHOLD_INDEX  # noqa: E402
from tests.e2e_support import (  # noqa: E402
    RUN_TRACKER_JS,
    chromium,
    open_stage,
    process_tree,
    runs_finished,
    slider,
    studio_server,
    text_image_png,
    upload_and_wait,
    wait_for_app,
    wait_run,
)

COUNT_DELTAS_JS = r"""
(() => {
  // Counts the ForwardMsg frames the page receives (one per element sent, plus a few per run).
  window.__frames = 0;
  const Real = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Real(...args);
    ws.addEventListener("message", () => { window.__frames += 1; });
    return ws;
  };
  window.WebSocket.prototype = Real.prototype;
  Object.assign(window.WebSocket, Real);
})();
"""


def tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its descendants still running."""
    ticks = sum(int(f[11]) + int(f[12]) for f in process_tree(pid).values())
    return ticks / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--moves", type=int, default=20, help="measured slider moves (default 20)")
    args = ap.parse_args(argv)
    from pipeline.preset import parse_preset
    from pipeline.share import pack

    link = pack(parse_preset(PRESET.format(n=1, value=120), "bench"))
    with tempfile.TemporaryDirectory() as logs, studio_server(Path(logs)) as server, chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.add_init_script(RUN_TRACKER_JS)
        context.add_init_script(COUNT_DELTAS_JS)
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{server.url}?p={link}")
        wait_for_app(page)
        upload_and_wait(page, "line.png", text_image_png(["QUIET HARBOUR 4711"], seed=1))
        uid = open_stage(page, THRESHOLD_INDEX)
        knob = slider(page, f"stage:{uid}:value")
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")

        def task_s() -> float:
            metrics = cdp.send("Performance.getMetrics")["metrics"]
            return next(m["value"] for m in metrics if m["name"] == "TaskDuration")

        def move(key: str) -> None:
            runs = runs_finished(page)
            knob.press(key)
            wait_run(page, runs)

        for key in ("ArrowRight", "ArrowLeft"):  # both values computed and cached
            move(key)

        def totals() -> tuple[float, float, int]:
            page.wait_for_timeout(500)
            return task_s(), tree_cpu_s(server.process.pid), page.evaluate("window.__frames")

        browser0, server0, frames0 = totals()
        for i in range(args.moves):
            move("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        browser1, server1, frames1 = totals()
        context.close()
    n = args.moves
    print(f"{n} moves between two cached values of the soak preset's threshold slider, per move:")
    print(f"  browser page (renderer main thread)  {1000 * (browser1 - browser0) / n:7.1f} ms CPU")
    print(f"  server and its workers               {1000 * (server1 - server0) / n:7.1f} ms CPU")
    print(f"  messages received by the page        {(frames1 - frames0) / n:7.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
