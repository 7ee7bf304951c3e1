"""The studio's session state: the preset being tuned, widget keys, loading, undo.

The preset being tuned lives in ``session_state[K.STAGES]`` as a list of plain dicts, one per
stage::

    {"uid": "s7", "stage": "median_blur", "enabled": True, "id": None, "source": None,
     "params": {"ksize_w": 3, "ksize_h": 3}}

``uid`` is a per-session id that never changes while the stage exists and is never reused:
every widget of a stage is keyed by it (:func:`param_key` ``"stage:{uid}:{field}"``,
:func:`enabled_key` ``"on:{uid}"``, :func:`source_key` ``"source:{uid}"``), so moving a stage
moves its widgets' state with it, and loading another preset (new uids) can never pick up a
stale widget value. ``source`` holds the uid of the stage it reads (or ``"input"``); it is
turned into preset ids when the preset is built.

Widget values are the truth for parameters: :func:`seed_entry` writes an entry's values into
the widget keys *before* the widgets are drawn (when loading a preset, adding a stage or
undoing), and :func:`build_preset` reads them back and validates the whole preset. When the
edits make an invalid preset (a source after its stage, min above max), the last valid
preset keeps being processed and the error is shown: edits are never lost and never crash
the page. :func:`remember` keeps a bounded history for :func:`undo`.

Every function takes the session state as a plain ``MutableMapping``, so tests use a dict.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

from pipeline.errors import PresetError
from pipeline.ocr.options import OcrOptions, split_languages
from pipeline.preset import INPUT, Preset, StageSpec, preset_from_data
from pipeline.registry import get_stage

from . import keys as K
from .widgets import specs_for

State = MutableMapping[Any, Any]


MAX_HISTORY = 50
_OCR_WIDGET_FIELDS = ("engine", "lang", "psm", "alternative_psm", "whitelist")


def param_key(uid: str, field: str) -> str:
    """Widget key of parameter ``field`` of the stage ``uid``."""
    return f"stage:{uid}:{field}"


def enabled_key(uid: str) -> str:
    """Widget key of the on/off toggle of stage ``uid``."""
    return f"on:{uid}"


def source_key(uid: str) -> str:
    """Widget key of the source picker of stage ``uid`` (stages that read a second image)."""
    return f"source:{uid}"


def open_key(uid: str) -> str:
    """Key of the expander of stage ``uid`` in the sidebar (True while it is open)."""
    return f"exp:{uid}"


def more_key(uid: str) -> str:
    """Widget key of the "More settings" toggle of stage ``uid``."""
    return f"more:{uid}"


def keep_values(ss: State, keys: Iterable[str]) -> None:
    """Keep the values of widgets not drawn in this run as plain state: Streamlit drops a widget's
    value at the end of a run that did not draw it, and the preset is built from these values."""
    for key in keys:
        if key in ss:
            ss[key] = ss[key]


def value_keys(entry: dict[str, Any]) -> list[str]:
    """The widget keys a stage-list entry's settings live in: its parameters, on/off, and the source
    picker of a stage that takes one."""
    uid, stage = entry["uid"], get_stage(entry["stage"])
    keys = [param_key(uid, s.field) for s in specs_for(stage.params)]
    keys.append(enabled_key(uid))
    if stage.takes_source:
        keys.append(source_key(uid))
    return keys


def new_uid(ss: State) -> str:
    """A fresh stage uid, never used before in this session."""
    n = int(ss.get(K.COUNTER, 0)) + 1
    ss[K.COUNTER] = n
    return f"s{n}"


def entries(ss: State) -> list[dict[str, Any]]:
    """The stage list (an empty list before anything was loaded)."""
    return ss.setdefault(K.STAGES, [])


def find(ss: State, uid: str) -> dict[str, Any] | None:
    """The entry of stage ``uid``, or ``None``."""
    return next((e for e in entries(ss) if e["uid"] == uid), None)


# ------------------------------------------------------------------------------ loading


def seed_entry(ss: State, entry: dict[str, Any]) -> None:
    """Write ``entry``'s values into its widget keys (call before the widgets are drawn)."""
    for spec in specs_for(get_stage(entry["stage"]).params):
        ss[param_key(entry["uid"], spec.field)] = spec.coerce(entry["params"].get(spec.field, spec.default))
    ss[enabled_key(entry["uid"])] = bool(entry["enabled"])
    if get_stage(entry["stage"]).takes_source:
        ss[source_key(entry["uid"])] = entry.get("source") or INPUT


