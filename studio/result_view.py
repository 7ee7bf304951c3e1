"""The result at the top of the page: what went in, what came out, how good.

Two columns, the input image and the cleaned image, each with what the engine reads from it,
its confidence and, when the expected text is typed, the character error rate (CER). They are
kept short (images at most :data:`RESULT_HEIGHT` px tall) so that at 1280x720 both readings
are on the first screen. Below them: the expected text, a character diff, and the word boxes.
"""

from __future__ import annotations

import cv2
import numpy as np
import streamlit as st

from pipeline.auto import engine_title
from pipeline.metrics import cer
from pipeline.preset import Preset
from pipeline.reading import prefer_second
from pipeline.runner import Result

from . import keys as K
from . import ocr as ocr_view
from . import overlays
from .views import alert, show_image

RESULT_HEIGHT = 160
"""Tallest the two result images are shown, in CSS pixels (the stage grid shows them larger)."""
MIN_HEIGHT = 80
"""Images shorter than this are shown enlarged (at most 3x), in CSS pixels; captions give the true size."""


def result_panel(result: Result | None, preset: Preset) -> None:
    """Input and cleaned image side by side with their readings, then the expected text."""
    image = st.session_state[K.IMAGE].array
    original_image = result.input if result is not None else image
    final_image = result.final if result is not None else image
    with st.spinner("Reading the text…"):
        cleaned = ocr_view.read_text(final_image, preset.ocr, original=original_image)
        original = ocr_view.read_text(original_image, preset.ocr)
        second = _second_reading(original_image, preset, cleaned)
    first_engine = engine_title(preset.ocr.engine)
    first_error = (cleaned.error or "OCR failed") if cleaned.result is None else None
    if second is not None:  # the second engine's reading is kept, and the image it read
        preset, final_image, cleaned = second
    scores = _scores(original, cleaned)
    stages = sum(s.enabled for s in result.steps) if result is not None else 0
    left, right = st.columns(2)
    with left:
        st.markdown("**What went in**: the image as it is")
        _image(original_image, "original")
        _reading(original, scores.get("original"), None)
    with right:
        engine = engine_title(preset.ocr.engine)
        ran = (
            f"after {stages} cleaning stage{'s' * (stages != 1)}"
            if stages
            else f"{engine} reads it uncleaned"
        )
        if second is not None:
            ran = f"{engine} read its own cleaning of it, " + (
                f"as {first_engine} could not read it"
                if first_error is not None
                else f"and its reading holds more dictionary words than {first_engine}'s"
            )
        st.markdown(f"**What came out**: {ran}")
        if second is not None and first_error is not None:
            st.caption(f"{first_engine}: {first_error}")
        _image(final_image, "cleaned")
        _reading(cleaned, scores.get("cleaned"), scores.get("original"))
    _words(final_image, cleaned, preset)
    expected_panel(cleaned)


def _second_reading(
    image: np.ndarray, preset: Preset, first: ocr_view.Reading
) -> tuple[Preset, np.ndarray, ocr_view.Reading] | None:
    """With ``ocr.second_engine``: that engine's preset, cleaned image and reading, when its reading
    holds clearly more dictionary words than ``first`` (as in batch runs, :mod:`pipeline.reading`),
    or when ``first`` failed (an engine out of time or memory) and this one did not."""

    def read(other: Preset) -> tuple[np.ndarray, ocr_view.Reading]:
        ocr_view.wait_second()  # started with the first reading (grid_view): its results are cached
        final = ocr_view.run_stages(image, other).final  # the grid shows its own stages' errors
        return final, ocr_view.read_text(final, other.ocr, original=image)

    first_text = first.result.text if first.result is not None else None
    won = prefer_second(preset, first_text, read, _reading_text)
    if won is None:
        return None
    other, (final, reading) = won
    return other, final, reading


def _reading_text(read: tuple[np.ndarray, ocr_view.Reading]) -> str | None:
    result = read[1].result
    return result.text if result is not None else None


def _image(image: np.ndarray, what: str) -> None:
    """``image`` at most :data:`RESULT_HEIGHT` px tall (never enlarged), captioned with its size."""
    h, w = image.shape[:2]
    side = min(overlays.PREVIEW_SIDE, max(64, round(RESULT_HEIGHT * max(h, w) / max(h, 1))))
    shown = image
    if h < MIN_HEIGHT:  # a small crop or captcha: shown larger (pixels doubled or so), still labelled
        factor = min(3.0, MIN_HEIGHT / max(h, 1))
        shown = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    show_image(st, overlays.preview_bytes(shown, side), f"{what}, {w} × {h} px", width="content")


