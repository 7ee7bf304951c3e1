"""Save and share: the preset as YAML or a Python script, saved on the server, and the page address."""

from __future__ import annotations

import streamlit as st

from pipeline.export import export_python
from pipeline.preset import Preset
from pipeline.share import pack

from . import keys as K
from . import links, sources
from .views import alert

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