def ensure_seeded(ss: State, entry: dict[str, Any]) -> None:
    """Seed the widget keys of ``entry`` that are missing (e.g. after a failed run)."""
    if any(k not in ss for k in value_keys(entry)):
        sync_entry(ss, entry)
        seed_entry(ss, entry)


def seed_all(ss: State) -> None:
    """:func:`ensure_seeded` for every stage: their widget keys are read before the sidebar draws them."""
    for entry in entries(ss):
        ensure_seeded(ss, entry)


def new_entry(ss: State, spec: StageSpec) -> dict[str, Any]:
    """A stage-list entry (fresh uid) for ``spec``; ``source`` still holds the preset id."""
    return {
        "uid": new_uid(ss),
        "stage": spec.stage,
        "enabled": spec.enabled,
        "id": spec.id,
        "source": spec.source,
        "engines": list(spec.engines),
        "params": spec.params.model_dump(mode="json"),
    }


def load_preset(ss: State, preset: Preset, *, keep_history: bool = False) -> None:
    """Make ``preset`` the one being tuned: new uids, widgets seeded, OCR settings set."""
    new = [new_entry(ss, spec) for spec in preset.stages]
    by_id = {e["id"]: e["uid"] for e in new if e["id"]}
    for e in new:
        if e["source"] is not None and e["source"] != INPUT:
            e["source"] = by_id.get(e["source"], INPUT)
    ss[K.STAGES] = new
    for e in new:
        seed_entry(ss, e)
    ss[K.NAME_KEY] = preset.name
    ss[K.DESC_KEY] = preset.description
    ocr = preset.ocr
    ss[K.ENGINE_KEY] = ocr.engine
    ss[K.LANG_KEY] = split_languages(ocr.lang) or ["eng"]
    ss[K.PSM_KEY] = ocr.psm
    ss[K.ALT_PSM_KEY] = list(ocr.alternative_psm)
    ss[K.WHITELIST_KEY] = ocr.whitelist
    extra = ocr.model_dump(mode="json")
    ss[K.OCR_EXTRA] = {k: v for k, v in extra.items() if k not in _OCR_WIDGET_FIELDS}
    ss[K.LAST_GOOD] = preset
    if not keep_history:
        ss[K.HISTORY] = []
    remember(ss)


# ------------------------------------------------------------------------------- editing


def add_stage(ss: State, name: str) -> dict[str, Any]:
    """Append stage ``name`` with its default parameters; returns its entry."""
    stage = get_stage(name)
    entry = new_entry(ss, StageSpec(stage=name, params=stage.params()))
    entries(ss).append(entry)
    seed_entry(ss, entry)
    return entry


def move_stage(ss: State, uid: str, delta: int) -> None:
    """Move stage ``uid`` by ``delta`` positions (clamped to the list)."""
    items = entries(ss)
    index = next((i for i, e in enumerate(items) if e["uid"] == uid), None)
    if index is None:
        return
    target = min(max(index + delta, 0), len(items) - 1)
    if target != index:
        sync_all(ss)
        items.insert(target, items.pop(index))


def remove_stage(ss: State, uid: str) -> None:
    """Remove stage ``uid``; stages that read it as their source read the input instead."""
    items = entries(ss)
    gone = find(ss, uid)
    if gone is None:
        return
    sync_all(ss)
    items.remove(gone)
    reset = []
    for e in items:
        if e.get("source") == uid:
            e["source"] = INPUT
            ss[source_key(e["uid"])] = INPUT
            reset.append(e["stage"])
    if reset:
        ss[K.NOTICE] = (
            f"Removed {gone['stage']}; {', '.join(reset)} now read(s) the original image as source."
        )


def sync_entry(ss: State, entry: dict[str, Any]) -> None:
    """Copy the widget values of ``entry`` (where present) into the entry itself."""
    uid = entry["uid"]
    stage = get_stage(entry["stage"])
    for spec in specs_for(stage.params):
        key = param_key(uid, spec.field)
        if key in ss:
            entry["params"][spec.field] = spec.coerce(ss[key])
    if enabled_key(uid) in ss:
        entry["enabled"] = bool(ss[enabled_key(uid)])
    if stage.takes_source and source_key(uid) in ss:
        entry["source"] = ss[source_key(uid)]


