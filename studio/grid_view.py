"""Running the stages, and the grid of stage images with its compare view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import streamlit as st

from pipeline.errors import StageError
from pipeline.preset import Preset
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


def process(preset: Preset) -> Result | None:
    """Run the preset on the current image; ``None`` (and an error shown) when a stage fails.

    Big images (above ``studio.ocr.BIG_PIXELS``) are processed in a worker process, where the
    stage time limit (``CLARITY_MAX_STAGE_TIME_S``) can stop a run at once; small ones here,
    with the shared stage cache.
    """
    image: sources.LoadedImage = st.session_state[K.IMAGE]
    try:
        big = ocr_view.is_big(image.array)
        # Streamlit shows a spinner only after 0.5 s, so quick runs do not flicker
        with st.spinner("Running the stages on this big image…" if big else "Cleaning the image…"):
            result = (
                ocr_view.run_stages(image.array, preset)
                if big
                else run(image.array, preset, digest=image.digest)
            )
    except StageError as exc:
        alert("error", f"{exc}. Change that stage's settings or turn it off.")
        return None
    ocr_view.prefetch(result.final, preset.ocr)  # Tesseract reads while the previews are sent
    return result


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


def grid(result: Result | None, preset: Preset) -> None:
    """The stage images in rows of adjustable width, with the total time."""
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
    if result is None:
        c.metric("Stages, this run", "—")
        image = ss[K.IMAGE].array
        show_image(st, overlays.preview_bytes(image), "0. original")
        return
    ran = [s for s in result.steps if s.enabled]
    cached = sum(s.cached for s in ran)
    value = f"{result.ms:.0f} ms" if result.ms >= 10 else f"{result.ms:.1f} ms"
    c.metric(
        "Stages, this run",
        value + (f" ({cached} of {len(ran)} cached)" if cached else ""),
        help=f"Time this view took to get the {len(ran)} stage images: {result.computed_ms:.0f} ms "
        f"computing {len(ran) - cached} of them, the other {cached} came from the cache (each tile "
        f"gives the time its stage took when it was computed; together {sum(s.ms for s in ran):.0f} ms).",
    )
    tiles = tiles_of(result)
    ncols = int(ss.get(K.VIEW_COLS) or 3)
    show_removed = bool(ss.get(K.VIEW_REMOVED))
    for start in range(0, len(tiles), ncols):
        cols = st.columns(ncols)
        for col, tile in zip(cols, tiles[start : start + ncols], strict=False):
            data, suffix = _tile_bytes(tile, show_removed)
            show_image(col, data, tile.caption + suffix)


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
