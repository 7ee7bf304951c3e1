"""The sidebar: the preset to start from, the stages and their settings, the OCR settings."""

from __future__ import annotations

import streamlit as st

from pipeline.errors import PresetError
from pipeline.ocr.options import ENGINE_LABELS
from pipeline.params import StageParams, field_specs
from pipeline.preset import INPUT, load_preset, parse_preset
from pipeline.registry import all_stages, get_stage

from . import keys as K
from . import ocr as ocr_view
from . import sources
from . import state as S
from .views import flash
from .widgets import render_field, specs_for

# ------------------------------------------------------------------------------- sidebar


def draw() -> None:
    """The whole sidebar: preset, stages, OCR settings."""
    sidebar_preset()
    sidebar_stages()
    sidebar_ocr()


def as_shown() -> bool:
    """True (once) when this run follows the user's change of a sidebar value: the browser already
    shows the sidebar this run draws, so it can be sent last. Buttons, a preset loaded, Undo and
    the first run draw a different sidebar and are not marked."""
    return bool(st.session_state.pop(K.SIDEBAR_AS_SHOWN, False))


def _changed_by_user() -> None:
    st.session_state[K.SIDEBAR_AS_SHOWN] = True


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
        st.session_state[K.JUST_ADDED] = entry["uid"]


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
    st.text_input("Name", key=K.NAME_KEY, max_chars=200, on_change=_changed_by_user)
    st.text_area("Description", key=K.DESC_KEY, height=80, max_chars=5000, on_change=_changed_by_user)


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
        on = bool(ss.get(S.enabled_key(uid), True))
        only = entry.get("engines") or []
        title = f"{i + 1}. {stage.heading}" + ("" if on else " (off)")
        if only:
            title += f" · {', '.join(o.capitalize() if o != 'rapidocr' else 'RapidOCR' for o in only)} only"
        # Only an open stage's widgets are drawn (a closed one would send them all the same): about
        # 50 fewer elements per run for the browser to redraw on every slider move.
        expander = st.expander(
            title, expanded=ss.get(K.JUST_ADDED) == uid, key=S.open_key(uid), on_change="rerun"
        )
        if not expander.open:
            S.keep_values(ss, [*S.value_keys(entry), S.more_key(uid)])
            continue
        with expander:
            st.caption(f"`{entry['stage']}` · {stage.category}. {stage.summary}")
            if only:
                st.caption(
                    f"Runs only when {' or '.join(only)} reads (the preset's `engines`); "
                    "with another engine the image passes through."
                )
            st.toggle(
                "Enabled",
                key=S.enabled_key(uid),
                help="Off: the stage is skipped, its input passes.",
                on_change=_changed_by_user,
            )
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
                    on_change=_changed_by_user,
                )
            _stage_fields(stage.params, uid, disabled=not on)
    ss.pop(K.JUST_ADDED, None)
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
    """A stage's main fields, then the others behind a "More settings" toggle (when it has some).

    Fields that cannot change the output with the stage's other values (the threshold value of
    a method that computes its own, ``used_when``) are not offered; they keep their values.
    """
    ss = st.session_state
    values = {f.name: ss[key] for f in field_specs(params) if (key := S.param_key(uid, f.name)) in ss}
    applies = {f.name: f.applies(values) for f in field_specs(params)}
    specs = [spec for spec in specs_for(params) if applies[spec.field]]
    S.keep_values(ss, [S.param_key(uid, name) for name, used in applies.items() if not used])
    for spec in specs:
        if spec.basic:
            key = S.param_key(uid, spec.field)
            render_field(st, spec, key, disabled=disabled, on_change=_changed_by_user)
    rest = [spec for spec in specs if not spec.basic]
    more = bool(rest) and st.toggle(
        f"More settings ({len(rest)})", key=S.more_key(uid), help="The stage's other parameters."
    )
    keys = [S.param_key(uid, spec.field) for spec in rest]
    if not more:
        S.keep_values(ss, keys)
        return
    for spec, key in zip(rest, keys, strict=True):
        render_field(st, spec, key, disabled=disabled, on_change=_changed_by_user)


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
        on_change=_changed_by_user,
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
        on_change=_changed_by_user,
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
        on_change=_changed_by_user,
        format_func=lambda m: ocr_view.PSM_NAMES[m],
        help="Where the engine looks for text (Tesseract's page segmentation mode): a whole page, "
        "a block, one line, one word… RapidOCR reads lines and words alike, and pages with its own "
        "line finder.",
    )
    st.multiselect(
        "Also try",
        sorted({*ocr_view.TEXT_MODES, *(int(m) for m in ss.get(K.ALT_PSM_KEY) or ())}),
        key=K.ALT_PSM_KEY,
        on_change=_changed_by_user,
        max_selections=4,
        format_func=lambda m: ocr_view.PSM_NAMES[m],
        help="Read with these page segmentation modes too and keep the most confident reading "
        "(e.g. 6 next to 3 for pages that may be one column or several). Each costs one more OCR.",
    )
    st.text_input(
        "Allowed characters",
        key=K.WHITELIST_KEY,
        on_change=_changed_by_user,
        placeholder="any",
        help="Only these characters may be read, e.g. 0123456789 for a meter; empty = any.",
    )