def _scores(original: ocr_view.Reading, cleaned: ocr_view.Reading) -> dict[str, float]:
    """CER of each reading against the expected text (empty when none is typed)."""
    ss = st.session_state
    expected = ss.get(K.EXPECTED) or ""
    if not expected.strip():
        return {}
    options = {"ignore_spaces": bool(ss.get(K.IGNORE_SPACES)), "ignore_case": bool(ss.get(K.IGNORE_CASE))}
    return {
        name: cer(expected, r.result.text, **options)
        for name, r in (("original", original), ("cleaned", cleaned))
        if r.result is not None
    }


def _reading(reading: ocr_view.Reading, score: float | None, before: float | None) -> None:
    """One line (CER when known, confidence, words, time, engine), then the text read."""
    if reading.error is not None or reading.result is None:
        alert("error", reading.error or "OCR failed.")
        return
    res = reading.result
    parts = []
    if score is not None:
        text = f"**CER {score:.1%}**"
        if before is not None and abs(score - before) >= 0.0005:
            colour = "green" if score < before else "red"
            text += f" :{colour}[({'down' if score < before else 'up'} from {before:.1%})]"
        parts.append(text)
    parts.append(f"confidence {res.mean_conf:.0f}%")
    parts.append(f"{len(res.words)} word{'s' * (len(res.words) != 1)}")
    parts.append(f"{res.ms:.0f} ms, {engine_title(res.engine)}")
    if res.psm is not None:
        parts.append(f"best mode: {ocr_view.PSM_NAMES[res.psm]}")
    if res.blur is not None:
        parts.append(f"read softened ({res.blur:g} px blur)" if res.blur else "read as it is, not softened")
    if res.from_original is not None:  # also_read_original: the better of the two readings is kept
        parts.append(
            "kept the original image's reading (it scored better)"
            if res.from_original
            else "kept this image's reading (it scored better than the original's)"
        )
    st.markdown(" · ".join(parts), help=_HELP)
    st.code(res.text if res.text else "(no text found)", language=None, wrap_lines=True)


_HELP = (
    "CER (character error rate): the share of the expected characters to fix, 0% is perfect; "
    "shown when the expected text is typed below. Confidence: the engine's mean word confidence, "
    "a hint, not a score: an engine can be sure of a wrong reading."
)


def _words(final_image: np.ndarray, cleaned: ocr_view.Reading, preset: Preset) -> None:
    """The cleaned image with each word boxed by confidence, when the toggle above it is on."""
    words = cleaned.result.words if cleaned.result is not None else ()
    if not words:
        return
    # A toggle, not an expander: an expander's content is made on every run even when closed.
    if not st.toggle("Show where the words were found", key=K.VIEW_BOXES):
        return
    data = overlays.PREVIEWS.get_or_make(
        (final_image,),
        ("boxes", preset.ocr.model_dump_json()),
        lambda: overlays.encode_rgb(overlays.word_boxes(final_image, words)),
    )
    show_image(st, data, "Words in the cleaned image, boxed by confidence: red = unsure, green = sure.")


def expected_panel(cleaned: ocr_view.Reading) -> None:
    """Expected text box (scores the readings above) and, when filled, a character diff."""
    ss = st.session_state
    with st.expander("Expected text: score the readings", expanded=bool((ss.get(K.EXPECTED) or "").strip())):
        st.text_area(
            "Expected text",
            key=K.EXPECTED,
            height=68,
            placeholder="Type what the image says to see the character error rate (CER).",
            help="The CER is the share of characters to fix: 0% is perfect.",
        )
        a, b = st.columns(2)
        a.checkbox("Ignore case", key=K.IGNORE_CASE)
        b.checkbox("Ignore spaces", key=K.IGNORE_SPACES)
        expected = ss.get(K.EXPECTED) or ""
        text = cleaned.result.text if cleaned.result is not None else None
        if not expected.strip() or text is None:
            return
        missed, extra = ocr_view.diff_counts(expected, text)
        st.markdown(f"**Expected vs. cleaned reading**: {missed} missed, {extra} extra characters")
        st.html(ocr_view.diff_html(expected, text))
        st.caption(
            "Struck through on red: expected but not read. Underlined on green: read but not expected."
        )
