"""The character set short codes are written in, learned from the tuning labels.

Captchas, meter readings and serial numbers come from a small alphabet: often no lowercase,
sometimes no digits, rarely punctuation. An OCR engine that does not know the alphabet guesses,
and its guesses for letters that look the same in both cases (``c o s u v w x z``) are
wrong about half the time when the glyphs have random sizes, as in the ``captcha`` package's
images: RapidOCR reads ``V`` as ``v`` and ``W`` as ``w``. (``k`` and ``p`` are not twins: the
small ``k``'s arms end at the x-height and the small ``p`` hangs below the line, so the engine
tells them apart; see :data:`TWINS`.) The tuning labels tell which alphabet
it is, when they are numerous enough to make an absence telling.

:func:`learned_whitelist` turns the labels into a whitelist (an ``ocr.whitelist`` both engines
honour; in RapidOCR it masks the decoder, so a ``v`` becomes the next best ``V``):

1. **Codes only.** Every label is one word of at most :data:`CODE_MAX` characters, all ASCII.
   Words in sentences follow their language's case rules, which the engines know better.
2. **Classes.** The characters fall into digits, capitals, small letters and punctuation, with
   the letters split into the case twins and the rest. A class none of the labels uses is left
   out when, had it been part of the alphabet, at least :data:`MIN_EXPECTED` of the labels'
   characters would have come from it (so its absence is not luck: a chance below 5 %).
3. **Case of the twins.** When one case of the twin letters is used at least
   :data:`CASE_RATIO` times as often as the other (and at least :data:`MIN_EXPECTED` times),
   only the twins the labels write in the rarer case keep it.
4. **Look-alikes.** Code alphabets often leave out the characters people confuse
   (:data:`LOOKALIKES`: ``0 O 1 I l``) as a group. When the labels use none of those still
   allowed, and the group would have supplied at least :data:`MIN_EXPECTED` of the labels'
   characters, they are left out too: the engine then reads the ``G`` it took for a ``0`` or the
   ``l`` it took for an ``I`` as the next best character.

The wide tuner (:mod:`pipeline.tuning.wide`) tries the whitelist on its chosen start and keeps it
unless the tuning images read worse with it.
"""

from __future__ import annotations

import string
from collections.abc import Iterable

CODE_MAX = 12
"""Longest label (characters) that counts as a code."""

MIN_EXPECTED = 3.0
"""How many characters a class would have supplied for its absence to count."""

CASE_RATIO = 3
"""How many times more often one case of the twin letters must be used for the other to be limited."""

TWINS = "cosuvwxz"
"""Letters whose small and capital forms differ only in size.

On 456 generated captchas (``captcha`` package, development seeds) RapidOCR read the case of
``V`` and ``W`` wrong 40 % of the time and of ``C`` 25 %, but ``K`` 7 %, ``k`` 15 % and ``P``
never: counting ``k`` and ``p`` as twins left the small ``k`` out of alphabets whose 8 labels
happened to hold none, and every ``k`` then read as ``K``."""

LOOKALIKES = "01IOl"
"""Characters that code alphabets leave out together because people confuse them.

RapidOCR reads other glyphs of generated captchas whose alphabet has none of them as these:
``I`` for ``L r f T``, ``l`` for ``J``, ``0`` for ``G Q``, ``1`` for ``7``, in 11 of the 26
captchas it misread among 96 (development seeds 101-606, read with the alphabet learned
before this step)."""

_CLASSES: dict[str, str] = {
    "digits": string.digits,
    "capitals": "".join(c for c in string.ascii_uppercase if c.lower() not in TWINS),
    "capital twins": TWINS.upper(),
    "small letters": "".join(c for c in string.ascii_lowercase if c not in TWINS),
    "small twins": TWINS,
    "punctuation": string.punctuation,
}


def learned_whitelist(labels: Iterable[str | None], *, ignore_case: bool = False) -> str:
    """The characters the labels' alphabet allows, or ``""`` when the labels do not tell.

    ``labels``: the expected texts of the tuning images (``None`` ones are skipped).
    ``ignore_case``: the CER ignores case, so the twins' case is not learned (step 3).
    """
    codes = _texts(labels)
    if not are_codes(codes) or not all(t.isascii() for t in codes):
        return ""
    chars = "".join(codes)
    used = {name: sum(c in members for c in chars) for name, members in _CLASSES.items()}
    kept = {name for name, count in used.items() if count}
    size = sum(len(_CLASSES[name]) for name in kept)
    for name in set(_CLASSES) - kept:
        members = len(_CLASSES[name])
        if len(chars) * members / (size + members) < MIN_EXPECTED:
            kept.add(name)
    allowed = set("".join(_CLASSES[name] for name in kept))
    if not ignore_case:
        allowed -= _rare_twins(chars, used["capital twins"], used["small twins"])
    allowed -= _unused_lookalikes(chars, allowed)
    if allowed >= set(string.ascii_letters + string.digits + string.punctuation):
        return ""
    return "".join(c for c in string.digits + string.ascii_letters + string.punctuation if c in allowed)


def are_codes(labels: Iterable[str | None]) -> bool:
    """Whether the labels (``None`` and blank ones skipped; at least one left) are all codes:
    one word of at most :data:`CODE_MAX` printable characters."""
    codes = _texts(labels)
    return bool(codes) and all(len(t) <= CODE_MAX and t.isprintable() and " " not in t for t in codes)


def _texts(labels: Iterable[str | None]) -> list[str]:
    """The labels stripped, without ``None`` and blank ones."""
    return [t.strip() for t in labels if t and t.strip()]


def _rare_twins(chars: str, capitals: int, small: int) -> set[str]:
    """The twin letters of the rarely used case that the labels never write in that case."""
    if capitals >= MIN_EXPECTED and capitals >= CASE_RATIO * small:
        return set(TWINS) - set(chars)
    if small >= MIN_EXPECTED and small >= CASE_RATIO * capitals:
        return set(TWINS.upper()) - set(chars)
    return set()


def _unused_lookalikes(chars: str, allowed: set[str]) -> set[str]:
    """The allowed :data:`LOOKALIKES` when ``chars`` use none of them and they are common enough
    in ``allowed`` for that absence to tell (at least :data:`MIN_EXPECTED` expected)."""
    group = {c for c in LOOKALIKES if c in allowed}
    if not group or group & set(chars) or len(chars) * len(group) / len(allowed) < MIN_EXPECTED:
        return set()
    return group
