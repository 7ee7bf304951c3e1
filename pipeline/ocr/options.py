"""``OcrOptions``: the ``ocr:`` section of a preset, i.e. how Tesseract is asked to read.

Example preset section::

    ocr:
      engine: auto        # tesserocr (in-process) when available, else the tesseract program
      lang: eng+deu
      psm: 7              # one text line
      alternative_psm: [] # other modes to read with; the most confident reading wins
      whitelist: "0123456789"
      timeout_s: 10
      variables:
        classify_bln_numeric_mode: "1"

The options say *what* to ask; :mod:`pipeline.ocr.engine` decides *how* (library or program)
and both engines honour every field the same way.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from .. import limits
from .variables import LOCAL_VARIABLE_ENV, PRESET_VARIABLES, local_variables

# One language: a traineddata name (``eng``, ``chi_sim``, ``script/Latin``), optionally
# prefixed by ``~`` (Tesseract's "do not load this language even if another one asks for it").
_LANG_PART = re.compile(r"~?[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)?")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

FIELD_VARIABLES = {
    "tessedit_char_whitelist": "whitelist",
    "tessedit_char_blacklist": "blacklist",
    "tessedit_pageseg_mode": "psm",
    "tessedit_ocr_engine_mode": "oem",
    "user_defined_dpi": "dpi",
}
"""Tesseract variables that have their own option field; setting them in ``variables`` is refused."""

MAX_VARIABLE_CHARS = 200
"""Longest value of one Tesseract variable in ``variables`` (characters)."""
MIN_BLUR_SIGMA, MAX_BLUR_SIGMA = 0.1, 5.0
"""Range of ``alternative_blur`` values: Gaussian standard deviations, px."""

PSM_HELP = (
    "Page segmentation mode, how Tesseract finds the text: 3 = automatic page layout (default), "
    "4 = one column of text of variable sizes, 6 = one uniform block of text, 7 = one text line, "
    "8 = one word, 10 = one character, 11 = sparse text in no order, 13 = raw line (no "
    "Tesseract-specific tricks). 0 (orientation and script detection only) reads no text, so the "
    "result is always empty; "
    "1 and 12 also need the 'osd' language data."
)


def _variable_value(value: Any) -> Any:
    """Accept YAML scalars for variable values: booleans become 1/0, numbers their text."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return str(value)
    return value


VariableValue = Annotated[str, BeforeValidator(_variable_value)]


def is_unsafe_variable(name: str) -> bool:
    """True when ``name`` is a Tesseract variable that ``OcrOptions.variables`` refuses (not allowlisted)."""
    return name not in PRESET_VARIABLES


def split_languages(lang: str) -> list[str]:
    """The language names of a plus-joined ``lang`` string, without ``~``-excluded ones."""
    return [part for part in lang.split("+") if part and not part.startswith("~")]


EngineName = Literal["tesserocr", "pytesseract", "rapidocr"]
"""An OCR engine's name: the one list of names (the other engine types below build on it)."""

EngineChoice = Literal["auto", EngineName]
"""An engine name, or ``"auto"`` (the ``engine`` of :class:`OcrOptions`)."""

ENGINE_NAMES: tuple[str, ...] = get_args(EngineName)
"""Every engine name, in the order ``auto`` considers the Tesseract ones; ``"auto"`` is not one."""


def engine_family(engine: str) -> str:
    """``"rapidocr"`` for RapidOCR, ``"tesseract"`` for every Tesseract engine and ``auto``."""
    return "rapidocr" if engine == "rapidocr" else "tesseract"


TESSERACT_ENGINES: tuple[str, ...] = ENGINE_NAMES[:2]
"""The engines that run Tesseract (``auto`` picks the first that can run)."""

ENGINE_LABELS: dict[str, str] = dict(
    zip(
        get_args(EngineChoice),
        (
            "Tesseract, automatic (fastest available)",
            "Tesseract: tesserocr (in-process library)",
            "Tesseract: pytesseract (tesseract program)",
            "RapidOCR (learned; best on captchas, digits, short text)",
        ),
        strict=True,
    )
)
"""What the studio's engine menu shows for each :data:`EngineChoice`."""