def sync_all(ss: State) -> None:
    """:func:`sync_entry` for every stage."""
    for entry in entries(ss):
        sync_entry(ss, entry)


def _unique_id(base: str, taken: set[str]) -> str:
    base = base[:36]
    candidate, n = base, 2
    while candidate in taken or candidate == INPUT:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def current_data(ss: State) -> dict[str, Any]:
    """The preset being tuned as plain data (what ``preset_from_data`` validates).

    Stages used as a source get an id (their stage name, made unique) if they have none.
    """
    sync_all(ss)
    items = entries(ss)
    needed = {e["source"] for e in items if e.get("source") not in (None, INPUT)}
    taken = {e["id"] for e in items if e.get("id")}
    for e in items:
        if e["uid"] in needed and not e.get("id"):
            e["id"] = _unique_id(e["stage"], taken)
            taken.add(e["id"])
    ids = {e["uid"]: e["id"] for e in items}
    stages = []
    for e in items:
        data: dict[str, Any] = {"stage": e["stage"], "enabled": e["enabled"], "params": dict(e["params"])}
        if e.get("id"):
            data["id"] = e["id"]
        if e.get("engines"):
            data["engines"] = list(e["engines"])
        if get_stage(e["stage"]).takes_source and e.get("source") not in (None,):
            data["source"] = INPUT if e["source"] == INPUT else ids.get(e["source"], e["source"])
        stages.append(data)
    return {
        "schema_version": 1,
        "name": str(ss.get(K.NAME_KEY) or "untitled"),
        "description": str(ss.get(K.DESC_KEY) or ""),
        "stages": stages,
        "ocr": ocr_data(ss),
    }


def ocr_data(ss: State) -> dict[str, Any]:
    """The ``ocr:`` section from the OCR widgets plus the options without widgets."""
    langs = ss.get(K.LANG_KEY) or []
    data = dict(ss.get(K.OCR_EXTRA) or {})
    data.update(
        engine=ss.get(K.ENGINE_KEY, "auto"),
        lang="+".join(langs) if isinstance(langs, list | tuple) else str(langs),
        psm=int(ss.get(K.PSM_KEY, 3)),
        # The main mode is never its own alternative, whatever the two widgets say.
        alternative_psm=[int(m) for m in ss.get(K.ALT_PSM_KEY) or [] if int(m) != int(ss.get(K.PSM_KEY, 3))],
        whitelist=str(ss.get(K.WHITELIST_KEY) or ""),
    )
    return data


def build_preset(ss: State) -> tuple[Preset, str | None]:
    """The preset the widgets describe, validated, and ``None``; or the last valid one and the error.

    An empty language list gets a clear message instead of the validator's.
    """
    last = ss.get(K.LAST_GOOD) or Preset(ocr=OcrOptions())
    data = current_data(ss)
    if not data["ocr"]["lang"]:
        return last, "OCR settings: choose at least one language."
    try:
        preset = preset_from_data(data, "studio")
    except PresetError as exc:
        return last, str(exc).removeprefix("studio: ")
    ss[K.LAST_GOOD] = preset
    return preset, None


# --------------------------------------------------------------------------------- undo


def remember(ss: State) -> None:
    """Append the current preset data to the undo history if it changed (bounded)."""
    history: list[dict[str, Any]] = ss.setdefault(K.HISTORY, [])
    data = current_data(ss)
    if not history or history[-1] != data:
        history.append(data)
        del history[:-MAX_HISTORY]


def can_undo(ss: State) -> bool:
    """True when there is an earlier state to go back to."""
    return len(ss.get(K.HISTORY) or []) >= 2


def undo(ss: State) -> bool:
    """Go back to the previous preset state (widgets re-seeded); False when there is none.

    If the previous state does not validate any more it is skipped.
    """
    history: list[dict[str, Any]] = ss.get(K.HISTORY) or []
    while len(history) >= 2:
        history.pop()
        try:
            preset = preset_from_data(history[-1], "undo")
        except PresetError:
            continue
        history.pop()  # load_preset re-appends it (with the new uids' data)
        load_preset(ss, preset, keep_history=True)
        return True
    return False
