"""The tuning studio: the page (AppTest) and its pure helpers (studio/)."""

from __future__ import annotations

import html
import io
import os
import re
import time
import types
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from PIL import Image
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

from pipeline.errors import StageError
from pipeline.metrics import char_diff
from pipeline.ocr import OcrOptions
from pipeline.params import field_spec, humanize, unit_of
from pipeline.preset import Preset, parse_preset
from pipeline.registry import all_stages
from pipeline.share import pack, unpack
from studio import keys as K
from studio import ocr as studio_ocr
from studio import overlays, sources
from studio import state as S
from studio.widgets import MAX_SLIDER_STEPS, WidgetSpec, specs_for, widget_spec

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")

TEST_PRESET = """\
schema_version: 1
name: test line
description: a preset for the studio tests
stages:
  - stage: grayscale
    id: gray
  - stage: median_blur
    params: {ksize_w: 3, ksize_h: 3}
  - stage: threshold
    params: {method: fixed, value: 120}
  - stage: component_filter
    params: {min_area: 4}
  - stage: hull_mask
    source: gray
    params: {margin: 4}
ocr: {lang: eng, psm: 6}
"""

OTHER_PRESET = """\
schema_version: 1
name: other
stages:
  - stage: grayscale
  - stage: threshold
    params: {method: otsu}
ocr: {lang: eng, psm: 6}
"""


# ------------------------------------------------------------------------------- fixtures


