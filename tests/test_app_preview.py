"""Big images in the studio: a reduced-resolution preview first, marked as one, then the
full-resolution stage images (pipeline.preview, studio.grid_view.run_and_show)."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from .test_app import assert_ok, grid_captions, new_app


def _preview_script() -> None:
    """Draws only the preview of the document preset on a 12 MP image whose full run never ends."""
    from concurrent.futures import Future

    import cv2
    import numpy as np
    import streamlit as st

    from pipeline.auto import shipped_preset
    from pipeline.ocr import OcrOptions
    from studio import grid_view, sources
    from studio import keys as K

    page = np.full((3024, 4032), 235, np.uint8)
    cv2.putText(page, "Preview page", (200, 1500), cv2.FONT_HERSHEY_SIMPLEX, 9, 30, 20)
    st.session_state[K.IMAGE] = sources.LoadedImage("photo.png", page)
    preset = shipped_preset("document")
    preset = preset.model_copy(update={"ocr": OcrOptions(engine="tesserocr")})  # its cleaning runs
    grid_view._show_preview(st.session_state[K.IMAGE], preset, Future(), grid_view.controls())


@pytest.fixture
def previews_free(monkeypatch: pytest.MonkeyPatch) -> None:
    """No other preview under way (a heavy one from an earlier test may still run), and no limit
    on the wait for this one: the test is about what is shown, not how soon on a busy machine."""
    from studio import grid_view

    assert grid_view._PREVIEWING.acquire(timeout=300)
    grid_view._PREVIEWING.release()
    monkeypatch.setattr(grid_view, "PREVIEW_WAIT_S", 300.0)


@pytest.mark.usefixtures("previews_free")
def test_a_big_image_is_previewed_at_reduced_size_and_says_so() -> None:
    at = AppTest.from_function(_preview_script, default_timeout=300).run()
    assert_ok(at)
    captions = [i.proto.imgs[0].caption for i in at.image]
    assert captions[0].startswith("0. original — 2016 × 1512 px · preview 1/2"), captions
    assert len(captions) == 6  # the original and the document preset's 5 stages
    assert all(" · preview 1/2" in c for c in captions)
    notes = [i.value for i in at.info if i.value.startswith("Preview at 1/2 size (2016 × 1512 px")]
    assert len(notes) == 1 and "the full 4032 × 3024 px image" in notes[0]
    assert [m.label for m in at.metric] == ["Stages, preview at 1/2 size"]


def test_the_full_resolution_images_replace_the_preview() -> None:
    at = new_app().run()
    page = np.full((2800, 3000), 235, np.uint8)  # 8.4 MP: a big image, previewed at 1/2
    cv2.putText(page, "Big page 42", (150, 1400), cv2.FONT_HERSHEY_SIMPLEX, 8, 30, 18)
    png = cv2.imencode(".png", page)[1].tobytes()
    at.file_uploader(key="input:upload").set_value(("big.png", png, "image/png")).run()
    assert_ok(at)
    captions = grid_captions(at)
    assert captions[0].startswith("0. original — 3000 × 2800 px"), captions
    assert not any("preview" in c for c in captions)
    assert not [i for i in at.info if "Preview at" in i.value]


@pytest.mark.usefixtures("previews_free")
def test_one_preview_at_a_time_in_the_server() -> None:
    """While another session's preview is computed, a session waits for its full run alone."""
    from studio import grid_view

    assert grid_view._PREVIEWING.acquire(blocking=False)
    try:
        at = AppTest.from_function(_preview_script, default_timeout=60).run()
    finally:
        grid_view._PREVIEWING.release()
    assert_ok(at)
    assert not at.image and not at.info


def test_a_big_run_the_page_stopped_waiting_for_does_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.auto import shipped_preset
    from studio import ocr as ocr_view

    calls: list[object] = []
    monkeypatch.setattr(
        ocr_view, "run_stages_isolated", lambda *args: calls.append(args) or ocr_view.run_uncached(*args)
    )
    big = np.full((3000, 3000), 235, np.uint8)
    abandoned = threading.Event()
    ocr_view.run_stages(big, shipped_preset("document"), abandoned)
    assert len(calls) == 1
    abandoned.set()
    with pytest.raises(ocr_view.Abandoned):
        ocr_view.run_stages(big, shipped_preset("document"), abandoned)
    assert len(calls) == 1


def test_a_big_photo_runs_in_a_worker_once_then_from_its_shrunk_stages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The document preset read by Tesseract shrinks a 12 MP photo at stage 2: after the first
    (isolated) run, a move of a later stage's slider starts from the cached shrunk image here."""
    from pipeline.auto import shipped_preset
    from studio import ocr

    calls: list[int] = []

    def isolated(image: np.ndarray, preset: object) -> object:
        calls.append(1)
        return ocr.run_uncached(image, preset)  # type: ignore[arg-type]

    monkeypatch.setattr(ocr, "run_stages_isolated", isolated)
    photo = np.full((3024, 4032), 225, np.uint8)
    for row in range(8):
        cv2.putText(photo, "Big page 42", (150, 300 + 330 * row), cv2.FONT_HERSHEY_SIMPLEX, 5, 30, 14)
    photo[:, ::7] = 215  # a little texture, so no two photos of this test share a digest by chance
    shipped = shipped_preset("document")
    preset = shipped.model_copy(update={"ocr": shipped.ocr.model_copy(update={"engine": "tesserocr"})})
    first = ocr.run_stages(photo, preset)
    assert calls == [1] and first.steps[1].image.shape[0] < 3024 / 2  # shrunk to the text height
    k = next(i for i, s in enumerate(preset.stages) if s.stage == "contrast_binarise")
    moved = preset.stages[k].model_copy(
        update={"params": preset.stages[k].params.model_copy(update={"k": 0.2})}
    )
    changed = preset.model_copy(update={"stages": (*preset.stages[:k], moved, *preset.stages[k + 1 :])})
    second = ocr.run_stages(photo, changed)
    assert calls == [1]  # not isolated again
    assert [s.cached for s in second.steps[:2]] == [True, True] and not second.steps[k].cached
    assert np.array_equal(second.final, ocr.run_uncached(photo, changed).final)
