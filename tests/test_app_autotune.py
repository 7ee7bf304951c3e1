"""The studio's Auto-tune panel (AppTest) and its pure helpers (studio/autotune.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from pipeline.preset import Preset, parse_preset
from pipeline.share import pack, unpack
from pipeline.tuning import format_score
from studio import autotune
from studio import keys as K
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


def start(at: AppTest, trials: int = TRIALS, *, wait: bool = True) -> None:
    """Click Start; with ``wait``, rerun the page (as the progress fragment does) until the search is kept."""
    at.slider(key="tune:trials").set_value(trials)
    at.button(key="tune:start").click().run()
    assert_ok(at)
    if wait:
        wait_for_search(at)


def running_job(at: AppTest) -> Any:
    return at.session_state[K.TUNE_JOB] if K.TUNE_JOB in at.session_state else None  # noqa: SIM401 (no .get)


def wait_for_search(at: AppTest, timeout_s: float = 120.0) -> None:
    """Rerun the page until the search thread has ended and a run has collected its result."""
    job = running_job(at)
    assert job is not None, "no search was started"
    assert job.wait(timeout_s), "the search did not end in time"
    at.run()
    assert_ok(at)
    assert running_job(at) is None  # collected


def stage_values(preset: Preset) -> list[tuple[str, bool, dict[str, Any]]]:
    return [(s.stage, s.enabled, s.params.model_dump(mode="json")) for s in preset.stages]


def test_tunes_the_current_image_for_the_cer_and_applies_a_row_undoably(app: AppTest) -> None:
    assert [e.label for e in app.expander if e.label == "Auto-tune"] == ["Auto-tune"]
    assert ranked_table(app) is None
    assert app.button(key="tune:stop").disabled
    before = unpack(app.query_params["p"])
    start(app, wait=False)
    bar = app.get("progress")  # drawn by the fragment while the search runs
    assert len(bar) == 1 and "Trial" in bar[0].proto.text
    assert not app.button(key="tune:stop").disabled
    wait_for_search(app)
    assert not app.get("progress")  # the search is over: its summary replaces the bar
    assert any(
        plain(c.value).startswith("Tuned 'test line' on the image label.png: all 10 trials")
        for c in app.caption
    )
    assert app.button(key="tune:stop").disabled
    table = ranked_table(app)
    assert table is not None and list(table.columns) == [
        "Rank", "Trial", "Mean CER", "vs. current", "Changes from the current preset",
    ]  # fmt: skip
    assert list(table["Rank"]) == list(range(1, len(table) + 1)) and len(table) >= 2
    scores = list(table["Mean CER"])
    assert scores == sorted(scores)  # best first
    search = app.session_state[K.TUNE_RESULT]
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


def test_results_for_another_image_or_changed_settings_cannot_be_applied(app: AppTest) -> None:
    start(app)
    assert not app.button(key="tune:apply").disabled
    app.slider(key=f"stage:{uid_of(app, 'threshold')}:value").set_value(37).run()  # a change of one's own
    assert app.button(key="tune:apply").disabled
    assert any("settings changed since this search" in w.value for w in app.warning)
    app.button(key="undo").click().run()
    assert not app.button(key="tune:apply").disabled
    rows = app.session_state[K.TUNE_RESULT].result.top(autotune.TOP_ROWS)
    other = next(r for r, info in enumerate(rows, 1) if info.number != 0)
    app.selectbox(key="tune:row").set_value(other)
    app.button(key="tune:apply").click().run()  # applying a row keeps the others applicable
    assert not app.button(key="tune:apply").disabled
    assert app.selectbox(key="input:sample").value == "label.png"
    app.selectbox(key="input:sample").set_value("line.png").run()  # another image
    assert app.button(key="tune:apply").disabled
    assert any("another image" in w.value for w in app.warning)


def test_without_expected_text_it_maximises_the_confidence_and_says_it_is_a_proxy(app: AppTest) -> None:
    app.text_area(key="ocr:expected").input("").run()
    assert any("proxy" in i.value for i in app.info)
    start(app)
    assert any("confidence" in plain(c.value) and "Tuned" in c.value for c in app.caption)
    table = ranked_table(app)
    assert table is not None and "Mean confidence" in table.columns
    scores = list(table["Mean confidence"])
    assert scores == sorted(scores, reverse=True)
    assert app.session_state[K.TUNE_RESULT].result.metric == "confidence"
    assert any("proxy" in c.value for c in app.caption)


def test_the_page_works_during_the_search_and_stop_keeps_the_trials(app: AppTest) -> None:
    """The search runs in a worker thread: other widgets answer meanwhile; Stop ends it early."""
    start(app, trials=autotune.TRIALS_MAX, wait=False)
    job = running_job(app)
    assert job is not None and job.running
    app.toggle(key="view:removed").set_value(True).run()  # another widget, while the search runs
    assert_ok(app)
    assert running_job(app) is job and (job.running or job.search is not None)
    assert len(grid_captions(app)) == 6
    app.button(key="tune:stop").click().run()
    assert_ok(app)
    # the run after Stop may already have collected the ended search: wait on the job itself
    assert job.wait(120.0), "the search did not end in time"
    app.run()
    assert_ok(app)
    assert running_job(app) is None
    result = app.session_state[K.TUNE_RESULT].result
    assert result.stop_reason == "stopped"
    assert 2 <= len(result.trials) < autotune.TRIALS_MAX  # the first batch always runs
    assert ranked_table(app) is not None
    n = len(result.trials)
    assert any(
        f"stopped after {n} of {autotune.TRIALS_MAX} trials with the Stop button" in plain(c.value)
        for c in app.caption
    )


def test_the_search_thread_never_calls_streamlit() -> None:
    """The worker module imports nothing from Streamlit (nor from the studio modules that do)."""
    from studio import tune_job

    tree = ast.parse(Path(tune_job.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and not n.level}
    assert imported and not any(m.split(".")[0] == "streamlit" for m in imported)
    assert not any(isinstance(n, ast.ImportFrom) and n.level for n in ast.walk(tree))  # no studio module


def test_a_job_runs_and_stops_without_streamlit() -> None:
    from studio import sources
    from studio.tune_job import JobSettings, TuneJob

    image = sources.generated_image(width=500, seed=3)
    preset = parse_preset(TEST_PRESET)
    settings = JobSettings(
        trials=200, seed=0, ignore_case=False, ignore_spaces=False, patience=200, time_limit_s=60
    )
    job = TuneJob(preset, [(image, sources.GENERATED_TEXT)], "a test image", settings).start()
    job.stop()
    assert job.wait(60)
    assert job.error is None and job.search is not None
    result = job.search.result
    assert result.stop_reason == "stopped" and len(result.trials) == 2  # the first batch always runs
    progress = job.progress()
    assert not progress.running and progress.latest is result.trials[-1] and progress.best is not None


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
    preview = next(d.value for d in app.dataframe if "Expected text" in d.value.columns)
    assert list(preview["Image"]) == ["a.png", "<b>bad</b>.png"]  # shown as plain text
    assert list(preview["Expected text"]) == [text, "x"]
    start(app, wait=False)
    messages = errors(app)  # shown by the run that starts the search
    assert len(messages) == 1 and "Left out" in messages[0] and "<b>bad</b>.png" in messages[0]
    wait_for_search(app)
    search = app.session_state[K.TUNE_RESULT]
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
