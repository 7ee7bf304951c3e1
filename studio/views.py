"""The sections of the studio page. ``app.py`` only lays them out.

Widget keys (tests address widgets by them):

=====================  ==============================================================
``input:sample``       sample picker
``input:upload``       image upload; ``input:page`` page of a multi-page file
``input:camera_on``    camera toggle; ``input:camera`` the camera input
``preset:pick``        preset file picker; ``preset:upload`` preset YAML upload
``preset:name``        preset name; ``preset:description`` its description
``stage:{uid}:{f}``    parameter ``f`` of stage ``uid`` (see :mod:`studio.state`)
``on:{uid}``           stage on/off; ``source:{uid}`` its source picker
``up:{uid}``           move up; ``down:{uid}`` move down; ``remove:{uid}`` remove
``add:stage``          stage to add; ``add:go`` the Add button; ``undo`` the Undo button
``ocr:engine``         engine; ``ocr:lang`` languages; ``ocr:psm``; ``ocr:alternative_psm``; ``ocr:whitelist``
``view:cols``          images per row; ``view:removed`` removed-pixels overlay toggle
``cmp:a``/``cmp:b``    the two images of the compare view
``ocr:expected``       expected text; ``ocr:ignore_case``; ``ocr:ignore_spaces``
``dl:yaml``            preset download; ``dl:python`` Python export download
``save:name``          file name; ``save:overwrite`` replace checkbox; ``save:go`` Save
``tune:*``             the Auto-tune panel's widgets (see :mod:`studio.autotune`)
=====================  ==============================================================
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from pipeline.auto import read_auto
from pipeline.errors import ClarityError, ImageError, PresetError, StageError
from pipeline.export import export_python
from pipeline.ocr.options import ENGINE_LABELS
from pipeline.params import StageParams
from pipeline.preset import INPUT, Preset, load_preset, parse_preset
from pipeline.registry import all_stages, get_stage
from pipeline.runner import Result, run
from pipeline.share import pack, unpack

from . import keys as K
from . import links, overlays, sources
from . import ocr as ocr_view
from . import state as S
from .widgets import render_field, specs_for

TITLE = "Clarity — OCR tuning studio"
INTRO = (
    "Turn a noisy photo or scan of text into the right text: pick a sample or upload an image, see "
    "what the OCR (Tesseract or RapidOCR) reads before and after cleaning, and change the cleaning "
    "stages in the sidebar."
)
PAGE_STYLE = """<style>
/* less empty space above the title, so the result fits on the first screen */
.stMainBlockContainer { padding-top: 3.75rem; }
h1 { font-size: 2rem !important; padding-top: 0 !important; }
</style>"""
"""The page's own CSS (nothing fetched from outside)."""
IMAGE_TYPES = ["png", "jpg", "jpeg", "tif", "tiff", "bmp", "webp", "gif", "pdf"]


