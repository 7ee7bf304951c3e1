"""Share links: a preset packed into a compact, URL-safe string and back.

The text is the preset's JSON, compressed with zlib and encoded as URL-safe base64 without
padding, behind a one-letter format tag (``1``). Unpacking applies the same validation as
loading a preset file, plus a length limit.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib

from .errors import PresetError
from .preset import Preset, preset_from_data

MAX_LINK_CHARS = 8000
"""Longest share string accepted (characters); browsers and servers cap URLs near 8 KB."""

_TAG = "1"


def pack(preset: Preset) -> str:
    """The share string of ``preset`` (put it in the page URL as ``?p=...``)."""
    raw = json.dumps(preset.to_dict(), separators=(",", ":"), ensure_ascii=False).encode()
    return _TAG + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def unpack(text: str, origin: str = "share link") -> Preset:
    """The preset inside a share string; :class:`PresetError` when it is damaged or invalid."""
    if len(text) > MAX_LINK_CHARS:
        raise PresetError(f"{origin}: {len(text)} characters, more than the {MAX_LINK_CHARS} allowed")
    if not text.startswith(_TAG):
        raise PresetError(f"{origin}: not a Clarity share link (unknown format); copy the whole link again")
    body = text[len(_TAG) :]
    try:
        raw = zlib.decompressobj().decompress(
            base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)), 256 * 1024
        )
        data = json.loads(raw.decode("utf-8"))
    except (binascii.Error, zlib.error, UnicodeDecodeError, ValueError, RecursionError):
        raise PresetError(
            f"{origin}: the link is damaged (cut short or edited); copy the whole link again"
        ) from None
    return preset_from_data(data, origin)
