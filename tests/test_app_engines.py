"""The studio's engine picker and the Tesseract / RapidOCR comparison (AppTest)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from studio import sources

from .test_app import app, assert_ok, dirs  # noqa: F401 - fixtures


def comparison(at: AppTest) -> list[dict]:
    frames = [d.value for d in at.dataframe]
    assert len(frames) == 1, frames
    return frames[0].to_dict("records")


def compare_on(at: AppTest) -> AppTest:
    assert not at.dataframe  # off by default: RapidOCR would read every change of a slider
    at.toggle(key="engines:compare").set_value(True).run()
    assert_ok(at)
    return at


def test_comparison_reads_both_engines_on_both_images(app: AppTest) -> None:  # noqa: F811
    rows = comparison(compare_on(app))
    assert [(r["Engine"], r["Image"]) for r in rows] == [
        ("Tesseract", "original"),
        ("Tesseract", "cleaned"),
        ("RapidOCR", "original"),
        ("RapidOCR", "cleaned"),
    ]
    assert all(0 <= r["CER %"] <= 100 for r in rows)  # the sample's expected text is filled in
    assert any("LOT" in r["Text read"] for r in rows if r["Engine"] == "RapidOCR")
    assert any(c.value.startswith("Fewest errors:") for c in app.caption)


def test_comparison_without_expected_text_and_toggled_off(app: AppTest) -> None:  # noqa: F811
    compare_on(app).text_area(key="ocr:expected").input("").run()
    assert_ok(app)
    assert all(r["CER %"] is None or r["CER %"] != r["CER %"] for r in comparison(app))  # None or NaN
    assert any("Type the expected text" in c.value for c in app.caption)
    app.toggle(key="engines:compare").set_value(False).run()
    assert_ok(app)
    assert not app.dataframe


def test_engine_picker_offers_rapidocr_and_reads_with_it(app: AppTest) -> None:  # noqa: F811
    picker = app.sidebar.selectbox(key="ocr:engine")
    assert any(o.startswith("RapidOCR") for o in picker.options)
    picker.set_value("rapidocr").run()
    assert_ok(app)
    readings = [c.value for c in app.code]
    assert any("LOT" in t for t in readings[:2]), readings
    lines = [m.value for m in app.markdown if "confidence" in m.value and " ms, " in m.value]
    assert len(lines) == 2 and all("ms, RapidOCR" in line for line in lines), lines
    assert sources.GENERATED_TEXT
