"""Dictionary words in a reading: an engine-neutral judge between two engines' readings of a page.

The confidences of Tesseract and RapidOCR are on different scales, and neither is a safe judge
even within one engine (see :mod:`pipeline.auto`). What both readings of a page can be judged by
alike is how much of them is real words. The words are those of Tesseract's own language model:
the word list (``lstm-word-dawg``) inside each ``<lang>.traineddata``, unpacked once per process
with ``combine_tessdata`` and ``dawg2wordlist`` (both in Debian's ``tesseract-ocr`` package) into
a temporary folder that is removed at once.

:func:`dictionary_letters` counts the letters of a reading that lie in words of at least
:data:`MIN_WORD` letters found in the list (case-insensitive); :func:`second_is_better` prefers a
second reading only when it holds more than :data:`SECOND_MARGIN` times as many. A reading that
misses lines, or turns a stained page into nonsense, has few such letters; a reading that merely
misspells a few words loses little. Reading order is not judged: two readings of the same words
in a different order score the same. Nor is whether the words are on the page: a reading that
also holds the bleed-through from the other side of the sheet counts those words too.
"""

from __future__ import annotations

import functools
import logging
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .options import split_languages
from .probe import tessdata_dir

MIN_WORD = 4
"""Shortest run of letters counted as a word (letters): shorter ones (``ee``, ``re``, ``Oe``) are
as often the debris of a misread stain as real words."""

SECOND_MARGIN = 1.1
"""How many times the first reading's dictionary letters the second must exceed to be kept (ratio)."""

SURE_LETTERS = 12
"""With a word share asked for (``OcrOptions.second_word_share``), the fewest dictionary letters
the second reading must hold (letters): about three words, so that a code or a crop read as one
chance word (``Sections`` in a captcha's background text) is never taken for a line of text."""

TOOL_TIMEOUT_S = 30.0
"""Longest a word-list tool may run before it is given up (s)."""

_WORD = re.compile(r"[^\W\d_]+")
"""A run of letters (any script; digits and underscores end it)."""

log = logging.getLogger(__name__)


@functools.cache
def word_list(lang: str) -> frozenset[str]:
    """The lower-cased words of the Tesseract model ``lang`` (one language), or an empty set.

    Empty when the model, its word list or the tools are missing (a warning is logged once):
    the judge then counts nothing, and the first reading is kept.
    """
    tools = [shutil.which("combine_tessdata"), shutil.which("dawg2wordlist")]
    folder = tessdata_dir()
    model = folder / f"{lang}.traineddata" if folder is not None else None
    if None in tools or model is None or not model.is_file():
        log.warning("no word list for %s (Tesseract model or tools missing): readings not compared", lang)
        return frozenset()
    with tempfile.TemporaryDirectory(prefix="clarity-words-") as scratch:
        dawg, unicharset = Path(scratch, f"{lang}.lstm-word-dawg"), Path(scratch, f"{lang}.lstm-unicharset")
        words = Path(scratch, "words.txt")
        try:
            for command in (
                [str(tools[0]), "-e", str(model), str(dawg), str(unicharset)],
                [str(tools[1]), str(unicharset), str(dawg), str(words)],
            ):
                subprocess.run(command, capture_output=True, timeout=TOOL_TIMEOUT_S, check=False)
            text = words.read_text(encoding="utf-8", errors="replace")
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("could not unpack the word list of %s (%s): readings are not compared", lang, exc)
            return frozenset()
    return frozenset(word.lower() for word in text.split())


def words_of(lang: str) -> frozenset[str]:
    """The words of every language in ``lang`` (a plus-joined list such as ``eng+deu``), together:
    for one language its :func:`word_list` itself, for several their union (kept per process)."""
    names = tuple(name for name in split_languages(lang) if name != "osd" and "/" not in name)
    return word_list(names[0]) if len(names) == 1 else _union(names)


@functools.cache
def _union(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset().union(*(word_list(name) for name in names))


def _long_word_letters(text: str, lang: str) -> tuple[int, int]:
    """Letters of ``text`` in words of :data:`MIN_WORD` letters or more: those ``lang``'s list
    holds, and all of them (one pass for :func:`dictionary_letters` and :func:`word_share`)."""
    known = words_of(lang)
    long = [w for w in _WORD.findall(text) if len(w) >= MIN_WORD]
    return sum(len(w) for w in long if w.lower() in known), sum(len(w) for w in long)


def dictionary_letters(text: str, lang: str = "eng") -> int:
    """Letters of ``text`` in words of :data:`MIN_WORD` letters or more that ``lang``'s list holds.

    A word is a run of letters: ``"don't"`` is ``don`` and ``t``, ``"Okafor,"`` is ``Okafor``.
    """
    return _long_word_letters(text, lang)[0]


def word_share(text: str, lang: str = "eng") -> float:
    """The share (0..1) of the letters in words of :data:`MIN_WORD` letters or more that lie in
    dictionary words (:func:`dictionary_letters`); 0 for a text with no such word. A line read
    right in ``lang`` scores 0.8-1; a misread one, a code, or text in another language less."""
    known, long = _long_word_letters(text, lang)
    return known / long if long else 0.0


def second_is_better(first: str, second: str, lang: str = "eng", share: float = 0.0) -> bool:
    """True when ``second`` holds more than :data:`SECOND_MARGIN` times the dictionary letters of
    ``first`` (:func:`dictionary_letters`); ties and near-ties keep the first.

    ``share`` (0..1, ``OcrOptions.second_word_share``): when above 0, ``second`` must also be
    made of real words: at least :data:`SURE_LETTERS` dictionary letters and a
    :func:`word_share` of at least ``share``.
    """
    letters, long = _long_word_letters(second, lang)
    if share > 0 and (letters < SURE_LETTERS or letters / long < share):  # long >= letters >= 12
        return False
    return letters > SECOND_MARGIN * dictionary_letters(first, lang)