class OcrOptions(BaseModel):
    """How Tesseract reads the cleaned image (the ``ocr:`` section of a preset).

    Unknown fields are refused and instances are immutable; use ``model_copy(update=...)``
    to derive a variant.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    engine: EngineChoice = Field(
        "auto",
        description=(
            "Which OCR engine reads: 'tesserocr' calls the Tesseract library in-process "
            "(fast, no temporary files), 'pytesseract' runs the tesseract program per image, "
            "'rapidocr' is a learned engine (PP-OCR models on onnxruntime) that reads captchas, "
            "digits and other short text far better but pages more slowly; 'auto' is the fastest "
            "Tesseract available (tesserocr when it finds language data, else pytesseract)."
        ),
    )
    second_engine: EngineChoice | None = Field(
        None,
        description=(
            "Also read with this engine, on the image the preset makes for it (stages limited to "
            "other engines skipped), and keep that reading when it holds more than 1.1 times the "
            "letters in dictionary words (4 letters or more, Tesseract's word list for lang) of "
            "the first engine's reading. For pages, where one engine now and then misses lines "
            "or reads a stained page into nonsense that the other reads. Costs the second "
            "engine's stages and reading; ignored when it is the same engine (or both are "
            "Tesseract). Empty = one engine."
        ),
    )
    second_word_share: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description=(
            "With second_engine: keep the second reading only when it is made of real words too: "
            "at least this share (0..1) of the letters in its words of 4 letters or more are "
            "dictionary words, and they add up to 12 letters or more. For lines and crops, where a "
            "code, a chance word in a captcha's background or a line in another language than lang "
            "would otherwise win; 0 = the letter count alone decides (pages)."
        ),
    )
    lang: str = Field(
        "eng",
        description=(
            "Tesseract language(s), plus-joined, e.g. 'eng' or 'eng+deu': names of "
            "<lang>.traineddata files in the tessdata directory."
        ),
        max_length=200,
    )
    psm: int = Field(3, ge=0, le=13, description=PSM_HELP)
    alternative_psm: tuple[int, ...] = Field(
        (),
        max_length=4,
        description=(
            "Other page segmentation modes to read the image with as well, e.g. [6] next to psm 3 "
            "for pages that may be one column or several; the reading with the highest confidence "
            "per character is kept (ties keep psm). Each mode costs one more OCR call. "
            "Empty = read with psm only."
        ),
    )
    alternative_blur: tuple[float, ...] = Field(
        (),
        max_length=3,
        description=(
            "Standard deviations, px, of Gaussian blurs whose softened copies of the image are "
            "read as well, e.g. [0.7]: a light blur evens out grain, halftone dots and broken "
            "strokes that a learned engine misreads. The reading kept is the one with the "
            "highest confidence per character, discounted when it reads fewer characters than "
            "the longest reading (see pipeline.ocr.result.reading_score); ties keep the image "
            "as it is. Each value costs one more OCR call per mode. Empty = read the image "
            "as it is only."
        ),
    )
    empty_psm: int | None = Field(
        None,
        ge=1,
        le=13,
        description=(
            "Tesseract engines: when every reading is empty, read once more with this page "
            "segmentation mode, e.g. 13 (raw line) after psm 7 for a line whose noisy edges make "
            "Tesseract find no line in it. Empty = no second try."
        ),
    )
    agree_within: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description=(
            "With at least three ways to read the cleaned image (e.g. alternative_psm and "
            "alternative_blur together): "
            "read two first, the image as it is with psm and the last softened copy with the "
            "last alternative mode; when their texts differ by at most this share (the CER of "
            "the second against the first, 0..1), keep the better of the two and do not read the "
            "other ways. Empty = always read every way. On 352 pages cleaned by the document "
            "preset, 0.05 skipped the other two readings on 44 % of the pages at the same CER."
        ),
    )
    also_read_original: bool = Field(
        False,
        description=(
            "RapidOCR only: also read the image as it came in, before the stages, and keep the "
            "better of the two readings (scored as for alternative_blur; ties keep the cleaned "
            "image). For a cleaning that helps on some images and hurts on others, e.g. a "
            "captcha's tone band. Costs one more OCR call per copy. Tesseract engines read the "
            "cleaned image only: their confidence is no safe judge between a raw and a cleaned "
            "image (on generated gray-band captchas the choice took CER from 0.22 to 0.34)."
        ),
    )
    zero_as_o: bool = Field(
        False,
        description=(
            "Read a 0 inside a word of letters (at least two letters and no other digit, e.g. "
            "T0TAL, D0Z) as the letter O (o between small letters). RapidOCR reads the O of "
            "monospace print, as on receipts, as 0: on 40 generated receipt lines this took its "
            "CER from 0.007 to 0.000 (on 40 more, made after, 0.035 to 0.003), and it changed "
            "nothing on the corpus' form, old-print and page folders. A reading that is one run "
            "of 8 characters or fewer (X0KQ) is taken for a code and left as it is. Leave it off "
            "for codes, where letters and 0 mix."
        ),
    )
    oem: int = Field(
        3,
        ge=0,
        le=3,
        description=(
            "OCR engine mode: 0 = legacy engine only, 1 = LSTM neural net only, 2 = both, "
            "3 = default (what the language data supports; LSTM for the usual models). "
            "0 and 2 need language data that includes the legacy model."
        ),
    )
    whitelist: str = Field(
        "",
        description=(
            "Only these characters may be recognised (tessedit_char_whitelist), e.g. "
            "'0123456789'; empty = no restriction."
        ),
    )
    blacklist: str = Field(
        "",
        description="These characters are never recognised (tessedit_char_blacklist); empty = none.",
    )
    variables: dict[str, VariableValue] = Field(
        default_factory=dict,
        max_length=64,
        description=(
            "Extra Tesseract variables, as with 'tesseract -c name=value' (see "
            "'tesseract --print-parameters'). Only known-safe variables that are not paths are "
            "accepted (pipeline/ocr/variables.py): those that read or write files, train, print "
            "debugging output or open windows are refused, as are those with their own field here "
            "(whitelist, psm, ...). Word and pattern lists are set outside presets: the CLI's "
            "--user-words/--user-patterns or CLARITY_USER_WORDS_FILE/CLARITY_USER_PATTERNS_FILE."
        ),
    )
    timeout_s: float = Field(
        30.0,
        ge=0.5,
        le=600.0,
        description="Longest time one image may take, in seconds; slower calls fail with a timeout error.",
        json_schema_extra={"step": 0.5},
    )
    dpi: int | None = Field(
        None,
        ge=70,
        le=1200,
        description=(
            "Resolution of the image in pixels per inch, which scales Tesseract's size limits "
            "(noise, line spacing). Unset: Tesseract estimates it from the height of the text, "
            "which suits crops and captchas whose real resolution is unknown."
        ),
    )

    @field_validator("lang")
    @classmethod
    def _check_lang(cls, value: str) -> str:
        value = value.strip()
        parts = value.split("+")
        bad = [p for p in parts if not _LANG_PART.fullmatch(p)]
        if not value or bad:
            shown = ", ".join(repr(p) for p in bad) if value else "an empty string"
            raise ValueError(
                f"invalid language list {value!r} ({shown}): expected Tesseract language names "
                "joined by '+', e.g. 'eng' or 'eng+deu'"
            )
        names = [p.lstrip("~") for p in parts]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"language(s) listed twice in {value!r}: {', '.join(duplicates)}")
        if not split_languages(value):
            raise ValueError(f"{value!r} excludes every language: name at least one without '~'")
        return value

    @field_validator("alternative_psm")
    @classmethod
    def _check_alternative_psm(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        bad = [m for m in value if not 1 <= m <= 13]
        if bad:
            raise ValueError(
                f"page segmentation mode(s) {bad} cannot be alternatives: use 1 to 13 "
                "(0 only detects orientation and reads no text)"
            )
        if len(set(value)) != len(value):
            raise ValueError(f"a mode is listed twice in {list(value)}")
        return value

    @field_validator("alternative_blur")
    @classmethod
    def _check_alternative_blur(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        bad = [s for s in value if not MIN_BLUR_SIGMA <= s <= MAX_BLUR_SIGMA]
        if bad:
            raise ValueError(
                f"blur(s) {bad} out of range: use standard deviations from {MIN_BLUR_SIGMA} to "
                f"{MAX_BLUR_SIGMA} px (the image as it is is always read)"
            )
        if len(set(value)) != len(value):
            raise ValueError(f"a blur is listed twice in {list(value)}")
        return value

    @field_validator("whitelist", "blacklist")
    @classmethod
    def _check_chars(cls, value: str) -> str:
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError("must not contain control characters (newlines, tabs, ...)")
        if len(value) > limits.WHITELIST_CHARS.get():
            raise ValueError(limits.over_limit(limits.WHITELIST_CHARS, "too long", len(value)))
        return value

    @field_validator("variables")
    @classmethod
    def _check_variables(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _IDENTIFIER.fullmatch(name):
                raise ValueError(f"{name!r} is not a Tesseract variable name (letters, digits and '_')")
            if name in FIELD_VARIABLES:
                raise ValueError(
                    f"set {name!r} with the '{FIELD_VARIABLES[name]}' option instead of in 'variables'"
                )
            if name in LOCAL_VARIABLE_ENV:
                raise ValueError(
                    f"Tesseract variable {name!r} names a file and is never taken from a preset; "
                    f"pass the file with the CLI option --{name.removesuffix('_file').replace('_', '-')} "
                    f"or the environment variable {LOCAL_VARIABLE_ENV[name]}"
                )
            if is_unsafe_variable(name):
                raise ValueError(
                    f"Tesseract variable {name!r} is not allowed in a preset: only known-safe variables "
                    "that read no file, write nothing and print no debugging output are "
                    "(see pipeline/ocr/variables.py)"
                )
            if any(ord(c) < 32 or ord(c) == 127 for c in text):
                raise ValueError(f"value of {name!r} must not contain control characters")
            if len(text) > MAX_VARIABLE_CHARS:
                raise ValueError(f"value of {name!r} is longer than {MAX_VARIABLE_CHARS} characters")
        return value

    @model_validator(mode="after")
    def _check_combination(self) -> OcrOptions:
        if self.psm in self.alternative_psm:
            raise ValueError(
                f"psm {self.psm} is also listed in alternative_psm {list(self.alternative_psm)}; "
                "list only the other modes"
            )
        both = sorted(set(self.whitelist) & set(self.blacklist))
        if both:
            raise ValueError(
                f"character(s) {''.join(both)!r} are in both the whitelist and the blacklist; "
                "a character can only be in one of them"
            )
        return self

    def __hash__(self) -> int:
        """Hashable despite the ``variables`` dict, so options can key caches (equal options, equal hash)."""
        values = tuple(tuple(sorted(v.items())) if isinstance(v, dict) else v for v in self.__dict__.values())
        return hash((type(self), values))

    @property
    def modes(self) -> tuple[int, ...]:
        """Every page segmentation mode read with: ``psm`` first, then ``alternative_psm``."""
        return (self.psm, *self.alternative_psm)

    @property
    def reads_original(self) -> bool:
        """True when the image before the stages is read too: ``also_read_original``, which only
        RapidOCR honours (Tesseract engines read the cleaned image only)."""
        return self.also_read_original and self.engine == "rapidocr"

    @property
    def languages(self) -> list[str]:
        """The languages that will be loaded (``lang`` split on '+', ``~`` exclusions dropped)."""
        return split_languages(self.lang)

    def tesseract_variables(self) -> dict[str, str]:
        """Every ``-c`` variable these options set: whitelist, blacklist and the extra variables."""
        out: dict[str, str] = {}
        if self.whitelist:
            out["tessedit_char_whitelist"] = self.whitelist
        if self.blacklist:
            out["tessedit_char_blacklist"] = self.blacklist
        out.update(self.variables)
        return out

    def engine_variables(self) -> dict[str, str]:
        """What the engines set: :meth:`tesseract_variables` plus the operator's word and pattern
        lists (:func:`~pipeline.ocr.variables.local_variables`), which no preset can carry."""
        return {**self.tesseract_variables(), **local_variables()}
