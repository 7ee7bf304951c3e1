"""Running the stages, and the grid of stage images with its compare view."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from pipeline.errors import StageError
from pipeline.preset import Preset
from pipeline.preview import scale_preset
from pipeline.registry import get_stage
from pipeline.runner import Result, run

from . import keys as K
from . import ocr as ocr_view
from . import overlays, sources
from .views import alert, show_image

# --------------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Tile:
    """One image of the grid: its key, caption, the array, and the array it was made from."""

    key: str
    caption: str
    image: np.ndarray
    before: np.ndarray | None
    binary: bool


PREVIEW_WAIT_S = 3.0
"""Longest wait for a big image's preview (s); past it the page waits for the full run alone."""

_PREVIEWING = threading.BoundedSemaphore(1)
"""Held while a preview is computed. Previews run in the server process and cannot be stopped,
so one at a time: a heavy one (a big kernel on the reduced copy) takes one core at most, however
many sessions there are; a session that finds it taken waits for its full run alone."""

_stage_threads = ThreadPoolExecutor(max_workers=8, thread_name_prefix="clarity-stages")
"""Threads waiting for big images' full runs (one runs at a time, the others queue)."""
_preview_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clarity-preview")
"""The thread previews run on: never queued behind full runs."""


@dataclass(frozen=True)
class Slots:
    """Where :func:`run_and_show` puts the run's time, a big image's preview, and the stage images.

    The preview has a slot of its own, emptied when the full-resolution images come: drawn over
    in one slot, its elements would stay beside theirs (they belong to the same run, so
    Streamlit does not clear them as stale).
    """

    metric: DeltaGenerator
    preview: DeltaGenerator
    tiles: DeltaGenerator


def run_and_show(preset: Preset, slots: Slots) -> Result | None:
    """Run the preset on the current image and show its stage images in ``slots``; the
    full-resolution run, or ``None`` (and an error shown) when a stage failed.

    A big image (above ``studio.ocr.BIG_PIXELS``) is run in a worker process, where the stage time
    limit (``CLARITY_MAX_STAGE_TIME_S``) can stop it. Meanwhile its stages run here on a copy
    reduced to at most 3.5 MP with every size parameter scaled (:mod:`pipeline.preview`); those
    images are shown first, marked as a preview, and replaced by the full-resolution ones when
    they come. A slider moved again stops this run at once, without waiting for the worker.
    Small images are run here, with the shared stage cache.
    """
    image: sources.LoadedImage = st.session_state[K.IMAGE]
    result: Result | None = None
    try:
        if ocr_view.is_big(image.array):
            abandoned = threading.Event()
            full = _stage_threads.submit(ocr_view.run_stages, image.array, preset, abandoned)
            try:
                with st.spinner("Running the stages on this big image…"):
                    _show_preview(image, preset, full, slots)
                    result = _wait(full)
            except BaseException:  # Streamlit's stop for a newer run (a BaseException) included
                abandoned.set()
                raise
        else:  # Streamlit shows a spinner only after 0.5 s, so quick runs do not flicker
            with st.spinner("Cleaning the image…"):
                result = run(image.array, preset, digest=image.digest)
        ocr_view.prefetch(result.final, preset.ocr, result.input)  # read while the previews are sent
        ocr_view.prefetch_second(result.input, preset)  # and the second engine's run, if any
    except StageError as exc:
        alert("error", f"{exc}. Change that stage's settings or turn it off.")
    _draw(result, slots.metric, slots.tiles)
    slots.preview.empty()
    return result


def _show_preview(
    image: sources.LoadedImage,
    preset: Preset,
    full: Future[Result],
    slots: Slots,
) -> None:
    """Run the stages on the image's reduced copy and show them, unless the full run is done first,
    a preview is already being computed, or it takes longer than :data:`PREVIEW_WAIT_S`."""
    factor, small, digest = image.preview
    if factor == 1 or not _PREVIEWING.acquire(blocking=False):
        return

    def compute() -> Result:
        try:
            return run(small, scale_preset(preset, factor), digest=digest)
        finally:
            _PREVIEWING.release()

    quick = _preview_thread.submit(compute)
    deadline = time.monotonic() + PREVIEW_WAIT_S
    while not (quick.done() or full.done()) and time.monotonic() < deadline:
        _pause([quick, full])
    if quick.done() and not full.done() and quick.exception() is None:
        slots.tiles.empty()  # the last run's images
        _draw(quick.result(), slots.metric, slots.preview, factor)


def _wait(future: Future[Result]) -> Result:
    """``future.result()``, letting Streamlit stop this run for a newer one meanwhile."""
    while not future.done():
        _pause([future])
    return future.result()


def _pause(futures: list[Future[Result]]) -> None:
    """Wait up to 50 ms for one of ``futures``, then give Streamlit the chance to stop this run
    (reading the session state is one of its yield points: a newer run, a slider moved again,
    raises there)."""
    wait_for(futures, timeout=0.05, return_when=FIRST_COMPLETED)
    _ = K.IMAGE in st.session_state


