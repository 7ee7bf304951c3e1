"""Presets cannot make Tesseract read or write files, and every bound on a preset has one clear message.

The Tesseract variables are checked against the installed Tesseract's own list
(``tesseract --print-parameters``): every variable whose value is a path, or that writes,
dumps, trains or prints debugging output, is refused in a preset, and every allowlisted
variable is a real one.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.errors import PresetError
from pipeline.ocr import OcrOptions
from pipeline.ocr.variables import PRESET_VARIABLES, local_variables
from pipeline.preset import load_preset, parse_preset, preset_from_data
from pipeline.share import pack, unpack

ROOT = Path(__file__).resolve().parents[1]

PATH_WORDS = re.compile(r"file|_dir|path|suffix|filename|sublangs", re.I)
"""Names of path-valued variables (user_words_file, user_patterns_suffix, tessedit_load_sublangs...)."""
OUTPUT_WORDS = re.compile(
    r"debug|write|dump|save|(^|_)train|create|display|show|output|interactive|stream_filelist", re.I
)
"""Names of variables that write files, print debugging output, open windows or read stdin."""


def tesseract_parameters() -> dict[str, tuple[str, str]]:
    """``{name: (default value, description)}`` from the installed ``tesseract --print-parameters``."""
    out = subprocess.run(
        ["tesseract", "--print-parameters"], capture_output=True, text=True, check=True
    ).stdout
    params = {}
    for line in out.splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) >= 2 and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", parts[0]):
            params[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else "")
    return params


PARAMETERS = tesseract_parameters()
DANGEROUS = sorted(
    name
    for name, (value, description) in PARAMETERS.items()
    if PATH_WORDS.search(name)
    or OUTPUT_WORDS.search(name)
    or "/" in value
    or re.search(r"\b(file|directory|path|stdin|scrollview)\b", description, re.I)
)


def test_tesseract_lists_the_dangerous_variables_we_test() -> None:
    assert len(PARAMETERS) > 300
    for name in ("user_words_file", "user_patterns_file", "debug_file", "tessedit_write_params_to_file"):
        assert name in DANGEROUS
    assert len(DANGEROUS) > 100


@pytest.mark.parametrize("name", DANGEROUS)
def test_every_path_and_debug_output_variable_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(name))):
        OcrOptions(variables={name: "/dev/zero"})
    with pytest.raises(PresetError, match=re.escape(repr(name))):
        preset_from_data({"schema_version": 1, "ocr": {"variables": {name: "1"}}}, "link")


def test_allowlisted_variables_are_real_and_harmless() -> None:
    missing = sorted(PRESET_VARIABLES - set(PARAMETERS))
    assert not missing, f"not listed by this Tesseract: {missing}"
    assert not set(DANGEROUS) & PRESET_VARIABLES
    for name in ("classify_bln_numeric_mode", "preserve_interword_spaces", "load_system_dawg"):
        assert OcrOptions(variables={name: "1"}).variables == {name: "1"}


def test_unknown_variables_are_refused() -> None:
    with pytest.raises(ValueError, match="not allowed in a preset"):
        OcrOptions(variables={"no_such_variable": "1"})


def test_shipped_presets_stay_valid() -> None:
    files = sorted((ROOT / "presets").glob("*.yaml"))
    assert len(files) >= 7
    for path in files:
        load_preset(path)


def test_word_lists_come_from_the_operator_not_the_preset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLARITY_USER_WORDS_FILE", "/srv/words.txt")
    monkeypatch.delenv("CLARITY_USER_PATTERNS_FILE", raising=False)
    assert local_variables() == {"user_words_file": "/srv/words.txt"}
    options = OcrOptions(whitelist="0123")
    assert options.engine_variables() == {
        "tessedit_char_whitelist": "0123",
        "user_words_file": "/srv/words.txt",
    }
    assert "user_words_file" not in options.tesseract_variables()  # never exported or shared
    assert "words" not in pack(parse_preset("schema_version: 1\n"))


def test_cli_word_list_option_reaches_the_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--user-words`` is read by Tesseract: a missing file is refused; an existing one is used."""
    preset = tmp_path / "p.yaml"
    preset.write_text("schema_version: 1\nocr: {psm: 7}\n")
    image = tmp_path / "line.png"
    import cv2
    import numpy as np

    img = np.full((60, 400), 255, np.uint8)
    cv2.putText(img, "HELLO 42", (10, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 0, 3)
    cv2.imwrite(str(image), img)
    code = main(
        ["run", "--preset", str(preset), "--out", str(tmp_path / "o"), "--user-words", "/nope", str(image)]
    )
    assert code == 2 and "/nope: no such file" in capsys.readouterr().err
    words = tmp_path / "words.txt"
    words.write_text("HELLO\n")
    code = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "--preset", str(preset), "--out", str(tmp_path / "o"),
         "--user-words", str(words), str(image)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    ).returncode  # fmt: skip
    assert code == 0
    assert "HELLO" in (tmp_path / "o" / "line.txt").read_text()


