"""Presets: an ordered list of stages with their parameters, plus OCR settings.

A preset is what users tune, save, share and run in batch. On disk it is YAML::

    schema_version: 1
    name: speckled line
    description: dark text on gray paper with heavy speckle
    stages:
      - stage: grayscale
        id: gray                 # optional: lets a later stage name this one as its source
      - stage: threshold
        params: {method: otsu}
      - stage: hull_mask
        source: gray             # the earlier image this stage copies pixels from
    ocr: {lang: eng, psm: 7}

Everything but ``schema_version`` has a default: ``enabled: true``, the stage's default
params, default OCR settings; an empty stage list reads the image as it is. Loading validates
everything and raises :class:`~pipeline.errors.PresetError` whose message names the stage
(position and name), the field, the bad value and the allowed range.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import limits
from .errors import PresetError, read_user_file
from .ocr.options import EngineName, OcrOptions, engine_family
from .params import StageParams, field_spec
from .registry import get_stage

SCHEMA_VERSION = 1
"""The preset format this Clarity writes and reads."""

INPUT = "input"
"""The ``source`` name of the image as loaded, before any stage."""

MAX_PRESET_BYTES = 256 * 1024
"""Largest preset text accepted (bytes)."""

MAX_DEPTH = 12
"""Deepest nesting of YAML collections accepted in a preset."""

MAX_DIGITS = 15
"""Most digits of an integer in a preset (larger numbers are refused before they are converted)."""

StageEngine = Literal["tesseract", EngineName]
"""What a stage's ``engines`` list may name: an engine, or 'tesseract' for both Tesseract engines."""

_ID = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_ID_RULE = "use lower-case letters, digits, '_' or '-', starting with a letter (at most 40), and not 'input'"


def _is_valid_id(value: object) -> bool:
    """The id rule of a stage (checked by :class:`StageSpec` and, with more context, by the parser)."""
    return isinstance(value, str) and bool(_ID.match(value)) and value != INPUT


# Upgraders from an older schema_version to the next one: {old_version: function(raw) -> raw}.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


class StageSpec(BaseModel):
    """One stage of a preset: which stage, on or off, its parameters and optional source."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str = Field(description="Registered stage name, e.g. 'median_blur'.")
    enabled: bool = Field(True, description="False skips the stage: its input passes through.")
    id: str | None = Field(None, description="Name by which a later stage's `source` refers to this one.")
    source: str | None = Field(
        None,
        description="For stages that read a second image: the id of an earlier stage, or 'input'.",
    )
    params: StageParams = Field(default_factory=StageParams)
    engines: tuple[StageEngine, ...] = Field(
        (),
        description=(
            "Run this stage only when the preset is read by one of these OCR engines ('tesseract' "
            "stands for tesserocr and pytesseract, which 'auto' picks); empty = with every engine. "
            "Lets one preset clean hard for Tesseract and lightly for RapidOCR."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _typed_params(cls, data: Any) -> Any:
        """Validate ``params`` against the named stage's own model."""
        if isinstance(data, Mapping) and isinstance(data.get("stage"), str):
            model = get_stage(data["stage"]).params
            params = data.get("params") or {}
            if not isinstance(params, model):
                data = {**data, "params": model.model_validate(params)}
        return data

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str | None) -> str | None:
        if value is not None and not _is_valid_id(value):
            raise ValueError(f"{value!r} is not a valid id; {_ID_RULE}")
        return value

    @model_validator(mode="after")
    def _source_only_where_read(self) -> StageSpec:
        if self.source is not None and not get_stage(self.stage).takes_source:
            raise ValueError(f"source: stage '{self.stage}' reads only the previous image")
        return self

    @property
    def label(self) -> str:
        """What the UI and messages call this stage: its id, else its stage name."""
        return self.id or self.stage

    def key(self) -> str:
        """Canonical text of everything that affects this stage's output (for caching)."""
        return f"{self.stage}|{self.enabled}|{self.source}|{self.params.model_dump_json()}"

    def runs_with(self, engine: str) -> bool:
        """True when the stage is on and runs when ``engine`` (an ``ocr.engine`` value) reads."""
        if not self.enabled:
            return False
        if not self.engines:
            return True
        return engine in self.engines or engine_family(engine) in self.engines

    def to_dict(self) -> dict[str, Any]:
        """Plain data for YAML: every parameter written out, optional keys only when set."""
        out: dict[str, Any] = {"stage": self.stage}
        if not self.enabled:
            out["enabled"] = False
        if self.id is not None:
            out["id"] = self.id
        if self.source is not None:
            out["source"] = self.source
        if self.engines:
            out["engines"] = list(self.engines)
        out["params"] = self.params.model_dump(mode="json")
        return out


