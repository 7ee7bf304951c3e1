"""Clarity — OCR tuning studio: ``streamlit run app.py``.

Layout only; the logic lives in :mod:`studio`: one module per page section (sidebar, input_view,
result_view, grid_view, engines_view, autotune, share_view), with state, widgets and sources.
Every exception is caught here and shown as a message in the page (:func:`views.page_failed`):
no input can bring up Streamlit's error box.
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from pipeline.preset import Preset
from pipeline.runner import Result
from studio import autotune, engines_view, grid_view, input_view, result_view, share_view, sidebar, views
from studio import keys as K
from studio import state as S

# A local emoji icon: a Material icon would make the browser fetch it from fonts.gstatic.com.
st.set_page_config(page_title=views.TITLE, page_icon="🔍", layout="wide")


def page() -> None:
    """Draw the whole page."""
    views.init_session()
    input_view.apply_auto_choice()  # a new upload gets the preset `auto` chooses, before the sidebar is drawn
    S.seed_all(st.session_state)  # every stage's widget keys: the images below read them before the sidebar
    S.remember(st.session_state)  # before the Undo button is drawn, so it knows about the last edit
    # The sidebar is sent after the stage images, or, after the user changed one of its values
    # (a slider moved), after the reading too: the browser already shows those widgets, and
    # drawing them while the images or the reading are on their way slows both on a busy machine.
    last = sidebar.as_shown()
    drawn = False
    try:
        preset, result, result_slot = stage_images()
        if not last:
            drawn = True
            with st.sidebar:
                sidebar.draw()
        with result_slot:
            result_view.result_panel(result, preset)
    finally:  # drawn even when the page fails, or Streamlit would drop the widgets' values
        if not drawn:
            with st.sidebar:
                sidebar.draw()

    # A toggle, not a closed expander: an expander's content is made on every run even when closed.
    if result is not None and st.toggle("Compare two images side by side", key=K.VIEW_COMPARE):
        with st.expander("Compare two images", expanded=True):
            grid_view.compare(grid_view.tiles_of(result))

    st.subheader("Which engine reads it best?")
    with st.container(key="engines"):
        engines_view.panel(result, preset)

    with st.expander("Auto-tune", icon=":material/tune:", key="autotune"):
        autotune.panel(preset)

    st.subheader("Save and share")
    packed = share_view.save_and_share(preset)

    share_view.sync_url(packed)


def stage_images() -> tuple[Preset, Result | None, DeltaGenerator]:
    """Title, input and the stage images; the preset, its run, and the (empty) slot of the result
    panel, which is first on the page but filled after the stage images are sent, so that they do
    not wait for the reading."""
    st.html(views.PAGE_STYLE)
    st.title(views.TITLE)
    st.caption(views.INTRO)
    views.show_flashes()

    with st.container(border=True):
        input_view.input_section()

    preset, problem = S.build_preset(st.session_state)
    if problem:
        views.alert("error", f"These settings are not valid: {problem} The last valid settings are shown.")

    result_slot = st.container(key="ocr")

    st.subheader("How it was cleaned", help="Change a stage in the sidebar: its image and the reading follow")
    with st.container(key="grid"):  # keys give the sections a CSS class (st-key-grid) for browser tests
        # starts reading the cleaned image in the background as soon as the stages have run
        result = grid_view.run_and_show(preset, grid_view.controls())
    return preset, result, result_slot


try:
    page()
except Exception as exc:  # Streamlit's rerun/stop signals are BaseExceptions and pass through
    views.page_failed(exc)
