"""Share links: compact, URL-safe, exact round-trip, same validation as files."""

from __future__ import annotations

import base64
import json
import re
import zlib
from pathlib import Path

import pytest

from pipeline.errors import PresetError
from pipeline.preset import load_preset
from pipeline.share import MAX_LINK_CHARS, pack, unpack

PRESETS = sorted((Path(__file__).resolve().parents[1] / "presets").glob("*.yaml"))


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.name)
def test_round_trip_is_exact_and_url_safe(path: Path) -> None:
    preset = load_preset(path)
    link = pack(preset)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", link)
    assert len(link) < 2000
    assert unpack(link) == preset


def _raw(data: object) -> str:
    return "1" + base64.urlsafe_b64encode(zlib.compress(json.dumps(data).encode())).decode().rstrip("=")


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("", "not a Clarity share link"),
        ("2abc", "not a Clarity share link"),
        ("1!!!!", "damaged"),
        ("1" + "A" * 40, "damaged"),
        ("1" + "A" * (MAX_LINK_CHARS + 1), "more than"),
        (_raw({"schema_version": 1, "stages": [{"stage": "median_blur", "params": {"ksize_w": 2}}]}), "odd"),
        (_raw([1, 2]), "mapping"),
        (_raw({"schema_version": 1, "x": [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]}), "unknown key"),
    ],
)
def test_bad_links_are_refused(link: str, expected: str) -> None:
    with pytest.raises(PresetError, match=expected):
        unpack(link)


def test_zip_bomb_is_cut() -> None:
    bomb = "1" + base64.urlsafe_b64encode(zlib.compress(b"{" + b" " * 4_000_000, 9)).decode().rstrip("=")
    assert len(bomb) < MAX_LINK_CHARS
    with pytest.raises(PresetError, match="damaged"):
        unpack(bomb)