class Preset(BaseModel):
    """A whole preset. Build one with :func:`parse_preset` or :func:`load_preset`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    name: str = Field("untitled", max_length=200)
    description: str = Field("", max_length=5000)
    stages: tuple[StageSpec, ...] = ()
    ocr: OcrOptions = Field(default_factory=OcrOptions)

    @model_validator(mode="after")
    def _sources_name_earlier_stages(self) -> Preset:
        """Ids are unique; a ``source`` is 'input' or the id of an earlier stage."""
        seen: set[str] = set()
        for number, spec in enumerate(self.stages, 1):
            if spec.source is not None and spec.source != INPUT and spec.source not in seen:
                raise ValueError(
                    f"stage {number} ({spec.stage}): source {spec.source!r} names no earlier stage; "
                    "use 'input' or the id of an earlier stage"
                )
            if spec.id is not None:
                if spec.id in seen:
                    raise ValueError(f"stage {number} ({spec.stage}): id {spec.id!r} is already used")
                seen.add(spec.id)
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain data for YAML or JSON, in the documented key order."""
        return {
            "schema_version": self.schema_version,
            "name": self.name,
            "description": self.description,
            "stages": [s.to_dict() for s in self.stages],
            "ocr": self.ocr.model_dump(mode="json"),
        }

    def to_yaml(self) -> str:
        """The preset as YAML text; :func:`parse_preset` of it gives an equal preset."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100)


# ----------------------------------------------------------------------------------------------
# Loading


class _PresetLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that also refuses aliases (no "billion laughs") and deep nesting."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                None, None, "YAML aliases (*name) are not allowed in presets", event.start_mark
            )
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.MarkedYAMLError(
                    None, None, f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_int(self, node: Any) -> Any:
        """Refuse integers of more than :data:`MAX_DIGITS` digits before converting them."""
        digits = sum(c.isdigit() for c in str(node.value))
        if digits > MAX_DIGITS:
            raise yaml.MarkedYAMLError(None, None, _too_many_digits(digits), node.start_mark)
        return super().construct_yaml_int(node)


_PresetLoader.add_constructor("tag:yaml.org,2002:int", _PresetLoader.construct_yaml_int)


def _too_many_digits(digits: int) -> str:
    return f"a number with {digits} digits; numbers in a preset have at most {MAX_DIGITS} digits"


def _path(where: str, key: Any) -> str:
    """``where.key``; a key that is not a plain name is quoted (so a message stays one line)."""
    name = str(key) if isinstance(key, str) and key.isidentifier() else repr(key)
    return f"{where}.{name}" if where else name


def _check_numbers(data: Any, origin: str) -> None:
    """Refuse integers of more than :data:`MAX_DIGITS` digits anywhere in ``data`` (links, uploads)."""
    todo = [(data, "")]
    while todo:
        value, where = todo.pop()
        if isinstance(value, Mapping):
            todo.extend((v, _path(where, k)) for k, v in value.items())
        elif isinstance(value, list | tuple):
            todo.extend((v, f"{where}[{i}]") for i, v in enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**MAX_DIGITS:
            digits = len(str(abs(value))) if abs(value) < 10**4000 else 4000
            raise PresetError(f"{origin}: {where or 'the preset'}: {_too_many_digits(digits)}")


def _read_yaml(text: str, origin: str) -> Any:
    size = len(text.encode("utf-8"))
    if size > MAX_PRESET_BYTES:
        raise PresetError(
            f"{origin}: the preset is {size} bytes, more than the {MAX_PRESET_BYTES} allowed; "
            "is this really a preset?"
        )
    try:
        return yaml.load(text, Loader=_PresetLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        detail = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise PresetError(f"{origin}: not valid preset YAML{where}: {detail}") from None
    except yaml.YAMLError as exc:
        detail = str(exc).replace("\n", " ")
        raise PresetError(f"{origin}: not valid preset YAML: {detail}") from None


def parse_preset(text: str, origin: str = "preset") -> Preset:
    """Validate YAML ``text`` into a :class:`Preset`.

    Parameters
    ----------
    text:
        The YAML document.
    origin:
        What to call the text in error messages: a file name, "share link", "upload".
    """
    return preset_from_data(_read_yaml(text, origin), origin)


def load_preset(path: str | Path) -> Preset:
    """Read and validate the preset file at ``path`` (errors name the file)."""
    data = read_user_file(path, PresetError, "a preset", max_bytes=MAX_PRESET_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PresetError(f"{path}: not a text file (a preset is UTF-8 YAML)") from None
    return parse_preset(text, str(path))


def save_preset(preset: Preset, path: str | Path) -> None:
    """Write ``preset`` as YAML to ``path``."""
    Path(path).write_text(preset.to_yaml(), encoding="utf-8")


_TOP_KEYS = ("schema_version", "name", "description", "stages", "ocr")
_STAGE_KEYS = ("stage", "enabled", "id", "source", "engines", "params")


def preset_from_data(data: Any, origin: str = "preset") -> Preset:
    """Validate already-parsed data (a mapping) into a :class:`Preset`; see :func:`parse_preset`."""
    if data is None:
        raise PresetError(
            f"{origin}: the preset is empty; it needs at least `schema_version: {SCHEMA_VERSION}`"
        )
    if not isinstance(data, Mapping):
        raise PresetError(
            f"{origin}: a preset is a mapping of keys ({', '.join(_TOP_KEYS)}), not a {_kind(data)}"
        )
    _check_numbers(data, origin)
    data = _migrate(dict(data), origin)
    _check_keys(data, _TOP_KEYS, origin, "")
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            raise PresetError(f"{origin}: `{key}` must be text, got {_kind(data[key])} {data[key]!r}")
    raw_stages = data.get("stages") or []
    if not isinstance(raw_stages, list):
        raise PresetError(f"{origin}: `stages` must be a list of stages, got {_kind(raw_stages)}")
    if len(raw_stages) > limits.STAGES.get():
        raise PresetError(
            f"{origin}: "
            + limits.over_limit(limits.STAGES, "too many stages", len(raw_stages), "remove stages")
        )
    stages = _parse_stages(raw_stages, origin)
    ocr = _parse_ocr(data.get("ocr") or {}, origin)
    try:
        return Preset(
            schema_version=SCHEMA_VERSION,
            name=data.get("name", "untitled"),
            description=data.get("description", ""),
            stages=stages,
            ocr=ocr,
        )
    except ValidationError as exc:
        raise PresetError(f"{origin}: {_first_error(exc)}") from None


def _migrate(data: dict[str, Any], origin: str) -> dict[str, Any]:
    version = data.get("schema_version")
    if version is None:
        raise PresetError(f"{origin}: `schema_version` is missing; add `schema_version: {SCHEMA_VERSION}`")
    if isinstance(version, bool) or not isinstance(version, int):
        raise PresetError(f"{origin}: `schema_version` must be a whole number, got {version!r}")
    if version > SCHEMA_VERSION:
        raise PresetError(
            f"{origin}: schema_version {version} was written by a newer Clarity; this one reads "
            f"versions up to {SCHEMA_VERSION}. Upgrade Clarity to load it."
        )
    if version < SCHEMA_VERSION and version not in MIGRATIONS:
        raise PresetError(
            f"{origin}: schema_version {version} is unknown; the current one is {SCHEMA_VERSION}"
        )
    while version < SCHEMA_VERSION:
        import warnings

        warnings.warn(
            f"{origin}: migrated from schema_version {version}; save it again to update it", stacklevel=3
        )
        data = MIGRATIONS[version](data)
        version += 1
        data["schema_version"] = version
    return data


def _parse_stages(raw_stages: list[Any], origin: str) -> tuple[StageSpec, ...]:
    specs: list[StageSpec] = []
    seen_ids: set[str] = set()
    for index, raw in enumerate(raw_stages):
        fields = _parse_stage(raw, f"{origin}: stage {index + 1}", origin)
        where = f"{origin}: stage {index + 1} ({fields['stage']})"
        stage_id, source = fields["id"], fields["source"]
        if stage_id is not None and stage_id in seen_ids:
            raise PresetError(f"{where}, field 'id': {stage_id!r} is already used by an earlier stage")
        if source is not None and source != INPUT and source not in seen_ids:
            later = any(isinstance(r, Mapping) and r.get("id") == source for r in raw_stages[index:])
            why = "names this or a later stage" if later else "names no stage"
            raise PresetError(
                f"{where}, field 'source': {source!r} {why}; use 'input' or the id of an earlier stage "
                f"({', '.join(sorted(seen_ids)) or 'none has an id yet'})"
            )
        if stage_id is not None:
            seen_ids.add(stage_id)
        specs.append(StageSpec(**fields))
    return tuple(specs)


def _parse_stage(raw: Any, where: str, origin: str) -> dict[str, Any]:
    """The :class:`StageSpec` fields of one stage entry (a name, or a mapping), checked on their own.

    ``where`` names the entry in messages; ids and sources across stages are checked by the caller.
    """
    if isinstance(raw, str):
        raw = {"stage": raw}
    if not isinstance(raw, Mapping):
        raise PresetError(f"{where}: a stage is a mapping with a `stage` key, got {_kind(raw)} {raw!r}")
    name = raw.get("stage")
    if not isinstance(name, str):
        raise PresetError(f"{where}: `stage` (the stage name) is missing or not text")
    try:
        stage = get_stage(name)
    except KeyError as exc:
        raise PresetError(f"{where}: {exc.args[0]}") from None
    where = f"{where} ({name})"
    _check_keys(raw, _STAGE_KEYS, origin, where)
    if "enabled" in raw and not isinstance(raw["enabled"], bool):
        raise PresetError(f"{where}, field 'enabled': must be true or false, got {raw['enabled']!r}")
    params = raw.get("params") or {}
    if not isinstance(params, Mapping):
        raise PresetError(f"{where}: `params` must be a mapping of field: value, got {_kind(params)}")
    try:
        typed = stage.params.model_validate(dict(params))
    except ValidationError as exc:
        raise PresetError(f"{where}, {_field_error(exc, stage.params)}") from None
    stage_id = raw.get("id")
    if stage_id is not None and not _is_valid_id(stage_id):
        raise PresetError(f"{where}, field 'id': {stage_id!r} is not a valid id; {_ID_RULE}")
    source = raw.get("source")
    if source is not None and not stage.takes_source:
        raise PresetError(f"{where}, field 'source': stage '{name}' reads only the previous image")
    return {
        "stage": name,
        "enabled": raw.get("enabled", True),
        "id": stage_id,
        "source": source,
        "engines": _parse_engines(raw.get("engines"), where),
        "params": typed,
    }


def _parse_engines(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    allowed = get_args(StageEngine)
    if not isinstance(raw, list) or any(name not in allowed for name in raw):
        raise PresetError(
            f"{where}, field 'engines': {raw!r} is not a list of engine names; allowed: "
            f"{', '.join(allowed)} (empty = every engine)"
        )
    if len(set(raw)) != len(raw):
        raise PresetError(f"{where}, field 'engines': an engine is listed twice in {raw!r}")
    return tuple(raw)


def _parse_ocr(raw: Any, origin: str) -> OcrOptions:
    if not isinstance(raw, Mapping):
        raise PresetError(f"{origin}: `ocr` must be a mapping of OCR settings, got {_kind(raw)}")
    try:
        return OcrOptions.model_validate(dict(raw))
    except ValidationError as exc:
        raise PresetError(f"{origin}: ocr, {_field_error(exc, OcrOptions)}") from None


def _field_error(exc: ValidationError, model: type[BaseModel]) -> str:
    """One sentence for the first error: the field, the bad value, what is allowed."""
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    field = loc[0] if loc else ""
    info = model.model_fields.get(field)
    if err["type"] == "extra_forbidden":
        known = ", ".join(model.model_fields) or "none"
        return f"field {field!r}: unknown field; known fields: {known}"  # repr: names may hold newlines
    message = err["msg"].removeprefix("Value error, ")
    if not field or isinstance(err.get("input"), Mapping):  # a mapping (variables): the message says it all
        return f"field {'.'.join(loc)!r}: {message}" if field else message
    got = repr(err.get("input"))
    got = got if len(got) <= 80 else f"{got[:60]}... ({len(got)} characters)"
    text = f"field {'.'.join(loc)!r}: {message}; got {got}"
    if info is not None:
        text += f"; allowed: {field_spec(model, field).allowed}"
    return text


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"


def _check_keys(data: Mapping[str, Any], allowed: tuple[str, ...], origin: str, where: str) -> None:
    for key in data:
        if key not in allowed:
            place = where or origin
            raise PresetError(f"{place}: unknown key {key!r}; allowed keys: {', '.join(allowed)}")


def _kind(value: Any) -> str:
    return {list: "list", dict: "mapping", str: "text", int: "number", float: "number"}.get(
        type(value), type(value).__name__
    )
