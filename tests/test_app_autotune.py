"""The studio's Auto-tune panel (AppTest) and its pure helpers (studio/autotune.py)."""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import streamlit
from streamlit.runtime.scriptrunner import StopException
from streamlit.testing.v1 import AppTest

from pipeline.preset import Preset, parse_preset
from pipeline.share import pack, unpack
from pipeline.tuning import format_score
from studio import autotune
from studio import state as S
from tests.test_app import TEST_PRESET, assert_ok, dirs, errors, grid_captions, new_app, png_bytes, uid_of

__all__ = ["dirs"]  # the fixture, imported for these tests

TRIALS = 10  # the slider's minimum: a few seconds on the small test sample


@pytest.fixture
def app(dirs: tuple[Path, Path]) -> AppTest:
    at = new_app().run()
    assert_ok(at)
    return at


def ranked_table(at: AppTest) -> Any:
    """The ranked trials (a DataFrame), or None."""
    tables = [d.value for d in at.dataframe if "Rank" in d.value.columns]
    assert len(tables) <= 1
    return tables[0] if tables else None


def plain(text: str) -> str:
    """Text as the user reads it (the page escapes Markdown in texts that hold names)."""
    return re.sub(r"\\(.)", r"\1", text)


def start(at: AppTest, trials: int = TRIALS) -> None:
    at.slider(key="tune:trials").set_value(trials)
    at.button(key="tune:start").click().run()
    assert_ok(at)


def stage_values(preset: Preset) -> list[tuple[str, bool, dict[str, Any]]]:
    return [(s.stage, s.enabled, s.params.model_dump(mode="json")) for s in preset.stages]


def test_tunes_the_current_image_for_the_cer_and_applies_a_row_undoably(app: AppTest) -> None:
    assert [e.label for e in app.expander if e.label == "Auto-tune"] == ["Auto-tune"]
    assert ranked_table(app) is None
    assert app.button(key="tune:stop").disabled
    before = unpack(app.query_params["p"])
    start(app)

    bar = app.get("progress")
    assert len(bar) == 1 and bar[0].proto.value == 100  # the final state: all trials run
    assert plain(bar[0].proto.text).startswith(
        "Done: Tuned 'test line' on the image label.png: all 10 trials"
    )
    table = ranked_table(app)
    assert table is not None and list(table.columns) == [
        "Rank", "Trial", "Mean CER", "vs. current", "Changes from the current preset",
    ]  # fmt: skip
    assert list(table["Rank"]) == list(range(1, len(table) + 1)) and len(table) >= 2
    scores = list(table["Mean CER"])
    assert scores == sorted(scores)  # best first
    search = app.session_state[autotune.RESULT]
    assert search.result.metric == "cer" and len(search.result.trials) == TRIALS
    assert search.result.base.number == 0

    # apply the best row that is not the current preset (row 1 when a trial beat it)
    rows = search.result.top(autotune.TOP_ROWS)
    rank = next(r for r, info in enumerate(rows, 1) if info.number != 0)
    trial = rows[rank - 1]
    app.selectbox(key="tune:row").set_value(rank)
    app.button(key="tune:apply").click().run()
    assert_ok(app)
    applied = unpack(app.query_params["p"])  # the share link follows
    assert stage_values(applied) == stage_values(trial.preset) and applied.ocr == trial.preset.ocr
    assert stage_values(applied) != stage_values(before) or applied.ocr != before.ocr
    assert app.text_input(key="preset:name").value == "test line (tuned)"
    assert "Auto-tune" in app.text_area(key="preset:description").value
    for (stage, enabled, params), entry in zip(
        stage_values(trial.preset), app.session_state["stages"], strict=True
    ):
        assert entry["stage"] == stage
        assert app.session_state[S.enabled_key(entry["uid"])] is enabled  # the widgets were re-seeded
        for field, value in params.items():
            assert app.session_state[S.param_key(entry["uid"], field)] == value, (stage, field)
    assert app.selectbox(key="ocr:psm").value == trial.preset.ocr.psm
    assert any("Applied rank" in i.value for i in app.info)
    assert ranked_table(app) is not None  # the results survive reruns

    app.button(key="undo").click().run()
    assert_ok(app)
    assert unpack(app.query_params["p"]).to_dict() == before.to_dict()
    assert app.slider(key=f"stage:{uid_of(app, 'threshold')}:value").value == 120


def test_without_expected_text_it_maximises_the_confidence_and_says_it_is_a_proxy(app: AppTest) -> None:
    app.text_area(key="ocr:expected").input("").run()
    assert any("proxy" in i.value for i in app.info)
    start(app)
    bar = app.get("progress")[0].proto
    assert bar.value == 100 and "confidence" in plain(bar.text)
    table = ranked_table(app)
    assert table is not None and "Mean confidence" in table.columns
    scores = list(table["Mean confidence"])
    assert scores == sorted(scores, reverse=True)
    assert app.session_state[autotune.RESULT].result.metric == "confidence"
    assert any("proxy" in c.value for c in app.caption)


