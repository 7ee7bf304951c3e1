"""The input section: a sample, an uploaded file or the camera; the preset `auto` picks for a new upload."""

from __future__ import annotations

from typing import Any

import streamlit as st

from pipeline.auto import read_auto
from pipeline.errors import ClarityError, ImageError

from . import keys as K
from . import links, sources
from . import state as S
from .views import IMAGE_TYPES, alert, flash, md_escape, on_sample

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
        on_change=on_sample,
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
    error = ss.get(K.UPLOAD_ERROR)
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
        ss[K.UPLOAD_ERROR] = (
            file.file_id,
            f"Could not open {str(exc).rstrip('.')}. The previous image is still shown.",
        )
        return
    ss.pop(K.UPLOAD_ERROR, None)
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
