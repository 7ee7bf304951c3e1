"""The studio's engine comparison: Tesseract and RapidOCR on the original and the cleaned image.

One table, four readings, so a user sees at once whether the cleaning or the engine is what
matters for their image. Each engine reads the image *its* run of the preset produces: stages
limited to one engine (``engines: [tesseract]``) are skipped for the other, as in batch runs.
Readings go through :func:`studio.ocr.read_text`, so they are cached like the main reading.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from pipeline.auto import engine_title
from pipeline.metrics import cer
from pipeline.preset import Preset
from pipeline.reading import with_ocr
from pipeline.runner import Result

from . import keys as K
from . import ocr as ocr_view

ENGINES = ("auto", "rapidocr")
"""What is compared: the fastest Tesseract (``auto``) and RapidOCR."""


@dataclass(frozen=True)
class Row:
    """One line of the comparison table."""

    engine: str
    image: str
    text: str
    confidence: float | None
    cer: float | None
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        """The row as the table shows it (percentages as numbers, for sorting)."""
        return {
            "Engine": self.engine,
            "Image": self.image,
            "Text read": self.error or self.text or "(no text found)",
            "Confidence %": None if self.confidence is None else round(self.confidence, 1),
            "CER %": None if self.cer is None else round(100 * self.cer, 1),
        }


def rows(
    result: Result, preset: Preset, expected: str, *, ignore_case: bool, ignore_spaces: bool
) -> list[Row]:
    """The four readings: each engine on the original image and on its own cleaned image."""
    out = []
    for engine in ENGINES:
        engine_preset = with_ocr(preset, engine=engine)
        cleaned = result if engine == preset.ocr.engine else ocr_view.run_stages(result.input, engine_preset)
        for label, image, before in (
            ("original", result.input, None),
            ("cleaned", cleaned.final, result.input),
        ):
            reading = ocr_view.read_text(image, engine_preset.ocr, original=before)
            if reading.result is None:
                out.append(Row(engine_title(engine), label, "", None, None, reading.error or "OCR failed"))
                continue
            text = reading.result.text
            score = (
                cer(expected, text, ignore_case=ignore_case, ignore_spaces=ignore_spaces)
                if expected.strip()
                else None
            )
            out.append(Row(engine_title(engine), label, text, reading.result.mean_conf, score))
    return out


def panel(result: Result | None, preset: Preset) -> None:
    """A toggle, then the comparison table and a one-line verdict when the expected text is known."""
    if result is None:
        return
    if not st.toggle(
        "Compare Tesseract and RapidOCR",
        key=K.ENGINES_COMPARE,
        value=False,
        help="Read the original and the cleaned image with both engines, to see whether the cleaning "
        "or the engine matters for this image. Off by default: while on, every change is read four "
        "times (RapidOCR takes a few seconds on a whole page).",
    ):
        return
    ss = st.session_state
    expected = ss.get(K.EXPECTED) or ""
    with st.spinner("Reading with both engines…"):
        table = rows(
            result,
            preset,
            expected,
            ignore_case=bool(ss.get(K.IGNORE_CASE)),
            ignore_spaces=bool(ss.get(K.IGNORE_SPACES)),
        )
    st.dataframe([r.as_dict() for r in table], hide_index=True, width="stretch")
    scored = [r for r in table if r.cer is not None]
    if scored:
        best = min(scored, key=lambda r: r.cer if r.cer is not None else 1.0)
        st.caption(
            f"Fewest errors: {best.engine} on the {best.image} image ({100 * (best.cer or 0):.1f}% CER)."
        )
    else:
        st.caption("Type the expected text above to see which reading has the fewest errors.")