# ------------------------------------------------------------------------------ the CLI refuses

BAD_PRESETS = {
    "user_words_file": "schema_version: 1\nocr:\n  variables: {user_words_file: /dev/zero}\n",
    "user_patterns_file": "schema_version: 1\nocr:\n  variables: {user_patterns_file: /etc/passwd}\n",
    "debug_file": "schema_version: 1\nocr:\n  variables: {debug_file: /tmp/x}\n",
    "write_params": "schema_version: 1\nocr:\n  variables: {tessedit_write_params_to_file: /tmp/x}\n",
    "30-digit integer": "schema_version: 1\nstages:\n  - stage: median_blur\n"
    "    params: {ksize_w: 123456789012345678901234567890}\n",
    "30-digit schema version": "schema_version: 123456789012345678901234567890\n",
    "5000-digit integer": "schema_version: 1\nname: " + "9" * 5000 + "\n",
    "20,000 stages": "schema_version: 1\nstages: [" + ", ".join(["grayscale"] * 20_000) + "]\n",
    "long whitelist": "schema_version: 1\nocr: {whitelist: '" + "a" * 1001 + "'}\n",
}


@pytest.mark.parametrize("case", sorted(BAD_PRESETS))
def test_cli_check_refuses_with_one_line_and_exit_2(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_PRESETS[case])
    assert main(["check", str(path)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}") and len(lines[0]) < 500, captured.err
    assert not captured.out


def test_cli_check_as_a_program(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(BAD_PRESETS["20,000 stages"])
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "check", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert (
        done.stderr.count("\n") == 1
        and "20,000 stages" in done.stderr
        and "CLARITY_MAX_STAGES" in done.stderr
    )


def test_the_same_refusals_for_share_links() -> None:
    import base64
    import json
    import zlib

    def link(data: object) -> str:
        raw = json.dumps(data).encode()
        return "1" + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")

    for data, words in (
        ({"schema_version": 1, "ocr": {"variables": {"user_words_file": "/dev/zero"}}}, "user_words_file"),
        ({"schema_version": 10**29}, "30 digits"),
        ({"schema_version": 1, "stages": [{"stage": "invert", "params": {"x": -(10**40)}}]}, "41 digits"),
        ({"schema_version": 1, "stages": ["invert"] * 101}, "CLARITY_MAX_STAGES"),
    ):
        with pytest.raises(PresetError, match=words):
            unpack(link(data))


def test_limits_follow_their_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    stages = {"schema_version": 1, "stages": ["invert"] * 150}
    with pytest.raises(
        PresetError, match=r"150 stages, more than the limit of 100 \(set CLARITY_MAX_STAGES to change it\)"
    ):
        preset_from_data(stages)
    monkeypatch.setenv("CLARITY_MAX_STAGES", "200")
    assert len(preset_from_data(stages).stages) == 150
    monkeypatch.setenv("CLARITY_MAX_WHITELIST", "5")
    with pytest.raises(PresetError, match="CLARITY_MAX_WHITELIST"):
        preset_from_data({"schema_version": 1, "ocr": {"whitelist": "0123456789"}})
    monkeypatch.setenv("CLARITY_MAX_WHITELIST", "not a number")  # unreadable: the default
    assert preset_from_data({"schema_version": 1, "ocr": {"whitelist": "0123456789"}}).ocr.whitelist
