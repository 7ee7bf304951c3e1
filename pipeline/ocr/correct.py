"""Corrections applied to the text an engine read, when a preset's OCR options ask for them.

Pure functions of the text, so that the exported script (:mod:`pipeline.standalone`) copies and
applies them exactly as Clarity does.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\S+")

DIGITS = "0123456789"
NUMBER_CHARS = DIGITS + ".,-:/"
"""What a number may be read as: digits and the punctuation of amounts, dates and times."""

CODE_MAX_CHARS = 8
"""A reading of one run of non-space characters this long or shorter is taken for a code (a
captcha, a serial number) by :func:`zero_as_o` and left as it is."""


def is_code(text: str) -> bool:
    """True when the whole reading is one run of at most :data:`CODE_MAX_CHARS` non-space
    characters (``X0KQ``): alone and that short it is more likely a code than a word."""
    stripped = text.strip()
    return bool(stripped) and len(stripped) <= CODE_MAX_CHARS and _TOKEN.fullmatch(stripped) is not None


def zero_as_o_word(word: str) -> str:
    """``word`` (no spaces) with each 0 read as the letter O when it holds at least two letters
    and no digit but 0 (``T0TAL``, ``D0Z``, ``f0ll``); the O is small when the letters next to it
    (two on each side) are all small, else capital. Numbers (``2010``, ``0.50``) and codes with
    other digits (``A0B1``) are returned as they are."""
    if "0" not in word or sum(c.isalpha() for c in word) < 2:
        return word
    if any(c.isdigit() and c != "0" for c in word):
        return word
    out = []
    for i, char in enumerate(word):
        if char == "0":
            near = [c for c in word[max(0, i - 2) : i] + word[i + 1 : i + 3] if c.isalpha()]
            char = "o" if near and all(c.islower() for c in near) else "O"
        out.append(char)
    return "".join(out)


def zero_as_o(text: str) -> str:
    """``text`` with :func:`zero_as_o_word` applied to each run of non-space characters, unless
    the whole reading looks like a code (:func:`is_code`); spacing is kept."""
    if is_code(text):
        return text
    return _TOKEN.sub(lambda match: zero_as_o_word(match.group(0)), text)


def is_number(text: str) -> bool:
    """True when ``text`` has digits and nothing else but spaces and number punctuation
    (:data:`NUMBER_CHARS`): a meter, a counter, an amount, a date."""
    return any(c in DIGITS for c in text) and all(c in NUMBER_CHARS or c.isspace() for c in text)