def test_a_click_during_the_search_stops_it_and_keeps_the_trials(
    app: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Streamlit delivers a click during a run as an exception at the next st call: simulated here."""
    real = streamlit.progress

    class Bar:
        def __init__(self, bar: Any) -> None:
            self.bar, self.calls = bar, 0

        def progress(self, value: float, text: str | None = None) -> Any:
            self.calls += 1
            if self.calls == 3:  # the third trial's update
                raise StopException()
            return self.bar.progress(value, text=text)

        def empty(self) -> Any:
            return self.bar.empty()

    monkeypatch.setattr(streamlit, "progress", lambda *a, **k: Bar(real(*a, **k)))
    start(app)
    monkeypatch.setattr(streamlit, "progress", real)
    assert ranked_table(app) is None  # this run was stopped
    live = app.session_state[autotune.LIVE]
    assert live["running"] is False and live["stop"] is True
    app.run()  # the run the click asked for takes the trials over
    assert_ok(app)
    result = app.session_state[autotune.RESULT].result
    assert result.stop_reason == "stopped" and len(result.trials) == 4  # the batch of 2 ends
    assert ranked_table(app) is not None
    assert any("stopped after 4 of 10 trials by a click" in plain(c.value) for c in app.caption)

    # with fast reruns the new run starts while the search still runs: it asks it to stop and waits
    live = {"running": True, "stop": False, "search": None}
    handed = dataclasses.replace(app.session_state[autotune.RESULT], on="the handed-over image")

    def searching() -> None:
        while not live["stop"]:
            time.sleep(0.01)
        time.sleep(0.2)  # the current trial ends
        live["search"] = handed
        live["running"] = False

    app.session_state[autotune.LIVE] = live
    thread = threading.Thread(target=searching, daemon=True)
    thread.start()
    app.run()
    thread.join(5)
    assert_ok(app)
    assert app.session_state[autotune.RESULT].on == "the handed-over image"
    assert any("handed-over" in plain(c.value) for c in app.caption)


def test_ocr_errors_are_shown_and_the_page_keeps_working(dirs: tuple[Path, Path]) -> None:
    at = new_app()
    at.query_params["p"] = pack(parse_preset(TEST_PRESET.replace("lang: eng", "lang: zzz")))
    at.run()
    start(at)
    assert any("Auto-tune failed" in m and "zzz" in m for m in errors(at))
    assert ranked_table(at) is None and not at.get("progress")
    assert len(grid_captions(at)) == 6


def test_uploaded_images_with_named_texts_and_a_bad_file(app: AppTest) -> None:
    from studio import sources

    good = png_bytes(sources.generated_image(width=500, seed=3))
    app.radio(key="tune:source").set_value(autotune.UPLOADS).run()
    app.file_uploader(key="tune:files").set_value(
        [("a.png", good, "image/png"), ("<b>bad</b>.png", b"not an image", "image/png")]
    )
    text = sources.GENERATED_TEXT.replace("\n", " ")
    app.text_area(key="tune:texts").input(f"<b>bad</b>.png: x\na.png: {text}").run()
    assert_ok(app)
    preview = next(d.value for d in app.dataframe if "Image" in d.value.columns)
    assert list(preview["Image"]) == ["a.png", "<b>bad</b>.png"]  # shown as plain text
    assert list(preview["Expected text"]) == [text, "x"]
    start(app)
    messages = errors(app)
    assert len(messages) == 1 and "Left out" in messages[0] and "<b>bad</b>.png" in messages[0]
    search = app.session_state[autotune.RESULT]
    assert search.on == "1 uploaded image" and search.result.n_images == 1
    assert ranked_table(app) is not None


# --------------------------------------------------------------------------- unit: helpers


def test_parse_expected_by_order_and_by_name() -> None:
    names = ["a.png", "b.png", "c.png"]
    assert autotune.parse_expected("one\n\nthree\n\n", names) == (["one", None, "three"], "order")
    assert autotune.parse_expected("one", names) == (["one", None, None], "order")
    assert autotune.parse_expected("", names) == ([None, None, None], "order")
    by_name = autotune.parse_expected("c.png: LOT: 12\n\na.png:A B ", names)
    assert by_name == (["A B", None, "LOT: 12"], "name")
    # one line without a known name: all lines are taken in order, colons and all
    assert autotune.parse_expected("a.png: x\nLOT: 12", names) == (["a.png: x", "LOT: 12", None], "order")
    with pytest.raises(ValueError, match="4 lines"):
        autotune.parse_expected("1\n2\n3\n4", names)
    with pytest.raises(ValueError, match="Two lines"):
        autotune.parse_expected("a.png: 1\na.png: 2", names)


def test_patience_and_scores() -> None:
    assert autotune.patience_for(10) == 30 and autotune.patience_for(300) == 100
    assert format_score("cer", 0.0333, short=True) == "CER 3.3%"
    assert format_score("confidence", 87.44, short=True) == "confidence 87.4"
    assert format_score("cer", 0.0333) == "mean CER 0.033"
