"""Corrections applied to the text an engine read, when a preset's OCR options ask for them.

Pure functions of the text, so that the exported script (:mod:`pipeline.standalone`) copies and
applies them exactly as Clarity does.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\S+")


def zero_as_o(text: str) -> str:
    """``text`` with each 0 in a word of letters read as the letter O: in a run of non-space
    characters holding at least two letters and no digit but 0 (``T0TAL``, ``D0Z``, ``f0ll``).
    The O is small when the letters next to it (two on each side) are all small, else capital.
    Numbers (``2010``, ``0.50``) and codes with other digits (``A0B1``) are left as they are.
    """

    def fix(match: re.Match[str]) -> str:
        token = match.group(0)
        if "0" not in token or sum(c.isalpha() for c in token) < 2:
            return token
        if any(c.isdigit() and c != "0" for c in token):
            return token
        out = []
        for i, char in enumerate(token):
            if char == "0":
                near = [c for c in token[max(0, i - 2) : i] + token[i + 1 : i + 3] if c.isalpha()]
                char = "o" if near and all(c.islower() for c in near) else "O"
            out.append(char)
        return "".join(out)

    return _TOKEN.sub(fix, text)