def png_bytes(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    assert ok
    return buf.tobytes()


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A presets folder with two presets and a samples folder with an index (3 samples, 2 scenarios)."""
    presets = tmp_path / "presets"
    samples = tmp_path / "samples"
    presets.mkdir()
    samples.mkdir()
    (presets / "test-line.yaml").write_text(TEST_PRESET, encoding="utf-8")
    (presets / "other.yaml").write_text(OTHER_PRESET, encoding="utf-8")
    label = sources.generated_image(width=600)
    cv2.imwrite(str(samples / "label.png"), label)
    cv2.imwrite(str(samples / "label2.png"), cv2.flip(label, 1))
    cv2.imwrite(str(samples / "line.png"), label[:120])
    index = [
        {"file": "label.png", "title": "Food label", "scenario": "label", "preset": "test-line",
         "expected": sources.GENERATED_TEXT},
        {"file": "label2.png", "title": "Mirrored label", "scenario": "label", "preset": "other.yaml",
         "expected": ""},
        {"file": "line.png", "title": "One line", "scenario": "line", "preset": "other", "expected": "LOT"},
    ]  # fmt: skip
    (samples / "samples.yaml").write_text(yaml.safe_dump(index), encoding="utf-8")
    monkeypatch.setenv("CLARITY_PRESETS_DIR", str(presets))
    monkeypatch.setenv("CLARITY_SAMPLES_DIR", str(samples))
    monkeypatch.setenv("CLARITY_USER_PRESETS_DIR", str(tmp_path / "user-presets"))
    return presets, samples


def new_app(*, open_stages: bool = True) -> AppTest:
    """The studio under AppTest; with ``open_stages``, a run is followed by opening the sidebar
    expanders of the stages left closed (only an open stage's widgets are drawn), so tests find
    every stage's widgets, as a user who opened them all would; not after a run that shows a
    message, which the extra run would clear."""
    at = AppTest.from_file(APP, default_timeout=60)
    if open_stages:
        plain = at._run

        def run(*args: object, **kwargs: object) -> AppTest:
            plain(*args, **kwargs)  # type: ignore[arg-type]
            ss = at.session_state
            keys = [S.open_key(e["uid"]) for e in ss.get("stages", [])]
            closed = [key for key in keys if not ss.get(key)]
            shown = len(at.info) + len(at.error) + len(at.warning) + len(at.success) + len(at.exception)
            if closed and not shown:
                for key in closed:
                    ss[key] = True
                at.run()
            return at

        at._run = run  # type: ignore[method-assign]
    return at


@pytest.fixture
def app(dirs: tuple[Path, Path]) -> AppTest:
    at = new_app().run()
    assert_ok(at)
    return at


def assert_ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def grid_captions(at: AppTest) -> list[str]:
    """Captions of the stage grid (not the result at the top, the compare view or the word boxes)."""
    compare = {id(i) for e in at.expander for i in e.image}
    return [
        i.proto.imgs[0].caption
        for i in at.image
        if id(i) not in compare and not i.proto.imgs[0].caption.startswith(("original, ", "cleaned, "))
    ]


def grid_images(at: AppTest) -> dict[str, str]:
    """Grid image URL (a content hash) by caption prefix ("0. original", "3. threshold", ...)."""
    compare = {id(i) for e in at.expander for i in e.image}
    return {
        i.proto.imgs[0].caption.split(" — ")[0]: i.proto.imgs[0].url
        for i in at.image
        if id(i) not in compare and not i.proto.imgs[0].caption.startswith("Words")
    }


def uid_of(at: AppTest, stage: str) -> str:
    return next(e["uid"] for e in at.session_state["stages"] if e["stage"] == stage)


def errors(at: AppTest) -> list[str]:
    """Error messages as the user reads them (the page escapes Markdown in them)."""
    return [re.sub(r"\\(.)", r"\1", e.value) for e in at.error]


class MediaSpy:
    """Keeps the in-memory media stores AppTest creates, to read download-button data."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.stores: list = []
        spy = self
        original = app_test_module.MemoryMediaFileStorage

        class Recording(original):  # type: ignore[misc, valid-type]
            def __init__(self, endpoint: str) -> None:
                super().__init__(endpoint)
                spy.stores.append(self)

        monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", Recording)

    def read(self, url: str) -> bytes:
        name = os.path.basename(url)
        for store in reversed(self.stores):
            try:
                return store.get_file(name).content
            except Exception:
                continue
        raise AssertionError(f"no media file for {url}")


# ---------------------------------------------------------------------------- page: load


def test_opens_ready_with_stages_and_ocr(app: AppTest) -> None:
    assert app.title[0].value == "Clarity — OCR tuning studio"
    captions = grid_captions(app)
    assert captions[0].startswith("0. original — 600 × 240 px")
    names = [c.split(" — ")[0] for c in captions]
    assert names == [
        "0. original",
        "1. gray (grayscale)",
        "2. median_blur",
        "3. threshold",
        "4. component_filter",
        "5. hull_mask",
    ]
    assert all(" ms" in c for c in captions[1:])
    texts = [c.value for c in app.code]
    assert any("BEFORE" in t for t in texts[:2]), texts  # the OCR reading, no click needed
    assert not errors(app)
    assert app.session_state["preset:pick"] == "test-line"
    assert app.text_area(key="ocr:expected").value == sources.GENERATED_TEXT
    assert len(cer_lines(app)) == 2  # the original's and the cleaned image's


def cer_lines(app: AppTest) -> list[str]:
    """The result's reading lines that start with a CER (one per image when the text is known)."""
    return [m.value for m in app.markdown if m.value.startswith("**CER ")]


def test_opens_ready_with_the_repository_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLARITY_PRESETS_DIR", raising=False)
    monkeypatch.delenv("CLARITY_SAMPLES_DIR", raising=False)
    at = new_app().run()
    assert_ok(at)
    assert grid_captions(at)[0].startswith("0. original")
    assert len(at.code) >= 2  # original and cleaned readings


def test_sample_picker_offers_one_sample_per_scenario(app: AppTest) -> None:
    picker = app.selectbox(key="input:sample")
    assert picker.options == ["label — Food label", "line — One line"]
    picker.set_value("line.png").run()
    assert_ok(app)
    assert grid_captions(app)[0].startswith("0. original — 600 × 120 px")
    assert [e["stage"] for e in app.session_state["stages"]] == ["grayscale", "threshold"]
    assert app.text_area(key="ocr:expected").value == "LOT"
    assert app.session_state["preset:pick"] == "other"


def test_samples_without_index_fall_back_to_a_generated_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLARITY_SAMPLES_DIR", str(tmp_path / "nothing"))
    monkeypatch.setenv("CLARITY_PRESETS_DIR", str(tmp_path / "none"))
    at = new_app().run()
    assert_ok(at)
    assert grid_captions(at)[0].startswith("0. original — 900 × 360 px")
    assert [e["stage"] for e in at.session_state["stages"]] == [
        s["stage"] for s in sources.builtin_preset().to_dict()["stages"]
    ]
    assert not errors(at)


# --------------------------------------------------------------------------- page: input


def test_upload_shows_original_and_stages(app: AppTest) -> None:
    image = sources.generated_image(width=500, seed=3)
    app.file_uploader(key="input:upload").set_value(("photo.png", png_bytes(image), "image/png")).run()
    assert_ok(app)
    captions = grid_captions(app)
    assert captions[0].startswith("0. original — 500 × 200 px")
    notices = [re.sub(r"\\(.)", r"\1", i.value) for i in app.info]  # the page escapes Markdown
    # the label holds two separate lines of text: a short page
    assert any(n.startswith("Cleaned as: document, read by RapidOCR") for n in notices), notices
    assert app.session_state["ocr:engine"] == "rapidocr"
    assert len(captions) == 1  # the document preset's cleaning is for Tesseract only
    assert "photo\\.png (uploaded)" in [c.value for c in app.caption][1]
    assert app.selectbox(key="input:sample").value is None  # so that any sample can be picked again
    app.selectbox(key="input:sample").set_value("label.png").run()
    assert grid_captions(app)[0].startswith("0. original — 600 × 240 px")


def test_upload_multipage_tiff_has_a_page_picker(app: AppTest) -> None:
    pages = [Image.new("L", (300 + 100 * i, 80), 255) for i in range(3)]
    buf = io.BytesIO()
    pages[0].save(buf, format="TIFF", save_all=True, append_images=pages[1:])
    app.file_uploader(key="input:upload").set_value(("scan.tif", buf.getvalue(), "image/tiff")).run()
    assert_ok(app)
    assert grid_captions(app)[0].startswith("0. original — 300 × 80 px")
    app.number_input(key="input:page").set_value(3).run()
    assert_ok(app)
    assert grid_captions(app)[0].startswith("0. original — 500 × 80 px")


def test_corrupt_upload_shows_error_and_keeps_previous_image(app: AppTest) -> None:
    before = grid_images(app)
    name = "[broken](http://example.com) *1*.png"  # Markdown in a file name is shown as text
    app.file_uploader(key="input:upload").set_value((name, b"\x89PNG but not really", "image/png"))
    app.run()
    assert_ok(app)
    messages = errors(app)
    assert len(messages) == 1 and name in messages[0] and "previous image" in messages[0]
    assert "\\[broken\\]" in app.error[0].value and "\\*1\\*" in app.error[0].value
    assert grid_images(app) == before
    # the page keeps working: a slider still changes the output
    app.slider(key=f"stage:{uid_of(app, 'threshold')}:value").set_value(200).run()
    assert_ok(app)
    assert grid_images(app)["3. threshold"] != before["3. threshold"]


def test_camera_is_off_until_toggled(app: AppTest) -> None:
    assert len(app.camera_input) == 0
    app.toggle(key="input:camera_on").set_value(True).run()
    assert_ok(app)
    assert len(app.camera_input) == 1
    _, jpg = cv2.imencode(".jpg", sources.generated_image(width=400, seed=5))
    app.camera_input(key="input:camera").upload("photo.jpg", jpg.tobytes()).run()
    assert_ok(app)
    assert grid_captions(app)[0].startswith("0. original — 400 × 160 px")


# -------------------------------------------------------------------------- page: editing


def test_slider_changes_the_stage_output(app: AppTest) -> None:
    before = grid_images(app)
    key = f"stage:{uid_of(app, 'threshold')}:value"
    assert app.slider(key=key).value == 120
    app.slider(key=key).set_value(60).run()
    assert_ok(app)
    after = grid_images(app)
    assert after["3. threshold"] != before["3. threshold"]
    assert after["2. median_blur"] == before["2. median_blur"]  # earlier stages untouched
    caption = next(c for c in grid_captions(app) if c.startswith("2. median_blur"))
    assert caption.endswith("· cached")


def test_sidebar_is_sent_after_the_reading_when_the_user_changed_one_of_its_values(
    dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a slider move the browser already shows the sidebar, so it goes out last; a run that
    changes the sidebar (first run, Add stage, Undo) draws it before the reading, values intact."""
    from studio import result_view, sidebar

    order: list[str] = []
    draw, panel = sidebar.draw, result_view.result_panel
    monkeypatch.setattr(sidebar, "draw", lambda: (order.append("sidebar"), draw())[1])
    monkeypatch.setattr(result_view, "result_panel", lambda *a: (order.append("reading"), panel(*a))[1])
    app = new_app(open_stages=False).run()
    assert_ok(app)
    assert order == ["sidebar", "reading"]
    uid = uid_of(app, "threshold")
    app.session_state[S.open_key(uid)] = True  # the user opens the stage: a run of its own
    app.run()
    key = S.param_key(uid, "value")
    order.clear()
    app.slider(key=key).set_value(60).run()
    assert_ok(app)
    assert order == ["reading", "sidebar"]
    assert app.slider(key=key).value == 60
    order.clear()
    app.button(key=K.ADD_GO).click().run()
    assert_ok(app)
    assert order == ["sidebar", "reading"]
    assert app.slider(key=key).value == 60
    order.clear()
    app.run()  # a rerun no widget asked for
    assert order == ["sidebar", "reading"]


def test_only_open_stages_draw_their_widgets_and_closed_ones_keep_their_values(
    dirs: tuple[Path, Path],
) -> None:
    app = new_app(open_stages=False).run()
    assert_ok(app)
    uid = uid_of(app, "threshold")
    key = S.param_key(uid, "value")
    index = [e["uid"] for e in app.session_state["stages"]].index(uid)
    assert not app.sidebar.expander[index].children  # closed: none of its widgets is sent
    assert key not in [w.key for w in app.sidebar.slider]
    widgets_closed = len(app.sidebar.slider)
    app.session_state[S.open_key(uid)] = True
    app.run()
    assert_ok(app)
    assert app.slider(key=key).value == 120 and len(app.sidebar.slider) > widgets_closed
    app.slider(key=key).set_value(60).run()
    before = grid_images(app)["3. threshold"]
    app.session_state[S.open_key(uid)] = False  # closed again: the value stays and still applies
    app.run()
    app.run()
    assert_ok(app)
    assert key not in [w.key for w in app.sidebar.slider]
    assert grid_images(app)["3. threshold"] == before
    app.session_state[S.open_key(uid)] = True
    app.run()
    assert app.slider(key=key).value == 60


def test_odd_slider_steps_by_two(app: AppTest) -> None:
    slider = app.slider(key=f"stage:{uid_of(app, 'median_blur')}:ksize_w")
    assert (slider.min, slider.max, slider.step) == (1, 51, 2)


def test_toggling_a_stage_off_removes_its_column(app: AppTest) -> None:
    uid = uid_of(app, "median_blur")
    assert "2. median_blur" in grid_images(app)
    app.toggle(key=f"on:{uid}").set_value(False).run()
    assert_ok(app)
    assert "2. median_blur" not in grid_images(app)
    assert len(grid_captions(app)) == 5
    assert any(e.label == "2. Remove salt-and-pepper noise (off)" for e in app.sidebar.expander)


def test_move_keeps_widget_state_and_remove(app: AppTest) -> None:
    median = uid_of(app, "median_blur")
    app.slider(key=f"stage:{median}:ksize_w").set_value(7).run()
    app.button(key=f"down:{median}").click().run()
    assert_ok(app)
    assert [e["stage"] for e in app.session_state["stages"]][1:3] == ["threshold", "median_blur"]
    assert app.slider(key=f"stage:{median}:ksize_w").value == 7
    assert "3. median_blur" in grid_images(app)
    app.button(key=f"remove:{median}").click().run()
    assert_ok(app)
    assert "median_blur" not in [e["stage"] for e in app.session_state["stages"]]
    assert not any("median_blur" in c for c in grid_captions(app))


def test_add_stage_appends_it_with_default_widgets(app: AppTest) -> None:
    app.selectbox(key="add:stage").set_value("invert")
    app.button(key="add:go").click().run()
    assert_ok(app)
    assert app.session_state["stages"][-1]["stage"] == "invert"
    assert "6. invert" in grid_images(app)
    app.selectbox(key="add:stage").set_value("pad")
    app.button(key="add:go").click().run()
    uid = uid_of(app, "pad")
    assert app.slider(key=f"stage:{uid}:size").value == 10
    assert app.selectbox(key=f"stage:{uid}:color").value == "white"
    assert grid_captions(app)[-1].startswith("7. pad")


def test_invalid_settings_show_an_error_and_keep_the_last_valid_ones(app: AppTest) -> None:
    uid = uid_of(app, "component_filter")
    app.number_input(key=f"stage:{uid}:min_area").set_value(500).run()
    app.number_input(key=f"stage:{uid}:max_area").set_value(10).run()
    assert_ok(app)
    messages = errors(app)
    assert len(messages) == 1 and "component_filter" in messages[0] and "not valid" in messages[0]
    assert len(grid_captions(app)) == 6  # still processing, with the last valid settings
    assert unpack(app.query_params["p"]).stages[3].params.max_area == 100_000_000


def test_moving_a_stage_before_its_source_is_reported(app: AppTest) -> None:
    hull = uid_of(app, "hull_mask")
    assert app.selectbox(key=f"source:{hull}").value == uid_of(app, "grayscale")
    for _ in range(4):
        app.button(key=f"up:{hull}").click().run()
    assert_ok(app)
    assert app.session_state["stages"][0]["stage"] == "hull_mask"
    assert any("hull_mask" in m and "source" in m for m in errors(app))


def test_a_failing_stage_shows_its_error_and_the_page_keeps_working(
    app: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    import studio.grid_view

    def failing_run(image: np.ndarray, preset: Preset, **_: object) -> None:
        raise StageError("stage 3 (threshold) failed on this image: test failure")

    real_run = studio.grid_view.run
    monkeypatch.setattr(studio.grid_view, "run", failing_run)
    app.slider(key=f"stage:{uid_of(app, 'threshold')}:value").set_value(10).run()
    assert_ok(app)
    assert any("test failure" in m for m in errors(app))
    assert grid_captions(app) == ["0. original"]
    assert len(app.code) >= 2  # the OCR panel still reads the original image
    monkeypatch.setattr(studio.grid_view, "run", real_run)
    app.run()
    assert_ok(app)
    assert len(grid_captions(app)) == 6 and not errors(app)


def test_undo_restores_the_previous_value(app: AppTest) -> None:
    key = f"stage:{uid_of(app, 'threshold')}:value"
    assert app.button(key="undo").disabled
    app.slider(key=key).set_value(90).run()
    assert not app.button(key="undo").disabled  # enabled right after the first edit
    app.slider(key=key).set_value(180).run()
    app.button(key="undo").click().run()
    assert_ok(app)
    assert app.slider(key=f"stage:{uid_of(app, 'threshold')}:value").value == 90


def test_preset_picker_and_invalid_preset_upload(app: AppTest) -> None:
    app.selectbox(key="preset:pick").set_value("other").run()
    assert_ok(app)
    assert [e["stage"] for e in app.session_state["stages"]] == ["grayscale", "threshold"]
    bad = b"schema_version: 1\nstages:\n  - stage: threshold\n    params: {value: 999}\n"
    app.file_uploader(key="preset:upload").set_value(("bad.yaml", bad, "application/x-yaml")).run()
    assert_ok(app)
    messages = errors(app)
    assert len(messages) == 1 and "bad.yaml" in messages[0] and "999" in messages[0]
    assert [e["stage"] for e in app.session_state["stages"]] == ["grayscale", "threshold"]
    good = TEST_PRESET.replace("value: 120", "value: 77").encode()
    app.file_uploader(key="preset:upload").set_value(("good.yaml", good, "application/x-yaml")).run()
    assert_ok(app)
    assert app.slider(key=f"stage:{uid_of(app, 'threshold')}:value").value == 77


def test_ocr_settings_change_the_preset(app: AppTest) -> None:
    app.selectbox(key="ocr:psm").set_value(7)
    app.text_input(key="ocr:whitelist").input("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ/-").run()
    assert_ok(app)
    shared = unpack(app.query_params["p"])
    assert shared.ocr.psm == 7 and shared.ocr.whitelist.startswith("0123")
    assert "eng" in app.multiselect(key="ocr:lang").options


def test_alternative_psm_is_read_and_reported(app: AppTest) -> None:
    app.selectbox(key="ocr:psm").set_value(7)
    app.multiselect(key="ocr:alternative_psm").set_value([6, 11]).run()
    assert_ok(app)
    assert unpack(app.query_params["p"]).ocr.alternative_psm == (6, 11)
    lines = [m.value for m in app.markdown if "best mode: " in m.value]
    assert len(lines) == 2  # the original and the cleaned image
    assert all(any(f"(mode {n})" in line for n in (6, 7, 11)) for line in lines), lines
    # Choosing an alternative as the main mode drops it from the alternatives, no error.
    app.selectbox(key="ocr:psm").set_value(6).run()
    assert_ok(app)
    assert not errors(app)
    assert unpack(app.query_params["p"]).ocr.alternative_psm == (11,)


def test_alternative_blur_is_kept_read_and_reported() -> None:
    preset = parse_preset(TEST_PRESET.replace("lang: eng", "lang: eng, alternative_blur: [0.7]"))
    assert preset.ocr.alternative_blur == (0.7,)
    at = new_app()
    at.query_params["p"] = pack(preset)
    at.run()
    assert_ok(at)
    lines = [m.value for m in at.markdown if "softened" in m.value]
    assert len(lines) == 2, lines  # the original and the cleaned image each say which copy was kept
    assert all("read softened (0.7 px blur)" in line or "read as it is" in line for line in lines), lines
    assert unpack(at.query_params["p"]).ocr.alternative_blur == (0.7,)  # no widget, still shared


def test_also_read_original_is_kept_and_the_kept_reading_named() -> None:
    from pipeline.auto import shipped_preset

    preset = shipped_preset("gray-band-captcha")
    assert preset.ocr.also_read_original and preset.ocr.engine == "rapidocr"
    at = new_app()
    at.query_params["p"] = pack(preset)
    at.run(timeout=120)
    assert_ok(at)
    lines = [m.value for m in at.markdown if "kept" in m.value and "reading" in m.value]
    assert len(lines) == 1, (
        lines
    )  # the cleaned image's reading says which was kept; the original's has no choice
    assert "kept the original image's reading" in lines[0] or "kept this image's reading" in lines[0], lines
    assert unpack(at.query_params["p"]).ocr.also_read_original  # no widget, still shared


def test_missing_language_shows_an_error_and_the_page_keeps_working(dirs: tuple[Path, Path]) -> None:
    preset = parse_preset(TEST_PRESET.replace("lang: eng", "lang: zzz"))
    at = new_app()
    at.query_params["p"] = pack(preset)
    at.run()
    assert_ok(at)
    messages = errors(at)
    assert messages and all("zzz" in m for m in messages)
    assert len(grid_captions(at)) == 6
    assert at.multiselect(key="ocr:lang").value == ["zzz"]


def test_ocr_timeout_is_reported_and_the_page_stays_usable(dirs: tuple[Path, Path]) -> None:
    preset = parse_preset(TEST_PRESET.replace("psm: 6}", "psm: 6, timeout_s: 0.5}"))
    assert preset.ocr.timeout_s == 0.5
    at = new_app()
    at.query_params["p"] = pack(preset)
    at.run()
    assert_ok(at)
    # a dense page: far more text than Tesseract reads in half a second
    label = sources.generated_image(width=600)
    page = np.tile(label, (12, 4, 1) if label.ndim == 3 else (12, 4))
    start = time.monotonic()
    at.file_uploader(key="input:upload").set_value(("page.png", png_bytes(page), "image/png")).run()
    elapsed = time.monotonic() - start
    assert_ok(at)
    messages = errors(at)
    assert messages and any("took longer than 0.5 s" in m for m in messages), messages
    assert elapsed < 20, f"the page waited {elapsed:.1f} s for a 0.5 s OCR timeout"
    assert grid_captions(at)[0].startswith(f"0. original — {page.shape[1]} × {page.shape[0]} px")
    # still usable: a slider changes the threshold stage
    at.slider(key=f"stage:{uid_of(at, 'threshold')}:value").set_value(90).run()
    assert_ok(at)


# ------------------------------------------------------------------------------- page: views


def test_removed_pixels_overlay(app: AppTest) -> None:
    before = grid_images(app)
    app.toggle(key="view:removed").set_value(True).run()
    assert_ok(app)
    caption = next(c for c in grid_captions(app) if c.startswith("4. component_filter"))
    assert "px removed" in caption
    assert grid_images(app)["4. component_filter"] != before["4. component_filter"]
    gray = next(c for c in grid_captions(app) if c.startswith("2. median_blur"))
    assert "removed" not in gray  # not a binary stage


def test_columns_per_row(app: AppTest) -> None:
    def grid_weights() -> set[float]:
        compare = {id(i) for e in app.expander for i in e.image}
        return {
            round(c.weight, 3)
            for c in app.main.columns
            if any(id(i) not in compare and i.proto.imgs[0].caption[:1].isdigit() for i in c.image)
        }

    assert grid_weights() == {round(1 / 3, 3)}  # default: 3 images per row
    app.slider(key="view:cols").set_value(5).run()
    assert_ok(app)
    assert grid_weights() == {0.2}
    assert len(grid_captions(app)) == 6


def test_compare_view_shows_two_chosen_images(app: AppTest) -> None:
    assert not [e for e in app.expander if e.label == "Compare two images"]  # made only when asked
    app.toggle(key="view:compare").set_value(True).run()
    assert app.selectbox(key="cmp:a").value == "input"
    app.selectbox(key="cmp:b").set_value("3. threshold").run()
    assert_ok(app)
    compare = [i.proto.imgs[0].caption for e in app.expander for i in e.image]
    assert compare[0].startswith("0. original") and compare[1].startswith("3. threshold")


def test_word_boxes_are_drawn_only_when_asked(app: AppTest) -> None:
    def boxes() -> list[str]:
        return [i.proto.imgs[0].caption for i in app.image if i.proto.imgs[0].caption.startswith("Words")]

    assert boxes() == []
    app.toggle(key="view:boxes").set_value(True).run()
    assert_ok(app)
    assert len(boxes()) == 1


def test_expected_text_gives_cer_and_an_escaped_diff(app: AppTest) -> None:
    app.text_area(key="ocr:expected").input("<b>LOT</b> 4471-B").run()
    assert_ok(app)
    original, cleaned = cer_lines(app)
    assert re.match(r"\*\*CER \d+\.\d%\*\*", original) and "%" in cleaned
    html = "".join(h.proto.body for h in app.get("html"))
    assert "&lt;b&gt;" in html and "<b>" not in html
    app.text_area(key="ocr:expected").input("").run()
    assert not cer_lines(app)


# --------------------------------------------------------------------------- page: sharing


def test_download_returns_yaml_of_the_current_settings(
    dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = MediaSpy(monkeypatch)
    at = new_app().run()
    at.slider(key=f"stage:{uid_of(at, 'threshold')}:value").set_value(150)
    at.text_input(key="preset:name").input("my tuned").run()
    assert_ok(at)
    button = at.get("download_button")[0]
    assert button.proto.label == "Download preset (YAML)"
    data = spy.read(button.proto.url)
    preset = parse_preset(data.decode("utf-8"), "download")
    assert preset.name == "my tuned"
    assert preset.stages[2].params.value == 150
    expected = parse_preset(TEST_PRESET).model_copy(update={"name": "my tuned"})
    assert [s.stage for s in preset.stages] == [s.stage for s in expected.stages]
    assert preset.stages[4].source == "gray" and preset.ocr == expected.ocr


def test_share_link_restores_exact_settings(dirs: tuple[Path, Path]) -> None:
    data = yaml.safe_load(TEST_PRESET)
    data["name"] = "shared one"
    data["stages"][1]["params"] = {"ksize_w": 5, "ksize_h": 7}
    data["stages"][2]["params"] = {"method": "fixed", "value": 140}
    data["stages"][4]["enabled"] = False
    data["ocr"] = {"lang": "eng", "psm": 7, "whitelist": "ABC"}
    preset = parse_preset(yaml.safe_dump(data))
    at = new_app()
    at.query_params["p"] = pack(preset)
    at.run()
    assert_ok(at)
    assert not errors(at)
    assert at.text_input(key="preset:name").value == "shared one"
    assert at.slider(key=f"stage:{uid_of(at, 'median_blur')}:ksize_w").value == 5
    assert at.slider(key=f"stage:{uid_of(at, 'median_blur')}:ksize_h").value == 7
    assert at.slider(key=f"stage:{uid_of(at, 'threshold')}:value").value == 140
    assert at.toggle(key=f"on:{uid_of(at, 'hull_mask')}").value is False
    assert at.selectbox(key="ocr:psm").value == 7
    assert at.text_input(key="ocr:whitelist").value == "ABC"
    assert "5. hull_mask" not in grid_images(at)
    assert unpack(at.query_params["p"]).to_dict() == preset.to_dict()


def test_invalid_share_link_shows_error_and_keeps_defaults(dirs: tuple[Path, Path]) -> None:
    at = new_app()
    at.query_params["p"] = "1not-a-real-link"
    at.run()
    assert_ok(at)
    messages = errors(at)
    assert len(messages) == 1 and "share link" in messages[0]
    assert [e["stage"] for e in at.session_state["stages"]][:3] == ["grayscale", "median_blur", "threshold"]
    assert len(grid_captions(at)) == 6


def test_url_follows_edits(app: AppTest) -> None:
    first = unpack(app.query_params["p"])
    assert first.stages[2].params.value == 120
    app.slider(key=f"stage:{uid_of(app, 'threshold')}:value").set_value(99).run()
    assert unpack(app.query_params["p"]).stages[2].params.value == 99
    link = [c.value for c in app.code][-1]
    assert "?p=" + app.query_params["p"] + "&sample=" in link  # the settings and the image


def test_save_refuses_traversal_and_overwrite_without_confirmation(
    app: AppTest, dirs: tuple[Path, Path]
) -> None:
    presets, _ = dirs
    saved_dir = sources.user_presets_dir()
    app.text_input(key="save:name").input("../../evil").run()
    app.button(key="save:go").click().run()
    assert_ok(app)
    assert any("not a valid preset file name" in m for m in errors(app))
    assert not (presets.parent.parent / "evil.yaml").exists() and not (saved_dir / "evil.yaml").exists()

    app.text_input(key="save:name").input("My Label v2").run()
    app.button(key="save:go").click().run()
    saved = saved_dir / "my-label-v2.yaml"
    assert saved.is_file() and not errors(app)
    assert not (presets / "my-label-v2.yaml").exists()  # the shipped folder is never written
    assert parse_preset(saved.read_text()).stages[2].params.value == 120

    app.slider(key=f"stage:{uid_of(app, 'threshold')}:value").set_value(33).run()
    app.button(key="save:go").click().run()
    assert any("already exists" in m for m in errors(app))
    assert parse_preset(saved.read_text()).stages[2].params.value == 120  # untouched

    app.checkbox(key="save:overwrite").check().run()
    app.button(key="save:go").click().run()
    assert not errors(app)
    assert parse_preset(saved.read_text()).stages[2].params.value == 33
    assert "my-label-v2" in app.selectbox(key="preset:pick").options
    assert app.checkbox(key="save:overwrite").value is False  # unticked after the save

    app.slider(key=f"stage:{uid_of(app, 'threshold')}:value").set_value(44).run()
    app.button(key="save:go").click().run()  # the box is no longer ticked: refused again
    assert any("already exists" in m for m in errors(app))
    assert parse_preset(saved.read_text()).stages[2].params.value == 33


def test_shipped_presets_cannot_be_replaced_from_the_page(app: AppTest, dirs: tuple[Path, Path]) -> None:
    presets, _ = dirs
    before = (presets / "test-line.yaml").read_text()
    app.text_input(key="save:name").input("test-line").run()
    app.checkbox(key="save:overwrite").check().run()
    app.button(key="save:go").click().run()
    assert_ok(app)
    assert any("shipped preset" in m and "test-line-2" in m for m in errors(app))
    assert (presets / "test-line.yaml").read_text() == before
    assert not (sources.user_presets_dir() / "test-line.yaml").exists()
    # A file named like a shipped preset in the saved folder (put there by hand) is never offered.
    sources.user_presets_dir().mkdir(parents=True, exist_ok=True)
    (sources.user_presets_dir() / "test-line.yaml").write_text(OTHER_PRESET, encoding="utf-8")
    assert sources.all_presets()["test-line"] == presets / "test-line.yaml"
    # A new visitor starts from the shipped preset.
    fresh = new_app().run()
    assert_ok(fresh)
    assert fresh.selectbox(key="preset:pick").value == "test-line"
    assert fresh.text_input(key="preset:name").value == parse_preset(before).name


def test_python_export_button_is_generated_on_click(dirs: tuple[Path, Path]) -> None:
    at = new_app().run()
    assert_ok(at)
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == ["Download preset (YAML)", "Export as Python script"]
    assert buttons[1].proto.deferred_file_id  # generated on click, not on every rerun


# ------------------------------------------------------------------------ unit: overlays


def test_downscale_limits_the_longest_side_and_keeps_small_images() -> None:
    big = np.zeros((1200, 2000, 3), np.uint8)
    small = overlays.downscale(big, 900)
    assert small.shape == (540, 900, 3)
    tiny = np.zeros((100, 50), np.uint8)
    assert overlays.downscale(tiny, 900) is tiny


def test_downscale_shrinks_by_a_whole_factor_when_that_keeps_it_large_enough() -> None:
    photo = np.random.default_rng(1).integers(0, 256, (1201, 1701), dtype=np.uint8)
    small = overlays.downscale(photo, 900)
    assert small.shape == (600, 850)  # 2x; the odd last row and column are left out
    block = photo[:2, :2].astype(float).mean()
    assert abs(int(small[0, 0]) - block) <= 0.5  # each pixel is the mean of a 2x2 block
    assert overlays.preview_scale(photo.shape, 900) == 0.5
    assert overlays.downscale(np.zeros((3024, 4032), np.uint8), 900).shape == (604, 806)  # 5x


def test_preview_is_encoded_small_and_in_the_right_format() -> None:
    binary = np.where(np.random.default_rng(0).random((1500, 1000)) > 0.5, 255, 0).astype(np.uint8)
    data = overlays.encode_preview(binary)
    assert overlays.image_format(data) == "PNG"
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert 0.75 * overlays.PREVIEW_SIDE <= max(decoded.shape) <= overlays.PREVIEW_SIDE
    photo = sources.generated_image(width=1200)
    assert overlays.image_format(overlays.encode_preview(photo)) == "JPEG"


def test_removed_mask_and_overlay() -> None:
    before = np.full((10, 10), 255, np.uint8)
    before[2, 3] = 0  # a speck the stage removes
    before[5:8, 5:8] = 0  # ink the stage keeps
    after = before.copy()
    after[2, 3] = 255
    mask = overlays.removed_mask(before, after)
    assert mask is not None and mask.sum() == 1 and mask[2, 3]
    made = overlays.removed_overlay(before, after)
    assert made is not None
    rgb, count = made
    assert count == 1
    assert tuple(rgb[2, 3]) == overlays.REMOVED_RGB
    assert tuple(rgb[6, 6]) == (0, 0, 0) and tuple(rgb[0, 0]) == (255, 255, 255)
    assert overlays.removed_mask(before, after[:5]) is None


def test_removed_speck_survives_downscaling() -> None:
    before = np.full((2000, 2000), 255, np.uint8)
    before[1001, 1001] = 0
    after = np.full((2000, 2000), 255, np.uint8)
    made = overlays.removed_overlay(before, after, max_side=500)
    assert made is not None
    rgb, count = made
    assert count == 1 and rgb.shape == (500, 500, 3)
    assert (np.all(rgb == overlays.REMOVED_RGB, axis=2)).sum() >= 1


def test_confidence_colours_go_from_red_to_green() -> None:
    r0, g0, _ = overlays.confidence_rgb(0)
    r100, g100, _ = overlays.confidence_rgb(100)
    assert r0 > 200 and g0 < 50
    assert g100 > 150 and r100 < 50
    greens = [overlays.confidence_rgb(c)[1] for c in range(0, 51, 10)]
    assert greens == sorted(greens)
    assert overlays.confidence_rgb(float("nan")) == overlays.confidence_rgb(0)


def test_word_boxes_are_drawn_scaled_in_the_confidence_colour() -> None:
    image = np.full((1000, 2000), 255, np.uint8)
    word = types.SimpleNamespace(left=400, top=200, width=200, height=100, conf=95.0)
    out = overlays.word_boxes(image, [word], max_side=1000)
    assert out.shape == (500, 1000, 3)
    colour = overlays.confidence_rgb(95.0)
    assert tuple(out[100, 250]) == colour  # on the left edge, at half scale
    assert tuple(out[125, 250]) == (255, 255, 255) or tuple(out[125, 250]) == colour
    assert tuple(out[125, 260]) == (255, 255, 255)  # inside the box stays untouched


def test_preview_cache_is_keyed_by_identity() -> None:
    cache = overlays.PreviewCache(max_entries=4)
    calls = []
    a = np.zeros((4, 4), np.uint8)
    assert cache.get_or_make((a,), "t", lambda: calls.append(1) or b"x") == b"x"
    assert cache.get_or_make((a,), "t", lambda: calls.append(1) or b"y") == b"x"
    b = a.copy()  # equal pixels, another array: must not reuse a's entry blindly
    assert cache.get_or_make((b,), "t", lambda: b"z") == b"z"
    assert cache.get_or_make((a,), "other tag", lambda: b"w") == b"w"
    assert calls == [1]
    for i in range(6):
        cache.get_or_make((np.zeros(1),), i, lambda: b"")
    assert len(cache) == 4


# ------------------------------------------------------------------------- unit: widgets


def _field(stage: str, field: str) -> WidgetSpec:
    return widget_spec(field_spec(all_stages()[stage].params, field))


def test_odd_fields_step_by_two_from_an_odd_minimum() -> None:
    spec = _field("median_blur", "ksize_w")
    assert (spec.kind, spec.min, spec.max, spec.step, spec.is_int) == ("slider", 1, 51, 2, True)
    spec = _field("background_flatten", "size")
    assert spec.min % 2 == 1 and spec.max % 2 == 1 and spec.step == 2


def test_literal_bool_float_and_huge_ranges() -> None:
    method = _field("threshold", "method")
    assert method.kind == "select" and "otsu" in method.options and method.default == "otsu"
    assert _field("threshold", "invert").kind == "toggle"
    k = _field("threshold", "k")
    assert (k.kind, k.min, k.max, k.step, k.is_int) == ("slider", -1.0, 1.0, 0.01, False)
    area = _field("component_filter", "max_area")
    assert area.kind == "number" and (area.max - area.min) / area.step > MAX_SLIDER_STEPS
    assert _field("bilateral", "diameter").kind == "slider"


def test_help_has_the_description_and_the_range() -> None:
    spec = _field("median_blur", "ksize_w")
    info = all_stages()["median_blur"].params.model_fields["ksize_w"]
    assert info.description and info.description in spec.help and "1..51, odd" in spec.help


def test_optional_and_text_fields() -> None:
    dpi = widget_spec(field_spec(OcrOptions, "dpi"))
    assert dpi.kind == "slider" and dpi.is_int and dpi.default is None
    lang = widget_spec(field_spec(OcrOptions, "lang"))
    assert lang.kind == "text" and lang.default == "eng"


def test_coerce_rounds_to_the_step_and_clamps() -> None:
    k = _field("threshold", "k")
    assert k.coerce(0.1 + 0.2) == 0.3
    assert k.coerce(5) == 1.0
    assert _field("median_blur", "ksize_w").coerce(7.0) == 7
    assert isinstance(_field("median_blur", "ksize_w").coerce(7.0), int)
    assert _field("threshold", "method").coerce("nonsense") == "otsu"


def test_every_registered_field_maps_to_a_usable_widget() -> None:
    for name, stage in all_stages().items():
        for spec in specs_for(stage.params):
            assert spec.help, (name, spec.field)
            if spec.kind in ("slider", "number") and spec.min is not None:
                assert spec.min <= spec.default <= spec.max, (name, spec.field)
                if spec.step == 2 and spec.is_int:
                    assert (spec.default - spec.min) % 2 == 0, (name, spec.field)
            if spec.kind == "select":
                assert spec.default in spec.options


def test_humanize() -> None:
    assert humanize("block_size") == "Block size"
    assert humanize("k") == "k"


# --------------------------------------------------------------------------- unit: state


def test_state_round_trips_a_preset_and_keys_follow_uids() -> None:
    ss: dict = {}
    preset = parse_preset(TEST_PRESET)
    S.load_preset(ss, preset)
    built, problem = S.build_preset(ss)
    assert problem is None and built.to_dict() == preset.to_dict()
    uids = [e["uid"] for e in ss[K.STAGES]]
    assert len(set(uids)) == 5
    ss[S.param_key(uids[1], "ksize_w")] = 9
    S.move_stage(ss, uids[1], 1)
    assert [e["uid"] for e in ss[K.STAGES]][2] == uids[1]
    built, _ = S.build_preset(ss)
    assert built.stages[2].stage == "median_blur" and built.stages[2].params.ksize_w == 9
    S.load_preset(ss, preset)  # reloading never reuses uids
    assert not set(uids) & {e["uid"] for e in ss[K.STAGES]}


def test_removing_a_source_resets_readers_to_the_input() -> None:
    ss: dict = {}
    S.load_preset(ss, parse_preset(TEST_PRESET))
    gray = ss[K.STAGES][0]["uid"]
    S.remove_stage(ss, gray)
    built, problem = S.build_preset(ss)
    assert problem is None and built.stages[-1].source == "input"
    assert "hull_mask" in ss[K.NOTICE]


def test_invalid_edit_keeps_the_last_valid_preset_and_undo() -> None:
    ss: dict = {}
    S.load_preset(ss, parse_preset(TEST_PRESET))
    cf = ss[K.STAGES][3]["uid"]
    ss[S.param_key(cf, "min_area")] = 50
    good, problem = S.build_preset(ss)
    assert problem is None and good.stages[3].params.min_area == 50
    S.remember(ss)
    ss[S.param_key(cf, "max_area")] = 10
    kept, problem = S.build_preset(ss)
    assert problem and "component_filter" in problem and kept == good
    S.remember(ss)
    assert S.undo(ss)
    built, problem = S.build_preset(ss)
    assert problem is None and built.stages[3].params.max_area == 100_000_000
    assert built.stages[3].params.min_area == 50


# ------------------------------------------------------------------------- unit: sources


def test_save_target_refuses_paths_and_slugifies(tmp_path: Path) -> None:
    for bad in ("../x", "a/b", "..", "a\\b", ".hidden", "", "!!!"):
        with pytest.raises(sources.SaveError):
            sources.save_target(bad, tmp_path)
    assert sources.save_target("My Preset 2!", tmp_path) == (tmp_path / "my-preset-2.yaml").resolve()
    assert sources.slugify("  Ünïcode & spaces ") == "n-code-spaces"


def test_save_never_overwrites_without_confirmation(tmp_path: Path) -> None:
    one = Preset(name="one")
    path = sources.save_preset_file(one, "keep", overwrite=False, folder=tmp_path)
    with pytest.raises(sources.SaveError, match="already exists"):
        sources.save_preset_file(Preset(name="two"), "keep", overwrite=False, folder=tmp_path)
    assert parse_preset(path.read_text()).name == "one"
    sources.save_preset_file(Preset(name="two"), "keep", overwrite=True, folder=tmp_path)
    assert parse_preset(path.read_text()).name == "two"


def test_samples_index_and_fallbacks(tmp_path: Path, dirs: tuple[Path, Path]) -> None:
    _, samples = dirs
    found = sources.load_samples(samples)
    assert [s.file for s in sources.one_per_scenario(found)] == ["label.png", "line.png"]
    assert sources.sample_preset(found[0]).name == "test line"
    assert sources.sample_preset(found[1]).name == "other"
    folder = tmp_path / "plain"
    folder.mkdir()
    cv2.imwrite(str(folder / "b.png"), np.zeros((5, 5), np.uint8))
    (folder / "notes.txt").write_text("x")
    assert [s.file for s in sources.load_samples(folder)] == ["b.png"]
    (folder / "samples.yaml").write_text(": not yaml : [")
    assert [s.file for s in sources.load_samples(folder)] == ["b.png"]
    assert [s.file for s in sources.load_samples(tmp_path / "missing")] == [sources.GENERATED]
    (folder / "samples.yaml").write_text("- {file: b.png, title: Bee}\n")  # a new index is read
    assert [s.title for s in sources.load_samples(folder)] == ["Bee"]


def test_samples_are_read_again_only_when_their_folder_changes(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.zeros((5, 5), np.uint8))
    (folder / "samples.yaml").write_text("- {file: a.png, title: A}\n")
    reads: list[int] = []
    real_load = sources.yaml.safe_load
    monkeypatch.setattr(sources.yaml, "safe_load", lambda text: reads.append(1) or real_load(text))
    assert [s.title for s in sources.load_samples(folder)] * 2 == [
        s.title for _ in range(2) for s in sources.load_samples(folder)
    ]
    assert len(reads) == 1
    cv2.imwrite(str(folder / "b.png"), np.zeros((5, 5), np.uint8))
    (folder / "samples.yaml").write_text("- {file: a.png, title: A}\n- {file: b.png, title: B}\n")
    assert [s.title for s in sources.load_samples(folder)] == ["A", "B"] and len(reads) == 2


# ----------------------------------------------------------------------------- unit: OCR


def test_diff_html_escapes_everything() -> None:
    expected, actual = '<script>alert("x")</script> A', "<img src=x onerror=y> B"
    out = studio_ocr.diff_html(expected, actual)
    assert "<script" not in out and "<img" not in out
    text = re.sub(r"<(/?)(div|span|em)\b[^>]*>", "", out)  # drop only the studio's own markup
    assert "<" not in text and ">" not in text  # every user character was escaped
    chunks = char_diff(expected, actual)  # no whitespace to normalise in these texts
    assert html.unescape(text) == "".join(w if op == "equal" else w + g for op, w, g in chunks)
    assert studio_ocr.diff_counts("abc", "abd") == (1, 1)
    assert "line-through" in studio_ocr.diff_html("abc", "ab")


def test_read_text_caches_and_reports_errors() -> None:
    image = np.full((60, 200), 255, np.uint8)
    cv2.putText(image, "HELLO", (10, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.3, 0, 3)
    reading = studio_ocr.read_text(image, OcrOptions(psm=7))
    assert reading.error is None and "HELLO" in reading.result.text
    assert studio_ocr.read_text(image, OcrOptions(psm=7)) == reading
    missing = studio_ocr.read_text(image, OcrOptions(lang="zzz", psm=7))
    assert missing.result is None and "zzz" in missing.error


def test_page_segmentation_offers_only_modes_that_read_text_in_words(app: AppTest) -> None:
    options = app.sidebar.selectbox(key="ocr:psm").options
    assert "one line of text (mode 7)" in options
    assert not any("no text" in o for o in options)  # modes 0 and 2 return no text
    preset = parse_preset(TEST_PRESET.replace("psm: 6", "psm: 2"))
    at = new_app()
    at.query_params["p"] = pack(preset)
    at.run()
    assert_ok(at)
    assert at.sidebar.selectbox(key="ocr:psm").value == 2  # a preset's mode 2 stays, named as such
    assert any("no text" in o for o in at.sidebar.selectbox(key="ocr:psm").options)


def test_more_settings_hide_the_minor_fields_and_keep_their_values(app: AppTest) -> None:
    uid = uid_of(app, "threshold")
    app.selectbox(key=f"stage:{uid}:method").set_value("adaptive_mean").run()  # c is its offset
    assert f"stage:{uid}:window" in [s.key for s in app.sidebar.slider]
    assert f"stage:{uid}:c" not in [w.key for w in (*app.sidebar.slider, *app.sidebar.number_input)]
    app.toggle(key=f"more:{uid}").set_value(True).run()
    field = next(w for w in (*app.sidebar.slider, *app.sidebar.number_input) if w.key == f"stage:{uid}:c")
    field.set_value(5.0).run()
    app.toggle(key=f"more:{uid}").set_value(False).run()
    app.run()
    assert_ok(app)
    assert unpack(app.query_params["p"]).stages[2].params.c == 5.0  # hidden, still in the preset


def test_fields_a_method_does_not_use_are_not_offered_and_keep_their_values(app: AppTest) -> None:
    uid = uid_of(app, "threshold")

    def offered() -> set[str]:
        keys = {w.key for w in (*app.sidebar.slider, *app.sidebar.number_input)}
        return {k.rsplit(":", 1)[1] for k in keys if k.startswith(f"stage:{uid}:")}

    app.selectbox(key=f"stage:{uid}:method").set_value("fixed").run()
    app.slider(key=f"stage:{uid}:value").set_value(99).run()
    assert "value" in offered() and not {"window", "k"} & offered()
    app.selectbox(key=f"stage:{uid}:method").set_value("sauvola").run()
    assert_ok(app)
    assert {"window", "k"} <= offered() and "value" not in offered()
    assert unpack(app.query_params["p"]).stages[2].params.value == 99  # not offered, still kept
    app.selectbox(key=f"stage:{uid}:method").set_value("fixed").run()
    assert app.slider(key=f"stage:{uid}:value").value == 99


def test_undo_goes_back_across_a_sample_switch(app: AppTest) -> None:
    app.slider(key=f"stage:{uid_of(app, 'threshold')}:value").set_value(99).run()
    tuned = unpack(app.query_params["p"])
    app.selectbox(key="input:sample").set_value("line.png").run()
    assert_ok(app)
    assert unpack(app.query_params["p"]).to_dict() != tuned.to_dict()
    app.button(key="undo").click().run()
    assert_ok(app)
    assert unpack(app.query_params["p"]).to_dict() == tuned.to_dict()  # the settings before the switch


def test_parameter_labels_carry_their_unit() -> None:
    assert unit_of("Thickest line erased, measured across it (px); keep it below") == "px"
    assert unit_of("Largest skew searched, either way (degrees).") == "degrees"
    assert unit_of("One of the methods.") is None
    labels = [s.label for s in specs_for(all_stages()["background_flatten"].params)]
    assert "Size, px" in labels