def tiles_of(result: Result) -> list[Tile]:
    """The original and every enabled stage, captioned "N. name — 12.3 ms"."""
    h, w = result.input.shape[:2]
    tiles = [Tile("input", f"0. original — {w} × {h} px", result.input, None, False)]
    previous = result.input
    for step in result.steps:
        if step.enabled:
            mark = " · cached" if step.cached else ""
            name = step.stage if step.label == step.stage else f"{step.label} ({step.stage})"
            caption = f"{step.index + 1}. {name} — {step.ms:.1f} ms{mark}"
            binary = get_stage(step.stage).returns.startswith("binary")
            tiles.append(Tile(f"{step.index + 1}. {step.label}", caption, step.image, previous, binary))
        previous = step.image
    return tiles


def _tile_bytes(tile: Tile, show_removed: bool, max_side: int = overlays.PREVIEW_SIDE) -> tuple[bytes, str]:
    """Display bytes of a tile and a caption suffix (the removed-pixel count)."""
    before = tile.before
    if show_removed and before is not None and (tile.binary or overlays.is_binary(tile.image)):

        def make() -> tuple[bytes, int] | None:
            made = overlays.removed_overlay(before, tile.image, max_side)
            return None if made is None else (overlays.encode_rgb(made[0]), made[1])

        hit = overlays.PREVIEWS.get_or_make((before, tile.image), ("removed", max_side), make)
        if hit is not None:
            return hit[0], f" · {hit[1]:,} px removed"
        return overlays.preview_bytes(tile.image, max_side), " · size changed, no overlay"
    return overlays.preview_bytes(tile.image, max_side), ""


def controls() -> Slots:
    """The grid's controls (images per row, removed pixels), and the slots :func:`run_and_show`
    fills."""
    ss = st.session_state
    a, b, c = st.columns([2, 2, 1.2], vertical_alignment="bottom")
    ss.setdefault(K.VIEW_COLS, 3)
    a.slider("Images per row", 1, 6, key=K.VIEW_COLS)
    b.toggle(
        "Show removed pixels",
        key=K.VIEW_REMOVED,
        help="On stages that output black and white: red marks the dark pixels of the stage's input "
        "that it turned white (removed ink).",
    )
    return Slots(c.empty(), st.empty(), st.empty())


def _draw(result: Result | None, metric: DeltaGenerator, tiles: DeltaGenerator, factor: int = 1) -> None:
    """Fill the time and image slots with ``result`` (the original alone for ``None``); ``factor``
    above 1 marks a preview on a copy that many times smaller."""
    ss = st.session_state
    if result is None:
        metric.metric("Stages, this run", "—")
        show_image(tiles, overlays.preview_bytes(ss[K.IMAGE].array), "0. original")
        return
    ran = [s for s in result.steps if s.enabled]
    cached = sum(s.cached for s in ran)
    value = f"{result.ms:.0f} ms" if result.ms >= 10 else f"{result.ms:.1f} ms"
    what = f"preview at 1/{factor} size" if factor > 1 else "full size"
    metric.metric(
        f"Stages, preview at 1/{factor} size" if factor > 1 else "Stages, this run",
        value + (f" ({cached} of {len(ran)} cached)" if cached else ""),
        help=f"Time this view took to get the {len(ran)} stage images ({what}): {result.computed_ms:.0f} ms "
        f"computing {len(ran) - cached} of them, the other {cached} came from the cache (each tile "
        f"gives the time its stage took when it was computed; together {sum(s.ms for s in ran):.0f} ms).",
    )
    all_tiles = tiles_of(result)
    ncols = int(ss.get(K.VIEW_COLS) or 3)
    show_removed = bool(ss.get(K.VIEW_REMOVED))
    with tiles.container(key="grid-preview" if factor > 1 else None):  # a CSS class for the benchmark
        for start in range(0, len(all_tiles), ncols):
            cols = st.columns(ncols)
            for col, tile in zip(cols, all_tiles[start : start + ncols], strict=False):
                data, suffix = _tile_bytes(tile, show_removed)
                mark = f" · preview 1/{factor}" if factor > 1 else ""
                show_image(col, data, tile.caption + mark + suffix)
        if factor > 1:  # below the images, so that they do not move when the full-size ones come
            h, w = result.input.shape[:2]
            full_h, full_w = ss[K.IMAGE].array.shape[:2]
            st.info(
                f"Preview at 1/{factor} size ({w} × {h} px, sizes in px scaled with it) while the full "
                f"{full_w} × {full_h} px image is processed: its images replace these, and the text is "
                "read from it.",
                icon=":material/hourglass_top:",
            )


@st.fragment
def compare(tiles: Sequence[Tile]) -> None:
    """Two chosen images side by side, larger (a fragment: choosing reruns only this part)."""
    ss = st.session_state
    keys = [t.key for t in tiles]
    by_key = {t.key: t for t in tiles}
    if ss.get(K.CMP_A) not in keys:
        ss[K.CMP_A] = keys[0]
    if ss.get(K.CMP_B) not in keys:
        ss[K.CMP_B] = keys[-1]
    left, right = st.columns(2)
    names = {t.key: t.caption.split(" — ")[0] for t in tiles}

    def name_of(key: str) -> str:
        return names[key]

    a = left.selectbox("Left image", keys, key=K.CMP_A, format_func=name_of)
    b = right.selectbox("Right image", keys, key=K.CMP_B, format_func=name_of)
    for col, key in ((left, a), (right, b)):
        if key is None:  # only when there are no options, and there always are
            continue
        tile = by_key[key]
        data, _ = _tile_bytes(tile, bool(ss.get(K.VIEW_REMOVED)), overlays.COMPARE_SIDE)
        show_image(col, data, tile.caption)