_LOG = logging.getLogger("clarity.studio")

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def md_escape(text: str) -> str:
    """``text`` with Markdown punctuation escaped, for labels built from names."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def alert(kind: str, message: str) -> None:
    """``st.error``/``st.warning``/``st.success``/``st.info`` of a message that may hold user text
    (file names, YAML values): Markdown is escaped so it is shown exactly as written."""
    getattr(st, kind)(md_escape(message))


def flash(message: str, level: str = "error") -> None:
    """Show ``message`` (``error`` or ``warning``) on the next run (callbacks cannot draw)."""
    st.session_state.setdefault(K.FLASH, []).append((level, message))


def show_flashes() -> None:
    """Draw and forget the one-off messages."""
    for level, message in st.session_state.pop(K.FLASH, []):
        alert("warning" if level == "warning" else "error", message)
    notice = st.session_state.pop(K.NOTICE, None)
    if notice:
        alert("info", notice)


def _start_over() -> None:
    st.session_state.clear()
    st.query_params.clear()


def page_failed(exc: Exception) -> None:
    """Show an unexpected error in the page (never Streamlit's error box), log it, offer a fresh start."""
    _LOG.error("page failed", exc_info=exc)
    detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    alert(
        "error",
        f"Something went wrong on this page ({type(exc).__name__}{': ' + detail if detail else ''}). "
        "Undo the last change, or start over with the default settings.",
    )
    st.button("Start over", key="page:start_over", on_click=_start_over, icon=":material/restart_alt:")


# --------------------------------------------------------------------------- first load


def init_session() -> None:
    """On a session's first run: load the first sample and its preset, or the shared link's."""
    ss = st.session_state
    if ss.get("initialised"):
        return
    ss["initialised"] = True
    samples = sources.one_per_scenario(sources.load_samples())
    sample = samples[0]
    ss[K.INPUT_SAMPLE] = sample.file
    _load_sample(sample)
    shared = st.query_params.get("p")
    if shared:
        try:
            preset = unpack(shared)
        except PresetError as exc:
            flash(f"The share link could not be opened: {exc}. The default settings are shown instead.")
        else:
            S.load_preset(ss, preset)
            ss[K.PRESET_PICK] = None
    problem = links.open_image(ss, st.query_params, None if shared else _load_sample)
    if problem:
        flash(problem, "warning")


def _load_sample(sample: sources.Sample, *, keep_history: bool = False) -> None:
    """Show ``sample`` with its preset; ``keep_history``: Undo can go back to the settings before."""
    ss = st.session_state
    try:
        ss[K.IMAGE] = sources.load_sample_image(sample)
        links.remember_sample(ss, sample.file)
    except ImageError as exc:
        flash(str(exc))
        if K.IMAGE not in ss:
            ss[K.IMAGE] = sources.load_sample_image(sources.Sample(sources.GENERATED, "generated", "demo"))
            links.remember_sample(ss, sources.GENERATED)
    names = sources.list_presets()
    pick = next((n for n, p in names.items() if _same_file(p, sample.preset)), None)
    try:
        preset = sources.sample_preset(sample)
    except PresetError as exc:
        flash(f"{exc}; a default preset is used instead.", "warning")
        preset, pick = sources.default_preset()
    else:
        if sample.preset is None:
            preset, pick = sources.default_preset()
    S.load_preset(ss, preset, keep_history=keep_history)
    ss[K.PRESET_PICK] = pick
    ss[K.EXPECTED] = sample.expected
    ss[K.INPUT_PAGE] = 1


def _same_file(path: Any, ref: Any) -> bool:
    return isinstance(ref, str) and ref.strip() in (path.stem, path.name, str(path))


def _on_sample() -> None:
    file = st.session_state.get(K.INPUT_SAMPLE)
    for sample in sources.load_samples():
        if sample.file == file:
            _load_sample(sample, keep_history=True)
            return


# ------------------------------------------------------------------------------- sidebar


def _on_preset_pick() -> None:
    name = st.session_state.get(K.PRESET_PICK)
    path = sources.all_presets().get(name) if name else None
    if path is None:
        return
    try:
        S.load_preset(st.session_state, load_preset(path), keep_history=True)
    except PresetError as exc:
        flash(str(exc))


def _on_preset_upload() -> None:
    ss = st.session_state
    file = ss.get(K.PRESET_UPLOAD)
    if file is None:
        return
    try:
        try:
            text = file.getvalue().decode("utf-8")
        except UnicodeDecodeError:
            raise PresetError(f"{file.name}: not a text file (a preset is UTF-8 YAML)") from None
        preset = parse_preset(text, file.name)
    except PresetError as exc:
        flash(f"{exc} The current settings are kept.")
        return
    S.load_preset(ss, preset, keep_history=True)
    ss[K.PRESET_PICK] = None


def _on_add() -> None:
    name = st.session_state.get(K.ADD_STAGE)
    if name:
        entry = S.add_stage(st.session_state, name)
        st.session_state["just_added"] = entry["uid"]


def _on_undo() -> None:
    if not S.undo(st.session_state):
        flash("Nothing to undo.")


def sidebar_preset() -> None:
    """Preset picker, YAML upload, undo, name and description."""
    ss = st.session_state
    st.header("Preset")
    names = list(sources.all_presets())
    if ss.get(K.PRESET_PICK) not in names:
        ss[K.PRESET_PICK] = None
    st.selectbox(
        "Start from a preset",
        names,
        key=K.PRESET_PICK,
        index=None,
        placeholder="Choose a preset…" if names else "No presets in the presets folder",
        on_change=_on_preset_pick,
        help="Every YAML file in the presets folder. Picking one replaces the current stages.",
    )
    st.file_uploader(
        "…or open a preset file",
        type=["yaml", "yml"],
        key=K.PRESET_UPLOAD,
        on_change=_on_preset_upload,
        help="A preset saved from the studio or written by hand (YAML).",
    )
    st.button(
        "Undo last change",
        key="undo",
        icon=":material/undo:",
        on_click=_on_undo,
        disabled=not S.can_undo(ss),
        width="stretch",
    )
    st.text_input("Name", key=K.NAME_KEY, max_chars=200)
    st.text_area("Description", key=K.DESC_KEY, height=80, max_chars=5000)


def sidebar_stages() -> None:
    """The stage list with every stage's widgets, and the Add stage control."""
    ss = st.session_state
    st.header("Stages")
    items = S.entries(ss)
    if not items:
        st.caption("No stages: the image is read as it is. Add one below.")
    registry = all_stages()
    labels = {e["uid"]: f"{i + 1}. {get_stage(e['stage']).heading}" for i, e in enumerate(items)}
    for i, entry in enumerate(items):
        uid = entry["uid"]
        stage = get_stage(entry["stage"])
        S.ensure_seeded(ss, entry)
        on = bool(ss.get(S.enabled_key(uid), True))
        only = entry.get("engines") or []
        title = f"{i + 1}. {stage.heading}" + ("" if on else " (off)")
        if only:
            title += f" · {', '.join(o.capitalize() if o != 'rapidocr' else 'RapidOCR' for o in only)} only"
        with st.expander(title, expanded=ss.get("just_added") == uid, key=f"exp:{uid}"):
            st.caption(f"`{entry['stage']}` · {stage.category}. {stage.summary}")
            if only:
                st.caption(
                    f"Runs only when {' or '.join(only)} reads (the preset's `engines`); "
                    "with another engine the image passes through."
                )
            st.toggle("Enabled", key=S.enabled_key(uid), help="Off: the stage is skipped, its input passes.")
            up, down, rm = st.columns(3)
            up.button(
                ":material/arrow_upward:", key=f"up:{uid}", disabled=i == 0,
                on_click=S.move_stage, args=(ss, uid, -1), width="stretch", help="Move this stage earlier",
            )  # fmt: skip
            down.button(
                ":material/arrow_downward:", key=f"down:{uid}", disabled=i == len(items) - 1,
                on_click=S.move_stage, args=(ss, uid, 1), width="stretch", help="Move this stage later",
            )  # fmt: skip
            rm.button(
                ":material/delete:", key=f"remove:{uid}",
                on_click=S.remove_stage, args=(ss, uid), width="stretch", help="Remove this stage",
            )  # fmt: skip
            if stage.takes_source:
                earlier = [INPUT] + [e["uid"] for e in items[:i]]
                current = ss.get(S.source_key(uid), INPUT)
                options = earlier if current in earlier else [*earlier, current]
                st.selectbox(
                    "Source image",
                    options,
                    key=S.source_key(uid),
                    format_func=lambda u: (
                        "the original image" if u == INPUT else labels.get(u, "a removed stage")
                    ),
                    help="The earlier image this stage copies pixels from (it must come before this stage).",
                )
            _stage_fields(stage.params, uid, disabled=not on)
    ss.pop("just_added", None)
    st.divider()
    names = list(registry)
    if ss.get(K.ADD_STAGE) not in names:
        ss[K.ADD_STAGE] = names[0]
    st.selectbox(
        "Add a stage",
        names,
        key=K.ADD_STAGE,
        format_func=lambda n: f"{registry[n].category.capitalize()} › {registry[n].heading} ({n})",
        help="Stages grouped by category; the new stage is added at the end.",
    )
    st.button("Add stage", key=K.ADD_GO, icon=":material/add:", on_click=_on_add, width="stretch")
    summary = registry[ss[K.ADD_STAGE]].summary
    if summary:
        st.caption(summary)


def _stage_fields(params: type[StageParams], uid: str, *, disabled: bool) -> None:
    """A stage's main fields, then the others behind a "More settings" toggle (when it has some)."""
    specs = specs_for(params)
    for spec in specs:
        if spec.basic:
            render_field(st, spec, S.param_key(uid, spec.field), disabled=disabled)
    rest = [spec for spec in specs if not spec.basic]
    more = bool(rest) and st.toggle(
        f"More settings ({len(rest)})", key=f"more:{uid}", help="The stage's other parameters."
    )
    ss = st.session_state
    for spec in rest:
        key = S.param_key(uid, spec.field)
        if more:
            render_field(st, spec, key, disabled=disabled)
        elif key in ss:
            ss[key] = ss[key]  # kept as plain state: Streamlit drops the values of widgets not drawn


def sidebar_ocr() -> None:
    """Engine, languages, page segmentation mode and whitelist."""
    ss = st.session_state
    st.header("OCR")
    engines = ocr_view.engines()
    if ss.get(K.ENGINE_KEY) not in engines:
        engines = [*engines, ss.get(K.ENGINE_KEY, "auto")]
    st.selectbox(
        "Engine",
        engines,
        key=K.ENGINE_KEY,
        format_func=lambda e: ENGINE_LABELS.get(e, f"{e} (not available)"),
        help="Which engine reads the text. Tesseract (either binding gives the same result) is fast "
        "on pages and knows 100+ languages; RapidOCR is a learned engine that reads captchas, digits "
        "and short lines far better, often with no cleaning at all.",
    )
    wanted = list(ss.get(K.LANG_KEY) or [])
    installed = ocr_view.languages()
    st.multiselect(
        "Languages",
        sorted(set(installed) | set(wanted)),
        key=K.LANG_KEY,
        format_func=lambda code: code if code in installed else f"{code} (not installed)",
        help="Tesseract language data to use; several are joined with '+'.",
    )
    modes = ocr_view.TEXT_MODES
    if ss.get(K.PSM_KEY) not in modes:  # a preset's 0 or 2 stays visible, named as giving no text
        modes = sorted({*modes, int(ss.get(K.PSM_KEY) or 3)})
    st.selectbox(
        "The image holds",
        modes,
        key=K.PSM_KEY,
        format_func=lambda m: ocr_view.PSM_NAMES[m],
        help="Where the engine looks for text (Tesseract's page segmentation mode): a whole page, "
        "a block, one line, one word… RapidOCR reads lines and words alike, and pages with its own "
        "line finder.",
    )
    st.multiselect(
        "Also try",
        sorted({*ocr_view.TEXT_MODES, *(int(m) for m in ss.get(K.ALT_PSM_KEY) or ())}),
        key=K.ALT_PSM_KEY,
        max_selections=4,
        format_func=lambda m: ocr_view.PSM_NAMES[m],
        help="Read with these page segmentation modes too and keep the most confident reading "
        "(e.g. 6 next to 3 for pages that may be one column or several). Each costs one more OCR.",
    )
    st.text_input(
        "Allowed characters",
        key=K.WHITELIST_KEY,
        placeholder="any",
        help="Only these characters may be read, e.g. 0123456789 for a meter; empty = any.",
    )


# ---------------------------------------------------------------------------------- input


def input_section() -> None:
    """Sample picker, upload, camera and page picker; errors for unreadable files."""
    ss = st.session_state
    samples = sources.one_per_scenario(sources.load_samples())
    files = [s.file for s in samples]
    labels = {s.file: s.label for s in samples}
    left, mid, right = st.columns([2, 3, 1.2], vertical_alignment="bottom")
    # The upload and camera are handled before the sample picker is drawn (in its column to the
    # left), so that a new upload can clear the picker: picking any sample then reloads it.
    upload = mid.file_uploader("Or upload an image or a PDF", type=IMAGE_TYPES, key=K.INPUT_UPLOAD)
    camera_on = right.toggle(
        "Use camera", key=K.INPUT_CAMERA_ON, help="Take a photo with this device's camera."
    )
    _take_new_file(upload, "upload")
    if camera_on:
        _take_new_file(st.camera_input("Take a photo of the text", key=K.INPUT_CAMERA), "camera")
    image: sources.LoadedImage = ss[K.IMAGE]
    if image.origin != "sample":
        ss[K.INPUT_SAMPLE] = None
    elif ss.get(K.INPUT_SAMPLE) not in files:
        ss[K.INPUT_SAMPLE] = files[0]
    left.selectbox(
        "Sample",
        files,
        key=K.INPUT_SAMPLE,
        index=None,
        placeholder="Choose a sample…",
        format_func=lambda f: labels.get(f, f),
        on_change=_on_sample,
        help="One sample per scenario, each with the preset made for it.",
    )
    if image.pages > 1 and image.data is not None:
        if not 1 <= int(ss.get(K.INPUT_PAGE, 1)) <= image.pages:
            ss[K.INPUT_PAGE] = 1
        page = st.number_input(f"Page (1–{image.pages})", 1, image.pages, step=1, key=K.INPUT_PAGE)
        if page - 1 != image.page:
            try:
                ss[K.IMAGE] = image = sources.decode(image.data, image.name, page - 1, image.origin)
            except ImageError as exc:
                alert("error", str(exc))
    error = ss.get("upload_error")
    if error and _current_file_ids().get(error[0]):
        alert("error", error[1])
    h, w = image.array.shape[:2]
    where = {"sample": "sample", "upload": "uploaded", "camera": "camera photo"}.get(image.origin, "")
    st.caption(
        f"Image: {md_escape(image.name)} ({where}), {w} × {h} px"
        + (f", page {image.page + 1}" if image.pages > 1 else "")
    )


def _current_file_ids() -> dict[str, bool]:
    ss = st.session_state
    out = {}
    for key in (K.INPUT_UPLOAD, K.INPUT_CAMERA):
        f = ss.get(key)
        if f is not None:
            out[f.file_id] = True
    return out


def _take_new_file(file: Any, origin: str) -> None:
    """Decode a newly uploaded or photographed file once; keep the previous image if it fails."""
    ss = st.session_state
    if file is None or ss.get(f"seen:{origin}") == file.file_id:
        return
    ss[f"seen:{origin}"] = file.file_id
    name = file.name if origin == "upload" else "camera photo"
    data = file.getvalue()
    try:
        ss[K.IMAGE] = sources.decode(data, name, 0, origin)
    except ImageError as exc:
        ss["upload_error"] = (
            file.file_id,
            f"Could not open {str(exc).rstrip('.')}. The previous image is still shown.",
        )
        return
    ss.pop("upload_error", None)
    warning = links.remember_upload(ss, data, name)
    if warning:
        flash(warning, "warning")
    ss[K.INPUT_PAGE] = 1
    ss[K.EXPECTED] = ""
    if ss.get(K.PRESET_PICK):  # a shipped preset or a sample's is loaded, not settings someone shared
        ss[K.AUTO_PENDING] = True
        st.rerun()  # the sidebar is drawn already: choose the preset before it is drawn again


def apply_auto_choice() -> None:
    """After a new upload (call before the sidebar is drawn): load the preset ``auto`` chooses.

    Only when a shipped or sample preset was loaded: settings opened from a share link or a
    preset file are kept for the new image. The choice is named in a notice ("Cleaned as:
    captcha, read by RapidOCR"); Undo or the preset picker change it.
    """
    ss = st.session_state
    if not ss.pop(K.AUTO_PENDING, False) or K.IMAGE not in ss:
        return
    try:
        reading = read_auto(ss[K.IMAGE].array)
    except ClarityError as exc:
        flash(f"Could not choose a preset for this image ({exc}); the current settings are kept.", "warning")
        return
    S.load_preset(st.session_state, reading.preset, keep_history=True)
    st.session_state[K.PRESET_PICK] = reading.stem if reading.stem in sources.list_presets() else None
    st.session_state[K.NOTICE] = (
        f"Cleaned as: {reading.label} ({reading.reason}). Pick another preset in the sidebar to change "
        "it, or Undo."
    )


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
            result = ocr_view.run_stages(image.array, preset) if big else run(image.array, preset)
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


def show_image(where: Any, data: bytes, caption: str, width: Any = "stretch") -> None:
    """``where.image`` of encoded bytes, telling Streamlit their format so it sends them as they are."""
    where.image(data, caption=caption, width=width, output_format=overlays.image_format(data))


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


# ----------------------------------------------------------------------- save and share


def save_and_share(preset: Preset) -> str:
    """Download, save, export and share-link controls; returns the packed share string."""
    ss = st.session_state
    packed = pack(preset)
    slug = sources.slugify(preset.name) or "preset"
    col1, col2 = st.columns(2)
    with col1:
        st.download_button(
            "Download preset (YAML)",
            data=preset.to_yaml(),
            file_name=f"{slug}.yaml",
            mime="application/x-yaml",
            key=K.DL_YAML,
            icon=":material/download:",
            on_click="ignore",
            width="stretch",
        )

        def script() -> str:  # generated on click only: exporting costs tens of ms per rerun
            try:
                return export_python(preset)
            except Exception as exc:  # an exporter bug must not break the page
                return f"# Clarity could not export this preset as Python: {exc}\n"

        st.download_button(
            "Export as Python script",
            data=script,
            file_name=f"{slug.replace('-', '_')}.py",
            mime="text/x-python",
            key=K.DL_PYTHON,
            icon=":material/code:",
            on_click="ignore",
            width="stretch",
            help="A standalone script that applies these stages to images.",
        )
        st.markdown("**Share link**")
        base = (st.context.url or "").split("?")[0]
        st.code(links.url(base, packed, ss), language=None)
        st.caption(
            "The page address always carries the current settings and image: copy it, or this link. "
            "Uploaded images are kept on this server for a while (see the README's limits)."
        )
    with col2:
        st.text_input(
            "Save as",
            key=K.SAVE_NAME,
            placeholder=slug,
            help="File name in the saved-presets folder: letters, digits and dashes. "
            "Shipped presets cannot be replaced.",
        )
        st.checkbox("Replace the existing file", key=K.SAVE_OVERWRITE)
        st.button(
            "Save to the presets folder",
            key=K.SAVE_GO,
            icon=":material/save:",
            on_click=_on_save,
            args=(preset,),
        )
        message = ss.pop(K.SAVE_MESSAGE, None)
        if message:
            alert(*message)
    return packed


def _on_save(preset: Preset) -> None:
    """Save to the user presets folder; the "replace" box is unticked after every attempt."""
    ss = st.session_state
    name = (ss.get(K.SAVE_NAME) or "").strip() or sources.slugify(preset.name) or "preset"
    try:
        path = sources.save_preset_file(preset, name, overwrite=bool(ss.get(K.SAVE_OVERWRITE)))
    except sources.SaveError as exc:
        ss[K.SAVE_MESSAGE] = ("error", str(exc))
    else:
        ss[K.SAVE_MESSAGE] = ("success", f"Saved as {path.name} in the saved-presets folder.")
    ss[K.SAVE_OVERWRITE] = False


def sync_url(packed: str) -> None:
    """Keep the address bar equal to the current settings (``p=``) and image (``img=``/``sample=``)."""
    wanted = {"p": packed, **links.params(st.session_state)}
    query = st.query_params
    for key in ("p", *links.IMAGE_PARAMS):
        if key in wanted and query.get(key) != wanted[key]:
            query[key] = wanted[key]
        elif key not in wanted and key in query:
            del query[key]
