"""What every section of the studio page shares: messages, the first load, the sample loader.

The sections live in their own modules (:mod:`studio.sidebar`, :mod:`studio.input_view`,
:mod:`studio.result_view`, :mod:`studio.grid_view`, :mod:`studio.engines_view`,
:mod:`studio.autotune`, :mod:`studio.share_view`); ``app.py`` only lays them out.

Widget keys (tests address widgets by them):

=====================  ==============================================================
``input:sample``       sample picker
``input:upload``       image upload; ``input:page`` page of a multi-page file
``input:camera_on``    camera toggle; ``input:camera`` the camera input
``preset:pick``        preset file picker; ``preset:upload`` preset YAML upload
``preset:name``        preset name; ``preset:description`` its description
``stage:{uid}:{f}``    parameter ``f`` of stage ``uid`` (see :mod:`studio.state`)
``on:{uid}``           stage on/off; ``source:{uid}`` its source picker
``exp:{uid}``          the stage's expander, True while open (only then are its widgets drawn)
``more:{uid}``         the stage's "More settings" toggle
``up:{uid}``           move up; ``down:{uid}`` move down; ``remove:{uid}`` remove
``add:stage``          stage to add; ``add:go`` the Add button; ``undo`` the Undo button
``ocr:engine``         engine; ``ocr:lang`` languages; ``ocr:psm``; ``ocr:alternative_psm``; ``ocr:whitelist``
``view:cols``          images per row; ``view:removed`` removed-pixels overlay toggle
``view:boxes``         word boxes of the cleaned reading
``view:compare``       compare view on; ``cmp:a``/``cmp:b`` its two images
``ocr:expected``       expected text; ``ocr:ignore_case``; ``ocr:ignore_spaces``
``dl:yaml``            preset download; ``dl:python`` Python export download
``save:name``          file name; ``save:overwrite`` replace checkbox; ``save:go`` Save
``tune:*``             the Auto-tune panel's widgets (see :mod:`studio.autotune`)
=====================  ==============================================================
"""

from __future__ import annotations

import logging
import re
from typing import Any

import streamlit as st

from pipeline.errors import ImageError, PresetError
from pipeline.share import unpack

from . import keys as K
from . import links, overlays, sources
from . import state as S

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


def show_image(where: Any, data: bytes, caption: str, width: Any = "stretch") -> None:
    """``where.image`` of encoded bytes, telling Streamlit their format so it sends them as they are."""
    where.image(data, caption=caption, width=width, output_format=overlays.image_format(data))


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
    if ss.get(K.INITIALISED):
        return
    ss[K.INITIALISED] = True
    samples = sources.one_per_scenario(sources.load_samples())
    sample = samples[0]
    ss[K.INPUT_SAMPLE] = sample.file
    load_sample(sample)
    shared = st.query_params.get("p")
    if shared:
        try:
            preset = unpack(shared)
        except PresetError as exc:
            flash(f"The share link could not be opened: {exc}. The default settings are shown instead.")
        else:
            S.load_preset(ss, preset)
            ss[K.PRESET_PICK] = None
    problem = links.open_image(ss, st.query_params, None if shared else load_sample)
    if problem:
        flash(problem, "warning")


def load_sample(sample: sources.Sample, *, keep_history: bool = False) -> None:
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


def on_sample() -> None:
    file = st.session_state.get(K.INPUT_SAMPLE)
    for sample in sources.load_samples():
        if sample.file == file:
            load_sample(sample, keep_history=True)
            return
